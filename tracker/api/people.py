"""People, preferences, consent and benefit claims."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify, request
from pydantic import BaseModel, TypeAdapter

from tracker import keyset
from tracker.api import bp
from tracker.api.base import (
    benefits_recorder_or_404,
    created,
    current_api_user,
    list_json,
    parse_body,
    parse_list_body,
    require_role,
    visible_person_or_404,
    writes,
)
from tracker.api.schemas import MAX_PREFERENCES, ClaimIn, ConsentIn, PartnerEarningIn, PersonIn, PreferenceIn
from tracker.auth.access import can_see_benefits
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import money_str
from tracker.people import household, service
from tracker.people.models import Person
from tracker.picks import pick
from tracker.timeutil import today
from tracker.vocab import BENEFIT_INFO_ROLES, MAX_PAGE, MAX_PER_PAGE, STAFF_ROLES

#: Who may change a person's own records: the people who look after them, and a contributor (for
#: themselves only: anyone else is a 404).
PERSON_EDITORS = (*BENEFIT_INFO_ROLES, "contributor")


def person_json(p: Person) -> dict:
    return {
        **pick(p, ("id", "name", "email", "phone")),
        "preferences": [pick(x, ("kind", "note")) for x in p.preferences],
    }


def claim_json(c) -> dict:
    return {
        **pick(c, ("id", "person_id", "benefit")),
        "start_on": c.start_on.isoformat(),
        "end_on": c.end_on.isoformat() if c.end_on else None,
        "attributes": c.attributes,
        "answers_to_confirm": list(c.answers_to_confirm or ()),
    }


def partner_earning_json(row) -> dict:
    return {
        "id": row.id,
        "person_id": row.person_id,
        "amount": money_str(row.amount),
        "received_on": row.received_on.isoformat(),
        "due_on": row.due_on.isoformat() if row.due_on else None,
        "note": row.note,
    }


def _benefits_reader(person_id: int) -> Person:
    """A person whose benefit information a request reads: 404 if not visible, then 403 for finance."""
    person = visible_person_or_404(person_id)
    if not can_see_benefits(current_api_user(), person):
        require_role(*BENEFIT_INFO_ROLES)
    return person


def _person_to_change(person_id: int) -> Person:
    """The person whose own records a request changes: 404 if not visible, then 403 for finance."""
    person = visible_person_or_404(person_id)
    require_role(*PERSON_EDITORS)
    return person


def _change_request(person_id: int, model: type[BaseModel]) -> tuple[Person, Any]:
    """The person a request changes (see ``_person_to_change``), then the request's body."""
    return _person_to_change(person_id), parse_body(model)


@bp.post("/people")
@writes
def create_person():
    return created(PersonIn, BENEFIT_INFO_ROLES, service.create_person, person_json)


@bp.get("/people")
def list_people():
    require_role(*STAFF_ROLES)
    errors: dict[str, list[str]] = {}
    cursor, count = keyset.list_args(request.args, errors)
    try:
        page = min(MAX_PAGE, max(1, int(request.args.get("page", 1))))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 50))))
    except ValueError:
        errors["page"] = ["Use whole numbers for page and per_page."]
    if errors:
        raise ValidationFailed(errors)
    args = keyset.Args(page, per_page, cursor, count)
    query = service.people_query(request.args.get("q"))
    return jsonify(list_json(query, service.PEOPLE_ORDER, args, lambda rows: [person_json(p) for p in rows]))


@bp.get("/people/<int:person_id>")
def get_person(person_id: int):
    return jsonify(person_json(visible_person_or_404(person_id)))


_prefs = TypeAdapter(list[PreferenceIn])


@bp.put("/people/<int:person_id>/preferences")
@writes
def put_preferences(person_id: int):
    person = _person_to_change(person_id)
    prefs = parse_list_body(_prefs, "preferences")
    if len(prefs) > MAX_PREFERENCES:
        raise ValidationFailed({"preferences": [f"Give at most {MAX_PREFERENCES} ways of being paid."]})
    service.set_preferences(person, [p.model_dump() for p in prefs], actor=current_api_user())
    return jsonify(person_json(person)), 200


@bp.post("/people/<int:person_id>/consent")
@writes
def post_consent(person_id: int):
    person, body = _change_request(person_id, ConsentIn)
    consent = service.record_consent(
        person, body.given_on, body.notice_version, actor=current_api_user(), today=today()
    )
    return jsonify(
        {
            "id": consent.id,
            "person_id": person.id,
            "given_on": consent.given_on.isoformat(),
            "notice_version": consent.notice_version,
        }
    ), 201


@bp.post("/people/<int:person_id>/claims")
@writes
def post_claim(person_id: int):
    person, body = _change_request(person_id, ClaimIn)
    claim = service.add_claim(
        person, body.benefit, body.start_on, body.end_on, body.attributes, actor=current_api_user()
    )
    return jsonify(claim_json(claim)), 201


def _benefits_listing(person_id: int, read: Callable[[Person, Any], list], as_json: Callable[[Any], dict]):
    """A list of a person's benefit information (``read`` audits the view, which is committed)."""
    rows = read(_benefits_reader(person_id), current_api_user())
    db.session.commit()  # the audit event of this view
    return jsonify({"items": [as_json(r) for r in rows]})


@bp.get("/people/<int:person_id>/claims")
def get_claims(person_id: int):
    return _benefits_listing(person_id, lambda p, user: service.view_benefits(p, actor=user, where="api"), claim_json)


@bp.post("/people/<int:person_id>/partner-earnings")
@writes
def post_partner_earning(person_id: int):
    """Recorded by the people who look after the person (a contributor reads their own, 403)."""
    person = benefits_recorder_or_404(person_id)
    row = household.record(person, parse_body(PartnerEarningIn).model_dump(), actor=current_api_user())
    return jsonify(partner_earning_json(row)), 201


@bp.get("/people/<int:person_id>/partner-earnings")
def get_partner_earnings(person_id: int):
    def read(person: Person, user) -> list:
        return household.listed(person, actor=user, where="api partner earnings")

    return _benefits_listing(person_id, read, partner_earning_json)
