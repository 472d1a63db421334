"""OpenAPI 3.1 description of /api/v1. Request bodies come from the pydantic models, so the
document cannot drift from what the API accepts; path and query parameters take their bounds from
the same constants the views check (tracker.vocab's MAX_ID, MAX_PAGE, FIRST_YEAR/LAST_YEAR, its
codes). Each new API route must be added to PATHS; a test compares this table with the app's routes,
and tests/test_api_fuzz.py sends generated requests to every operation and holds every answer to it."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, TypeAdapter

from tracker.api import schemas
from tracker.api.schemas import DAY_SCHEMA
from tracker.vocab import (
    CONFIDENCES,
    DATE_BASES,
    EFFECTS,
    FLAG_STATUSES,
    MAX_CURSOR,
    MAX_FLAGS_PER_PAGE,
    MAX_ID,
    MAX_PAGE,
    MAX_PER_PAGE,
    NOTIONAL_EXEMPTIONS,
    PAYMENT_KINDS,
    PAYMENT_SORTS,
    PAYMENT_STATUSES,
    SEVERITIES,
    VERDICT_MEASURES,
    VERDICT_STATUSES,
)

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}

#: The plain property types the schemas below share.
INTEGER = {"type": "integer"}
TEXT = {"type": "string"}
TEXT_OR_NULL = {"type": ["string", "null"]}


def obj(**properties: dict) -> dict:
    """A JSON object schema with these properties."""
    return {"type": "object", "properties": properties}


PERSON = obj(
    id=INTEGER,
    name=TEXT,
    email=TEXT_OR_NULL,
    phone=TEXT_OR_NULL,
    preferences={"type": "array", "items": {"$ref": "#/components/schemas/PreferenceIn"}},
)

#: The two properties every record of a person has.
OWNED = {"id": {"type": "integer"}, "person_id": {"type": "integer"}}

CLAIM = {
    "type": "object",
    "properties": {
        **OWNED,
        "benefit": {"type": "string"},
        "start_on": {"type": "string", "format": "date"},
        "end_on": {"type": ["string", "null"], "format": "date"},
        "attributes": {"type": "object"},
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


#: Every status the API answers with the one error shape, and what it means.
ERROR_STATUSES = {
    401: "No valid token",
    403: "Your role may not do this",
    404: "Not found, or not visible to you",
    405: "Not allowed",
    409: "State conflict",
    422: "Invalid input",
    429: "Too many requests",
}


def error_responses(codes: Sequence[int]) -> dict:
    """The documented error answers of an operation: each status with the one error shape. Every
    operation behind a token may answer 401, and 429 when the API's throttle is reached."""
    return {
        str(code): {"description": ERROR_STATUSES[code], "content": {"application/json": {"schema": _ref("Error")}}}
        for code in sorted({*codes, 401, 429})
    }


#: An id in a path or a query: a database integer (a bigger number is not found, or a 422).
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


PAGE = query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1})
PER_PAGE = query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50})
ON = query("on", DAY_SCHEMA)
CURSOR = {
    **query("cursor", {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR}),
    "description": "Where the page starts: taken from the previous page's next link (opaque; another list's is a 422)",
}
COUNT = {
    **query("count", {"enum": ["true", "false"], "default": "false"}),
    "description": "true adds total, the number of matching rows (it reads them all: ask only when needed)",
}
#: The answer of every list: a page of items and the address of the next page.
LIST = {
    "type": "object",
    "required": ["items", "per_page", "next"],
    "properties": {
        "items": {"type": "array", "items": {"type": "object"}},
        "per_page": {"type": "integer"},
        "page": {"type": "integer", "description": "The page number asked for (absent with a cursor)"},
        "next": {
            "type": ["string", "null"],
            "description": "The next page's address (the same filters and a cursor); null on the last page",
        },
        "total": {"type": "integer", "description": "Only with count=true"},
    },
}


