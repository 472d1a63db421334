"""Signed earnings records: download one for a person and a period; import another organisation's."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from pydantic import Field

from tracker.api import bp, openapi
from tracker.api.base import benefits_recorder_or_404, current_api_user, parse_body, visible_person_or_404, writes
from tracker.api.schemas import DAY_SCHEMA, Strict
from tracker.earnings import service, signing
from tracker.earnings.files import record_response
from tracker.errors import ValidationFailed
from tracker.timeutil import day_arg, utcnow


class EarningsImportIn(Strict):
    record: dict[str, Any]
    # The person agreed to add these earnings (asked by whoever sends the request).
    consent: bool = Field(description="True when the person agreed to add these earnings")


@bp.get("/people/<int:person_id>/earnings-record")
@writes  # the audit event of who took which record
def get_earnings_record(person_id: int):
    person = visible_person_or_404(person_id)
    errors: dict[str, list[str]] = {}
    start, end = day_arg(request.args, "start_on", errors), day_arg(request.args, "end_on", errors)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "pdf"):
        errors["format"] = ["Use json or pdf."]
    if errors:
        raise ValidationFailed(errors)
    record = service.issue(person, start, end, actor=current_api_user(), now=utcnow())
    return record_response(record, fmt)


@bp.post("/people/<int:person_id>/earnings-records")
@writes
def import_earnings_record(person_id: int):
    person = benefits_recorder_or_404(person_id)
    body = parse_body(EarningsImportIn)
    outcome = service.import_record(person, body.record, consent=body.consent, actor=current_api_user(), now=utcnow())
    row = outcome.row
    answer = {
        "id": row.id,
        "status": outcome.status,
        "issuer": row.issuer_name,
        "key_id": row.key_id,
        "record_id": row.record_id,
        "period": {"start": row.start_on.isoformat(), "end": row.end_on.isoformat()},
        "verification_code": row.verification_code,
        "added": outcome.added,
        "removed": outcome.removed,
    }
    return jsonify(answer), 200 if outcome.status == "unchanged" else 201


_DATES = tuple(
    {"name": n, "in": "query", "required": n != "format", "schema": s}
    for n, s in (("start_on", DAY_SCHEMA), ("end_on", DAY_SCHEMA), ("format", {"enum": ["json", "pdf"]}))
)
#: The record as JSON, or (format=pdf) its printable copy.
_RECORD_OP = openapi.operation(
    f"A signed earnings record ({signing.FORMAT}) of the payments made or planned for the person in the "
    "period (at most 366 days), or its printable copy; 409 signing_key_missing when no key is set",
    params=(openapi.PERSON_ID, *_DATES),
    errors=(401, 404, 409, 422),
)
_RECORD_OP["responses"]["200"]["content"]["application/pdf"] = {}
openapi.register("/people/{person_id}/earnings-record", {"get": _RECORD_OP})
openapi.register(
    "/people/{person_id}/earnings-records",
    {
        "post": openapi.operation(
            "Import another organisation's signed earnings record as other income, with the person's consent: "
            "201 imported or replaced (a newer record for the same period), 200 unchanged (imported before); "
            "422 untrusted_issuer, bad_signature or invalid_record; 409 newer_record_imported",
            body="EarningsImportIn",
            ok=201,
            params=(openapi.PERSON_ID,),
            errors=(401, 403, 404, 409, 422),
            idempotent=True,
        )
    },
    [EarningsImportIn],
)
