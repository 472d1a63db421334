"""Payment runs and bank details: /api/v1/payment-runs and /api/v1/people/ID/bank-account."""

from __future__ import annotations

import re

from flask import Response, jsonify, request
from pydantic import Field

from tracker.api import bp, openapi
from tracker.api.base import current_api_user, not_found, parse_body, require_role, writes
from tracker.api.schemas import Day, EmptyIn, Id, Strict
from tracker.auth.access import visible_person
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import money_str
from tracker.picks import pick
from tracker.runs import accounts, files, service
from tracker.runs.models import PaymentRun
from tracker.timeutil import today, utcnow
from tracker.vocab import FINANCE_ROLES

RUN_ROLES = FINANCE_ROLES
BANK_ROLES = (*FINANCE_ROLES, "contributor")


class PaymentRunIn(Strict):
    payment_ids: list[Id] = Field(min_length=1, max_length=service.MAX_RUN)
    pay_on: Day


class RunPaidIn(Strict):
    paid_on: Day


class BankAccountIn(Strict):
    """Checked by tracker.runs.accounts, whose rules the document states (the account name's
    characters and length, the sort code's and the account number's digits)."""

    account_name: str = Field(
        min_length=1,
        max_length=100,
        json_schema_extra={"maxLength": accounts.NAME_MAX, "pattern": accounts.ACCOUNT_NAME.pattern},
    )
    sort_code: str = Field(
        min_length=1, max_length=20, json_schema_extra={"pattern": "^(" + accounts.SORT_CODE.pattern + ")$"}
    )
    account_number: str = Field(
        min_length=1, max_length=20, json_schema_extra={"pattern": "^" + accounts.ACCOUNT_NUMBER.pattern + "$"}
    )


def run_json(run: PaymentRun) -> dict:
    items = [i for i in run.items if i.status == "in"]
    return {
        **pick(run, ("id", "status", "reference")),
        "pay_on": run.pay_on.isoformat(),
        "paid_on": run.paid_on.isoformat() if run.paid_on else None,
        "count": len(items),
        "total": money_str(service.total_of(run)),
        "payments": [{"id": i.payment_id, "amount": money_str(i.amount), "status": i.payment.status} for i in items],
        "removed": [
            {"id": i.payment_id, "amount": money_str(i.amount), "reason": i.removed_reason}
            for i in service.removed_items(run)
        ],
    }


def _run(run_id: int) -> PaymentRun:
    require_role(*RUN_ROLES)
    return db.get_or_404(PaymentRun, run_id)


@bp.post("/payment-runs")
@writes
def create_payment_run():
    require_role(*RUN_ROLES)
    body = parse_body(PaymentRunIn)
    run = service.create_run(body.payment_ids, body.pay_on, actor=current_api_user(), today=today())
    return jsonify(run_json(run)), 201


@bp.get("/payment-runs/<int:run_id>")
def get_payment_run(run_id: int):
    return jsonify(run_json(_run(run_id)))


