"""Risk flags: list, raise by hand, acknowledge, resolve, note."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from tracker.api import bp
from tracker.api.base import current_api_user, not_found, parse_body, require_role, writes
from tracker.api.schemas import NoteIn, RiskIn
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.people.models import Person
from tracker.risks import service
from tracker.risks.models import FLAG_STATUSES, RiskFlag
from tracker.timeutil import today

STAFF = ("admin", "finance", "coordinator")
MANAGERS = ("admin", "coordinator")


def _redact() -> bool:
    """Finance sees levels and totals, not which benefits a person receives."""
    return current_api_user().role == "finance"


@bp.get("/risks")
def list_risks():
    require_role(*STAFF)
    q = sa.select(RiskFlag).order_by(RiskFlag.period_end.desc(), RiskFlag.id.desc())
    status = request.args.get("status")
    if status:
        if status not in FLAG_STATUSES:
            raise ValidationFailed({"status": ["Choose open, acknowledged or resolved."]})
        q = q.where(RiskFlag.status == status)
    if request.args.get("person_id"):
        raw = request.args["person_id"]
        if not raw.isdigit() or int(raw) > 2**63 - 1:
            raise ValidationFailed({"person_id": ["Use a whole number."]})
        q = q.where(RiskFlag.person_id == int(raw))
    flags = db.session.scalars(q.options(sa.orm.selectinload(RiskFlag.notes)).limit(500)).all()
    return jsonify({"items": [service.flag_json(f, redact=_redact()) for f in flags]})


@bp.post("/risks")
@writes
def create_risk():
    require_role(*MANAGERS)
    body = parse_body(RiskIn)
    person = db.session.get(Person, body.person_id)
    if person is None:
        raise ValidationFailed({"person_id": [f"There is no person {body.person_id}."]})
    flag = service.raise_manual(person, body.note, actor=current_api_user(), today=today(), rule_family=body.rule)
    return jsonify(service.flag_json(flag)), 201


def _flag(flag_id: int) -> RiskFlag:
    flag = db.session.get(RiskFlag, flag_id)
    if flag is None:
        not_found()
    return flag


def _move(flag_id: int, action: str):
    require_role(*MANAGERS)
    flag = _flag(flag_id)
    body = parse_body(NoteIn) if request.get_data() else NoteIn()
    service.move(flag, action, actor=current_api_user(), note=body.note)
    return jsonify(service.flag_json(flag)), 200


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
    require_role(*MANAGERS)
    flag = _flag(flag_id)
    body = parse_body(NoteIn)
    service.add_note(flag, body.note or "", actor=current_api_user())
    return jsonify(service.flag_json(flag)), 201
