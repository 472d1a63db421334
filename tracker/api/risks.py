"""Risk flags: list, raise by hand, acknowledge, resolve, note."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from tracker.api import bp
from tracker.api.base import current_api_user, found_or_404, parse_body, parse_person_body, require_role, writes
from tracker.api.schemas import NoteIn, NoteTextIn, RiskIn
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.risks import service
from tracker.risks.models import RiskFlag
from tracker.rules import redaction
from tracker.timeutil import today
from tracker.vocab import BENEFIT_INFO_ROLES, FLAG_STATUSES, MAX_ID, STAFF_ROLES


def _redact() -> bool:
    """Finance sees levels and totals, not which benefits a person receives."""
    return redaction.hides_for(current_api_user())


@bp.get("/risks")
def list_risks():
    require_role(*STAFF_ROLES)
    q = sa.select(RiskFlag).order_by(RiskFlag.period_end.desc(), RiskFlag.id.desc())
    status = request.args.get("status")
    if status:
        if status not in FLAG_STATUSES:
            raise ValidationFailed({"status": ["Choose open, acknowledged or resolved."]})
        q = q.where(RiskFlag.status == status)
    if request.args.get("person_id"):
        raw = request.args["person_id"]
        if not raw.isdigit() or int(raw) > MAX_ID:
            raise ValidationFailed({"person_id": ["Use a whole number."]})
        q = q.where(RiskFlag.person_id == int(raw))
    flags = db.session.scalars(q.options(sa.orm.selectinload(RiskFlag.notes)).limit(500)).all()
    return jsonify({"items": [service.flag_json(f, redact=_redact()) for f in flags]})


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