@bp.get("/payment-runs/<int:run_id>/file")
def get_payment_run_file(run_id: int):
    run = _run(run_id)
    file_format = request.args.get("format", "csv")
    if file_format not in files.FORMATS:
        raise ValidationFailed({"format": ["Choose csv, xlsx or bacs18."]})
    rows = service.file_rows(run, actor=current_api_user(), file_format=file_format)
    content, mimetype, name = files.render(run, rows, file_format, today=today())
    db.session.commit()  # the audit event of the download
    resp = Response(content, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/payment-runs/<int:run_id>/paid")
@writes
def mark_payment_run_paid(run_id: int):
    run = _run(run_id)
    body = parse_body(RunPaidIn)
    service.mark_paid(run, actor=current_api_user(), paid_on=body.paid_on, now=utcnow(), today=today())
    return jsonify(run_json(run)), 200


@bp.post("/payment-runs/<int:run_id>/cancel")
@writes
def cancel_payment_run(run_id: int):
    run = _run(run_id)
    if request.get_data():
        parse_body(EmptyIn)
    service.cancel_run(run, actor=current_api_user(), now=utcnow())
    return jsonify(run_json(run)), 200


def _bank_person(person_id: int):
    user = current_api_user()
    require_role(*BANK_ROLES)
    person = visible_person(user, person_id)
    if person is None:
        not_found()
    return user, person


def bank_json(person_id: int, details: accounts.BankDetails | None) -> dict:
    shown = details.masked() if details else {"account_name": None, "sort_code": None, "account_number": None}
    return {"person_id": person_id, "held": details is not None, **shown}


@bp.get("/people/<int:person_id>/bank-account")
def get_bank_account(person_id: int):
    user, person = _bank_person(person_id)
    details = accounts.view_bank_details(person, actor=user, where="api")
    db.session.commit()  # the audit event of a staff view
    return jsonify(bank_json(person.id, details))


@bp.put("/people/<int:person_id>/bank-account")
@writes
def put_bank_account(person_id: int):
    user, person = _bank_person(person_id)
    details = accounts.parse_bank_details(parse_body(BankAccountIn).model_dump())
    accounts.save_bank_details(person, details, actor=user, now=utcnow())
    return jsonify(bank_json(person.id, details)), 200


RUN_ID = openapi.path_id("run_id")
PERSON_ID = openapi.PERSON_ID
MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
RUN = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "status": {"enum": ["open", "paid", "cancelled"]},
        "reference": {"type": "string"},
        "pay_on": {"type": "string", "format": "date"},
        "paid_on": {"type": ["string", "null"], "format": "date"},
        "count": {"type": "integer"},
        "total": MONEY,
        "payments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "amount": MONEY, "status": {"type": "string"}},
            },
        },
        "removed": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "amount": MONEY, "reason": {"type": "string"}},
            },
        },
    },
}
BANK = openapi.obj(
    person_id=openapi.INTEGER,
    held={"type": "boolean"},
    account_name=openapi.TEXT_OR_NULL,
    sort_code={**openapi.TEXT_OR_NULL, "description": "masked: **-**-56"},
    account_number={**openapi.TEXT_OR_NULL, "description": "masked: ****5678"},
)
FILE_FORMAT = openapi.query("format", {"enum": list(files.FORMATS), "default": "csv"})

FILE_DOWNLOAD = {
    "summary": "The bank file: CSV, XLSX or Bacs Standard 18 (bank details in full; the download is audited); "
    "409 for a cancelled run, 422 for an unknown format",
    "parameters": [RUN_ID, FILE_FORMAT],
    "responses": {
        "200": {"description": "The file", "content": {"text/csv": {}, "text/plain": {}, files.XLSX_MIME: {}}},
        **openapi.error_responses((403, 404, 409, 422)),
    },
}
# (path, method, summary, request model, success status, answer schema). The rest follows from these: the
# path parameters from the names in braces, and the error statuses: 401 and 403 always, 404 where the path
# names a row, 409 for a write and 422 where there is a body to check.
OPERATIONS = [
    (
        "/payment-runs",
        "post",
        "Gather approved bank transfers into a run for a pay date (422/409 name each payment refused)",
        PaymentRunIn,
        201,
        RUN,
    ),
    ("/payment-runs/{run_id}", "get", "A payment run: count, total, payments and any that left it", None, 200, RUN),
    (
        "/payment-runs/{run_id}/paid",
        "post",
        "Mark every payment in the run paid with its reference, re-checking each; a newly blocked one leaves the run",
        RunPaidIn,
        200,
        RUN,
    ),
    (
        "/payment-runs/{run_id}/cancel",
        "post",
        "Cancel a run before it is paid; its payments are free again",
        None,
        200,
        RUN,
    ),
    (
        "/people/{person_id}/bank-account",
        "get",
        "A person's bank details, masked (a staff view is audited)",
        None,
        200,
        BANK,
    ),
    (
        "/people/{person_id}/bank-account",
        "put",
        "Set a person's bank details (validated, encrypted at rest; the person is told)",
        BankAccountIn,
        200,
        BANK,
    ),
]
PATH_PARAMS = {"run_id": RUN_ID, "person_id": PERSON_ID}


def _error_statuses(path: str, method: str, model: type | None) -> tuple[int, ...]:
    named, write = "{" in path, method != "get"
    return (401, 403) + (404,) * named + (409,) * write + (422,) * (model is not None)


def _register() -> None:
    for path, method, summary, model, ok, schema in OPERATIONS:
        op = openapi.operation(
            summary,
            body=model.__name__ if model else None,
            ok=ok,
            ok_schema=schema,
            errors=_error_statuses(path, method, model),
            idempotent=method == "post",
            params=tuple(PATH_PARAMS[name] for name in re.findall(r"\{(\w+)\}", path)),
        )
        openapi.register(path, {method: op}, [model] if model else [])
    openapi.register("/payment-runs/{run_id}/file", {"get": FILE_DOWNLOAD})


_register()
