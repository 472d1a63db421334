"""Risk flags: list, raise by hand, acknowledge, resolve, note."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from tracker import keyset
from tracker.api import bp
from tracker.api.base import (
    current_api_user,
    found_or_404,
    list_json,
    parse_body,
    parse_person_body,
    require_role,
    writes,
)
from tracker.api.schemas import NoteIn, NoteTextIn, RiskIn
from tracker.errors import ValidationFailed
from tracker.risks import service
from tracker.risks.models import RiskFlag
from tracker.rules import redaction
from tracker.timeutil import today
from tracker.vocab import BENEFIT_INFO_ROLES, FLAG_STATUSES, MAX_FLAGS_PER_PAGE, MAX_ID, MAX_PAGE, STAFF_ROLES


def _redact() -> bool:
    """Finance sees levels and totals, not which benefits a person receives."""
    return redaction.hides_for(current_api_user())


#: Flags, the latest period first: the index ``ix_risk_flag_period_end_id`` reads it a page at a time.
FLAG_ORDER = keyset.Order("risks", RiskFlag.period_end, RiskFlag.id, True, lambda f: f.period_end)


@bp.get("/risks")
def list_risks():
    require_role(*STAFF_ROLES)
    errors: dict[str, list[str]] = {}
    cursor, count = keyset.list_args(request.args, errors)
    q = sa.select(RiskFlag).order_by(*FLAG_ORDER.by())
    status = request.args.get("status")
    if status and status not in FLAG_STATUSES:
        errors["status"] = ["Choose open, acknowledged or resolved."]
    elif status:
        q = q.where(RiskFlag.status == status)
    raw = request.args.get("person_id")
    if raw and (not raw.isdigit() or int(raw) > MAX_ID):
        errors["person_id"] = ["Use a whole number."]
    elif raw:
        q = q.where(RiskFlag.person_id == int(raw))
    per_page = keyset.number(request.args, "per_page", MAX_FLAGS_PER_PAGE, MAX_FLAGS_PER_PAGE, errors)
    page = keyset.number(request.args, "page", 1, MAX_PAGE, errors)
    if errors:
        raise ValidationFailed(errors)
    q = q.options(sa.orm.selectinload(RiskFlag.notes))
    args = keyset.Args(page, per_page, cursor, count)
    return jsonify(
        list_json(q, FLAG_ORDER, args, lambda flags: [service.flag_json(f, redact=_redact()) for f in flags])
    )


@bp.post("/risks")
@writes
def create_risk():
    body, person = parse_person_body(RiskIn, roles=BENEFIT_INFO_ROLES)
    flag = service.raise_manual(person, body.note, actor=current_api_user(), today=today(), rule_family=body.rule)
    return jsonify(service.flag_json(flag, redact=_redact())), 201


def _flag(flag_id: int) -> RiskFlag:
    return found_or_404(RiskFlag, flag_id)


def _move(flag_id: int, action: str):
    require_role(*BENEFIT_INFO_ROLES)
    flag = _flag(flag_id)
    body = parse_body(NoteIn) if request.get_data() else NoteIn()
    service.move(flag, action, actor=current_api_user(), note=body.note)
    return jsonify(service.flag_json(flag, redact=_redact())), 200


@bp.post("/risks/<int:flag_id>/acknowledge")
@writes
def acknowledge_risk(flag_id: int):
    return _move(flag_id, "acknowledge")


@bp.post("/risks/<int:flag_id>/resolve")
@writes
def resolve_risk(flag_id: int):
    return _move(flag_id, "resolve")


@bp.post("/risks/<int:flag_id>/notes")
@writes
def note_risk(flag_id: int):
    require_role(*BENEFIT_INFO_ROLES)
    flag = _flag(flag_id)
    body = parse_body(NoteTextIn)
    service.add_note(flag, body.note, actor=current_api_user())
    return jsonify(service.flag_json(flag, redact=_redact())), 201