def operation(
    summary: str,
    *,
    body: str | dict | None = None,
    ok: int = 200,
    ok_schema: dict | None = None,
    errors: Sequence[int] = (401, 404, 422),
    idempotent: bool = False,
    params=(),
) -> dict:
    """An operation: its body, its answer, its errors (a replayable POST may also meet a reused key: 422)."""
    op: dict = {"summary": summary, "responses": {}}
    if body is not None:
        schema = _ref(body) if isinstance(body, str) else body
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    op["responses"][str(ok)] = {
        "description": "OK",
        "content": {"application/json": {"schema": ok_schema or {"type": "object"}}},
    }
    op["responses"].update(error_responses((*errors, 422) if idempotent else errors))
    parameters = list(params)
    if idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
                "description": "The same key and body return the first response; another body is a 422.",
            }
        )
    if parameters:
        op["parameters"] = parameters
    return op


PERSON_ID = path_id("person_id")
LIST_PARAMS = (
    query("person_id", ID),
    query("activity_id", ID),
    query("status", {"enum": list(PAYMENT_STATUSES)}),
    query("kind", {"enum": list(PAYMENT_KINDS)}),
    query("from", DAY_SCHEMA),
    query("to", {**DAY_SCHEMA, "description": "On or after from; dates from 2000 to 2100."}),
    query("sort", {"enum": [*PAYMENT_SORTS, *(f"-{key}" for key in PAYMENT_SORTS)]}),
    PAGE,
    PER_PAGE,
    CURSOR,
    COUNT,
)
FLAG_ID = path_id("flag_id")
DOC_ID = path_id("document_id")
DOCUMENT = {
    "type": "object",
    "properties": {
        **OWNED,
        "kind": {"enum": ["statement", "certificate", "training_certificate"]},
        "start_on": {"type": "string", "format": "date"},
        "end_on": {"type": "string", "format": "date"},
        "status": {"enum": ["queued", "ready", "failed"]},
        "sha256": {"type": ["string", "null"]},
        "failure_reason": {"type": ["string", "null"]},
    },
}
PAYMENT_ID = path_id("payment_id")
PAYMENT = {
    "type": "object",
    "properties": {
        **OWNED,
        "kind": {"enum": list(PAYMENT_KINDS)},
        "amount": {"type": "string"},
        "benefit_value": {"type": ["string", "null"]},
        "currency": {"type": "string"},
        "status": {"enum": list(PAYMENT_STATUSES)},
        "paid_on": {"type": "string", "format": "date"},
        "due_on": {
            "type": ["string", "null"],
            "format": "date",
            "description": "The date it is due (the receipt date unless given)",
        },
        "covers_from": {"type": ["string", "null"], "format": "date"},
        "covers_to": {"type": ["string", "null"], "format": "date"},
        "contribution_ids": {"type": "array", "items": {"type": "integer"}},
        "note": {"type": ["string", "null"]},
        "charity_name": {"type": ["string", "null"]},
        "reversal_of_id": {"type": ["integer", "null"]},
        "import_batch_id": {"type": ["integer", "null"]},
        "check": {
            "description": "The check run when it was recorded (or paid on a new date); null when none was kept",
            "oneOf": [{"$ref": "#/components/schemas/CheckResult"}, {"type": "null"}],
        },
        "message": {
            "type": "string",
            "description": "Present when paying on a new date needed an override: the payment is back in draft",
        },
    },
}


def _create(summary: str, body: str, *, ok: int = 201, errors: Sequence[int] = (401, 403, 422), **more) -> dict:
    """A POST that records something new: replayable with an idempotency key."""
    return operation(summary, body=body, ok=ok, errors=errors, idempotent=True, **more)


def _listing(summary: str) -> dict:
    """A filtered, paginated list of records."""
    return operation(summary, errors=(401, 422), params=LIST_PARAMS, ok_schema=LIST)


def _move(summary: str, param: dict, *, body: str | None = None, ok: int = 200, **more) -> dict:
    """A POST that moves one record on (approve, pay, acknowledge...): it may meet a state conflict."""
    errors = (401, 403, 404, 409, 422) if body else (401, 403, 404, 409)
    return operation(summary, body=body, ok=ok, errors=errors, idempotent=True, params=(param,), **more)


def _payment_move(summary: str, *, body: str | None = None, ok: int = 200) -> dict:
    return _move(summary, PAYMENT_ID, body=body, ok=ok, ok_schema=_ref("Payment"))


PATHS: dict[str, dict] = {
    "/people": {
        "post": _create("Add a person", "PersonIn", ok_schema=PERSON),
        "get": operation(
            "List people (staff only)",
            errors=(401, 403, 422),
            params=(query("q", {"type": "string", "maxLength": 200}), PAGE, PER_PAGE, CURSOR, COUNT),
            ok_schema=LIST,
        ),
    },
    "/people/{person_id}": {"get": operation("A person", ok_schema=PERSON, params=(PERSON_ID,))},
    "/people/{person_id}/preferences": {
        "put": operation(
            "Replace how the person wants to be paid, most preferred first",
            body={"type": "array", "items": _ref("PreferenceIn"), "maxItems": schemas.MAX_PREFERENCES},
            ok_schema=PERSON,
            errors=(401, 403, 404, 422),
            params=(PERSON_ID,),
        )
    },
    "/people/{person_id}/consent": {
        "post": _create(
            "Record consent to hold benefit information", "ConsentIn", errors=(401, 403, 404, 422), params=(PERSON_ID,)
        )
    },
    "/people/{person_id}/claims": {
        "post": _create(
            "Add a benefit claim (needs consent: 409 consent_required)",
            "ClaimIn",
            ok_schema=CLAIM,
            errors=(401, 403, 404, 409, 422),
            params=(PERSON_ID,),
        ),
        "get": operation(
            "The person's benefit claims (every view is audited)", errors=(401, 403, 404), params=(PERSON_ID,)
        ),
    },
    "/people/{person_id}/partner-earnings": {
        "post": _create(
            "Record a partner's earnings: they count only toward household rules (UC joint claims, HB and PC"
            " for a couple); needs consent: 409 consent_required",
            "PartnerEarningIn",
            errors=(401, 403, 404, 409, 422),
            params=(PERSON_ID,),
        ),
        "get": operation(
            "The partner's earnings recorded on the person, newest first (every view is audited)",
            errors=(401, 403, 404),
            params=(PERSON_ID,),
        ),
    },
    "/payments/check": {
        "post": operation(
            "What-if: verdicts and re-checked suggestions for a proposed payment; writes nothing",
            body="PaymentIn",
            ok_schema=_ref("CheckResult"),
            errors=(401, 403, 422),
        )
    },
    "/payments": {
        "post": _create(
            "Record a draft payment; runs the check (409 benefit_rule_block without override_reason; 422 "
            "kind_reason when the kind is not one the person chose)",
            "PaymentIn",
            errors=(401, 403, 409, 422),
        ),
        "get": _listing("Payments, filtered and paginated (a contributor sees only their own)"),
    },
    "/payments/{payment_id}": {
        "get": operation(
            "A payment, with the check shown when it was recorded",
            ok_schema=_ref("Payment"),
            errors=(401, 404),
            params=(PAYMENT_ID,),
        ),
        "delete": {
            "summary": "Never deletes: payments are cancelled or reversed (405, before the token is read)",
            "parameters": [PAYMENT_ID],
            "security": [],
            "responses": error_responses((404, 405)),
        },
    },
    "/payments/{payment_id}/approve": {
        "post": _payment_move(
            "Approve a draft, or a draft reversal entry (which is then paid and nets its payment out); "
            "403 approver_is_recorder or approver_gave_override when you recorded it or gave its override"
        )
    },
    "/payments/{payment_id}/pay": {
        "post": _payment_move(
            "Mark an approved payment paid on the date the person receives it. A new date is checked again: a "
            "block needs override_reason, and then the payment is not paid but goes back to draft (200, "
            "status draft, with the check and a message) for someone other than the overrider to approve",
            body="PayIn",
        )
    },
    "/payments/{payment_id}/cancel": {
        "post": _payment_move("Cancel a draft or approved payment (409 when paid)", body="ReasonIn")
    },
    "/payments/{payment_id}/reverse": {
        "post": _payment_move(
            "Reverse a paid payment: a new entry with the opposite amount, in draft; it counts once someone "
            "other than the reverser approves it (POST /payments/{payment_id}/approve)",
            body="ReasonIn",
            ok=201,
        )
    },
    "/people/{person_id}/position": {
        "get": operation(
            "Where the person stands in the periods containing a date", errors=(401, 404, 422), params=(PERSON_ID, ON)
        )
    },
    "/rules": {"get": operation("The benefit rules in force (all, or on a date)", errors=(401, 422), params=(ON,))},
    "/activities": {
        "post": _create("Add an activity with its rate card", "ActivityIn"),
        "get": operation("List activities", errors=(401, 403)),
    },
    "/contributions": {
        "post": _create("Record that a person took part (value owed comes from the rate card)", "ContributionIn"),
        "get": _listing("Contributions, filtered and paginated (a contributor sees only their own)"),
    },
    "/expenses": {
        "post": _create("Record an expense repaid (kept apart from payments)", "ExpenseIn"),
        "get": _listing("Expenses, filtered and paginated"),
    },
    "/other-income": {"post": _create("Record income the person declared from elsewhere", "OtherIncomeIn")},
    "/documents": {
        "post": operation(
            "Ask for a statement or certificate (202); the same request returns the same document",
            body="DocumentIn",
            ok=202,
            ok_schema=_ref("Document"),
            errors=(401, 404, 422),
            idempotent=True,
        )
    },
    "/documents/{document_id}": {
        "get": operation(
            "A document's status and hash", ok_schema=_ref("Document"), errors=(401, 404), params=(DOC_ID,)
        )
    },
    "/documents/{document_id}/file": {
        "get": {
            "summary": "The PDF (an attachment, not cached); 409 not_ready until it is ready",
            "parameters": [DOC_ID],
            "responses": {
                "200": {"description": "The PDF", "content": {"application/pdf": {}}},
                **error_responses((404, 409)),
            },
        }
    },
    "/documents/batches": {
        "post": _create("Statements for everyone with activity in a period (202, with progress)", "BatchIn", ok=202)
    },
    "/documents/batches/{batch_id}": {
        "get": operation(
            "Batch progress: total, done, ready, failed, failures",
            errors=(401, 403, 404),
            params=(path_id("batch_id"),),
        )
    },
    "/risks": {
        "get": operation(
            "Risk flags (staff; finance sees levels without the benefit)",
            errors=(401, 403, 422),
            params=(
                query("status", {"enum": list(FLAG_STATUSES)}),
                query("person_id", ID),
                PAGE,
                query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_FLAGS_PER_PAGE}),
                CURSOR,
                COUNT,
            ),
            ok_schema=LIST,
        ),
        "post": _create(
            "Raise a flag by hand (409 flag_exists for the same person, rule and period)",
            "RiskIn",
            errors=(401, 403, 409, 422),
        ),
    },
    "/risks/{flag_id}/acknowledge": {"post": _move("Acknowledge an open flag", FLAG_ID, body="NoteIn")},
    "/risks/{flag_id}/resolve": {"post": _move("Resolve a flag", FLAG_ID, body="NoteIn")},
    "/risks/{flag_id}/notes": {
        "post": _create("Add a note to a flag", "NoteTextIn", errors=(401, 403, 404, 422), params=(FLAG_ID,))
    },
    "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OK"}}}},
}

MODELS: list[type[BaseModel]] = [
    schemas.PreferenceIn,
    schemas.PersonIn,
    schemas.ConsentIn,
    schemas.ClaimIn,
    schemas.PaymentIn,
    schemas.PayIn,
    schemas.ReasonIn,
    schemas.ActivityIn,
    schemas.ContributionIn,
    schemas.ExpenseIn,
    schemas.OtherIncomeIn,
    schemas.PartnerEarningIn,
    schemas.DocumentIn,
    schemas.BatchIn,
    schemas.RiskIn,
    schemas.NoteIn,
    schemas.NoteTextIn,
]

MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
VERDICT = {
    "type": "object",
    "required": [
        "rule",
        "benefit",
        "title",
        "period",
        "measure",
        "total_before",
        "total_after",
        "limit",
        "headroom",
        "status",
        "effect",
        "severity",
        "confidence",
        "source",
    ],
    "properties": {
        # Null for a reader who may not see benefit information (finance), who reads a neutral
        # "title" and a "description" of the rule instead (the trading allowance keeps its name).
        "rule": {"type": ["string", "null"]},
        "benefit": {"type": ["string", "null"]},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "period": {
            "type": "object",
            "properties": {"start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"}},
        },
        # notional_earnings: the total includes money offered and declined, reduced or given to a
        # charity where no exemption is established (see "notional").
        "measure": {"enum": list(VERDICT_MEASURES)},
        # Null for an "unknown" verdict: a claim no rule covers on the date was not checked.
        "total_before": {"type": ["string", "null"]},
        "total_after": {"type": ["string", "null"]},
        "limit": {"type": ["string", "null"]},
        "headroom": {"type": ["string", "null"]},
        "status": {"enum": list(VERDICT_STATUSES)},
        "effect": {
            "enum": list(EFFECTS),
            "description": (
                "What the verdict costs the person, worst first: stops (the benefit stops for the period: "
                "a cliff edge is over; for the trading allowance, tax may be due), reduces (a taper with an "
                "estimated reduction above zero), unknown (not checked), near (close to a limit), within, "
                "info (information only)."
            ),
        },
        "severity": {"enum": list(SEVERITIES)},
        "confidence": {"enum": [*CONFIDENCES, None]},
        "source": {"type": ["string", "null"]},
        "stale": {
            "type": "boolean",
            "description": "The figure's next uprating has passed with no newer figure loaded.",
        },
        "estimated_reduction": MONEY,
        "notes": {"type": "array", "items": {"type": "string"}},
        # Which date the rule counts: received (UC), due (CA, CSP, ESA, JSA) or worked.
        "date_basis": {"enum": list(DATE_BASES)},
        # For CA and CSP: the benefit week this week's earnings decide (null for other rules).
        "benefit_week": {
            "type": ["object", "null"],
            "properties": {"start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"}},
        },
        # Present when money offered and not taken was judged in the period (notional earnings):
        # what counts, what an exemption keeps out, the exemptions that applied and that the
        # benefit's regulations allow, and the regulation. Finance reads the amounts only.
        "notional": {
            "type": "object",
            "properties": {
                "counted": MONEY,
                "exempt": MONEY,
                "exemptions": {"type": ["array", "null"], "items": {"enum": list(NOTIONAL_EXEMPTIONS)}},
                "considered": {"type": ["array", "null"], "items": {"enum": list(NOTIONAL_EXEMPTIONS)}},
                "source": {"type": ["string", "null"]},
            },
        },
        # Checks and positions: whose money makes up an earnings total (tracker.earnings.sources).
        "sources": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}, "amount": MONEY}},
        },
    },
}
SUGGESTION = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["split", "defer", "switch_kind", "reduce"]},
        "payments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string"},
                    "amount": MONEY,
                    "paid_on": {"type": "string", "format": "date"},
                    # the date it falls due: a suggestion that moves money moves its due date too
                    "due_on": {"type": "string", "format": "date"},
                },
            },
        },
        "explanation": {"type": "string"},
    },
}
CHECK_RESULT = {
    "type": "object",
    "properties": {
        "verdicts": {"type": "array", "items": {"$ref": "#/components/schemas/Verdict"}},
        "suggestions": {"type": "array", "items": {"$ref": "#/components/schemas/Suggestion"}},
        "blocked": {"type": "boolean"},
        "notice": {"type": "string"},
    },
}


def register(path: str, operations: dict, models: Sequence[type[BaseModel]] = ()) -> None:
    """Other areas add their paths here when their module is imported."""
    PATHS.setdefault(path, {}).update(operations)
    for m in models:
        if m not in MODELS:
            MODELS.append(m)


def build_document() -> dict:
    components: dict = {
        "Error": ERROR,
        "Payment": PAYMENT,
        "Document": DOCUMENT,
        "Verdict": VERDICT,
        "Suggestion": SUGGESTION,
        "CheckResult": CHECK_RESULT,
    }
    for model in MODELS:
        schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Benefits-safe payment tracker API",
            "version": "1",
            "description": "Money is a string with two decimals; dates are YYYY-MM-DD. "
            "Errors share one shape. A 404 means not found or not visible to you.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
