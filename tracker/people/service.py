"""People, preferences, consent and benefit claims. Services flush; the caller commits once."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker import keyset
from tracker.audit import service as audit
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.people.benefits import normalise_attributes
from tracker.people.models import PREFERENCE_KINDS, BenefitClaim, Consent, Person, Preference
from tracker.picks import pick
from tracker.rules import ledger
from tracker.vocab import DOCUMENT_FORMATS

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def _optional(data: dict, name: str, errors: dict, limit: int) -> str | None:
    value = (data.get(name) or "").strip() or None
    if value and len(value) > limit:
        errors[name] = [f"Use {limit:,} characters or fewer."]
    return value


def _name(data: dict, errors: dict) -> str:
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = ["Enter the person's name."]
    elif len(name) > 200:
        errors["name"] = ["Use 200 characters or fewer."]
    return name


def _email(data: dict, errors: dict) -> str | None:
    email = (data.get("email") or "").strip() or None
    if email and (len(email) > 254 or not EMAIL_RE.match(email)):
        errors["email"] = ["Enter an email address, like name@example.org, or leave it empty."]
    return email


def _check_details(data: dict, errors: dict) -> dict:
    """The person's details that ``data`` holds (name, email, phone, notes), checked."""
    out: dict = {}
    if "name" in data:
        out["name"] = _name(data, errors)
    if "email" in data:
        out["email"] = _email(data, errors)
    for name, limit in (("phone", 40), ("notes", 5000)):
        if name in data:
            out[name] = _optional(data, name, errors, limit)
    return out


def check_preferences(prefs: list[dict], field: str = "preferences") -> list[dict]:
    errors: dict[str, list[str]] = {}
    seen = set()
    out = []
    for i, p in enumerate(prefs):
        kind = p.get("kind")
        note = (p.get("note") or "").strip() or None
        if kind not in PREFERENCE_KINDS:
            errors[f"{field}.{i}.kind"] = ["Choose one of: " + ", ".join(PREFERENCE_KINDS) + "."]
        elif kind in seen:
            errors[f"{field}.{i}.kind"] = ["Each way of being paid can appear only once."]
        seen.add(kind)
        if note and len(note) > 500:
            errors[f"{field}.{i}.note"] = ["Use 500 characters or fewer."]
        out.append({"kind": kind, "note": note})
    if errors:
        raise ValidationFailed(errors)
    return out


def person_snapshot(person: Person) -> dict:
    return {
        **pick(person, ("name", "email", "phone")),
        "preferences": [pick(p, ("kind", "note")) for p in person.preferences],
    }


def create_person(data: dict, *, actor) -> Person:
    errors: dict[str, list[str]] = {}
    details = _check_details(
        {"name": data.get("name"), **{k: data.get(k) for k in ("email", "phone", "notes")}}, errors
    )
    prefs = []
    try:
        prefs = check_preferences(data.get("preferences") or [])
    except ValidationFailed as e:
        errors.update(e.fields)
    if errors:
        raise ValidationFailed(errors)
    person = Person(**details)
    person.preferences = [Preference(position=i, kind=p["kind"], note=p["note"]) for i, p in enumerate(prefs)]
    db.session.add(person)
    db.session.flush()
    audit.record(actor, "person.created", person, person_id=person.id, after=person_snapshot(person))
    return person


def update_person(person: Person, data: dict, *, actor) -> Person:
    errors: dict[str, list[str]] = {}
    details = _check_details(data, errors)
    if errors:
        raise ValidationFailed(errors)
    before = person_snapshot(person)
    for k, v in details.items():
        setattr(person, k, v)
    db.session.flush()
    audit.record(actor, "person.updated", person, person_id=person.id, before=before, after=person_snapshot(person))
    return person


def set_preferences(person: Person, prefs: list[dict], *, actor) -> Person:
    clean = check_preferences(prefs)
    before = [{"kind": p.kind, "note": p.note} for p in person.preferences]
    person.preferences.clear()
    db.session.flush()  # unique (person, position) must be free before the new rows go in
    for i, p in enumerate(clean):
        person.preferences.append(Preference(position=i, kind=p["kind"], note=p["note"]))
    db.session.flush()
    _changed(actor, "person.preferences_set", person, "preferences", before, clean)
    return person


def _changed(actor, action: str, person: Person, name: str, before, after) -> None:
    """The audit event of a change to one of the person's settings: ``name`` before and after."""
    audit.record(actor, action, person, person_id=person.id, before={name: before}, after={name: after})


FORMAT_MESSAGE = "Choose standard or easy read."


def set_document_format(person: Person, fmt: str, *, actor) -> Person:
    """How the person likes their statements and certificates made: ``standard`` or ``easy_read``.
    Audited (``person.document_format_set``) when it changes. Flushes."""
    if fmt not in DOCUMENT_FORMATS:
        raise ValidationFailed({"document_format": [FORMAT_MESSAGE]})
    before = person.document_format
    if fmt == before:
        return person
    person.document_format = fmt
    db.session.flush()
    _changed(actor, "person.document_format_set", person, "document_format", before, fmt)
    return person


def record_consent(person: Person, given_on: date, notice_version: str, *, actor, today: date) -> Consent:
    errors = {}
    if given_on > today:
        errors["given_on"] = ["Consent cannot be dated in the future."]
    notice_version = (notice_version or "").strip()
    if not notice_version:
        errors["notice_version"] = ["Say which version of the privacy notice the person saw."]
    elif len(notice_version) > 40:
        errors["notice_version"] = ["Use 40 characters or fewer."]
    if errors:
        raise ValidationFailed(errors)
    consent = Consent(
        person_id=person.id, given_on=given_on, notice_version=notice_version, recorded_by_id=getattr(actor, "id", None)
    )
    db.session.add(consent)
    db.session.flush()
    db.session.refresh(person, ["consents"])
    audit.record(
        actor,
        "consent.recorded",
        consent,
        person_id=person.id,
        after={"given_on": given_on, "notice_version": notice_version},
    )
    return consent


def withdraw_consent(person: Person, on: date, *, actor) -> None:
    """Withdrawing consent ends the holding of benefit information: the claims are removed."""
    consent = person.consent
    if consent is None:
        raise Conflict("There is no consent to withdraw.", code="no_consent")
    consent.withdrawn_on = on
    removed = [claim_snapshot(c) for c in person.claims]
    person.claims.clear()
    ledger.claims_changed(db.session, [person.id])
    db.session.flush()
    audit.record(
        actor, "consent.withdrawn", consent, person_id=person.id, before={"claims": removed}, after={"withdrawn_on": on}
    )


def claim_snapshot(claim: BenefitClaim) -> dict:
    return {
        "benefit": claim.benefit,
        "start_on": claim.start_on,
        "end_on": claim.end_on,
        "attributes": dict(claim.attributes or {}),
        "answers_to_confirm": list(claim.answers_to_confirm or ()),
    }


def claims_to_confirm(limit: int = 500) -> list[BenefitClaim]:
    """Claims with answers that decide which rule applies but hold a default the tracker once
    filled in (from before those answers were always asked), oldest first, for a coordinator."""
    rows = db.session.scalars(
        sa.select(BenefitClaim)
        .where(BenefitClaim.answers_to_confirm.is_not(None))
        .order_by(BenefitClaim.id)
        .options(so.joinedload(BenefitClaim.person))
    )
    return [c for c in rows if c.answers_to_confirm][:limit]


def _check_claim(benefit: str, start_on: date, end_on: date | None, attributes: dict | None) -> dict:
    errors: dict[str, list[str]] = {}
    attrs = {}
    try:
        attrs = normalise_attributes(benefit, attributes)
    except ValidationFailed as e:
        errors.update(e.fields)
    if end_on is not None and start_on is not None and end_on < start_on:
        errors["end_on"] = ["The end date must be on or after the start date."]
    if errors:
        raise ValidationFailed(errors)
    return attrs


def require_consent(person: Person) -> None:
    if person.consent is None:
        raise Conflict("Record the person's consent to hold benefit information first.", code="consent_required")


def add_claim(
    person: Person, benefit: str, start_on: date, end_on: date | None, attributes: dict | None, *, actor
) -> BenefitClaim:
    attrs = _check_claim(benefit, start_on, end_on, attributes)
    require_consent(person)
    claim = BenefitClaim(person_id=person.id, benefit=benefit, start_on=start_on, end_on=end_on, attributes=attrs)
    db.session.add(claim)
    ledger.claims_changed(db.session, [person.id])
    db.session.flush()
    db.session.refresh(person, ["claims"])
    audit.record(actor, "claim.added", claim, person_id=person.id, after=claim_snapshot(claim))
    return claim


def update_claim(
    claim: BenefitClaim, start_on: date, end_on: date | None, attributes: dict | None, *, actor
) -> BenefitClaim:
    attrs = _check_claim(claim.benefit, start_on, end_on, attributes)
    require_consent(claim.person)
    before = claim_snapshot(claim)
    claim.start_on, claim.end_on, claim.attributes = start_on, end_on, attrs
    claim.answers_to_confirm = None  # every answer that decides a rule was just given
    ledger.claims_changed(db.session, [claim.person_id])
    db.session.flush()
    audit.record(actor, "claim.updated", claim, person_id=claim.person_id, before=before, after=claim_snapshot(claim))
    return claim


def remove_claim(claim: BenefitClaim, *, actor) -> None:
    delete_audited(claim, claim_snapshot(claim), "claim.removed", actor=actor, event=ledger.claims_changed)


def delete_audited(row, before: dict, action: str, *, actor, event=ledger.changed) -> None:
    """Delete a row of a person's benefit information: the ledger event, then an audit event with
    what the row said (``before``)."""
    person_id, row_id = row.person_id, row.id
    db.session.delete(row)
    event(db.session, [person_id])
    db.session.flush()
    audit.record(
        actor, action, None, entity_type=type(row).__tablename__, entity_id=row_id, person_id=person_id, before=before
    )


def view_benefits(person: Person, *, actor, where: str) -> list[BenefitClaim]:
    """Benefit information is special-category data: every view is audited."""
    audit.record(actor, "benefits.viewed", person, person_id=person.id, after={"where": where})
    return list(person.claims)


#: People in name order (then id): the index ``ix_person_name_id`` reads it a page at a time.
PEOPLE_ORDER = keyset.Order("people", Person.name, Person.id, False, lambda p: p.name)


def people_query(search: str | None = None) -> sa.Select:
    """Everyone (whose name or email contains ``search``), in name order."""
    q = sa.select(Person).order_by(*PEOPLE_ORDER.by())
    if search:
        like = f"%{search.strip()[:100]}%"
        q = q.where(sa.or_(Person.name.ilike(like), Person.email.ilike(like)))
    return q


def list_people(search: str | None = None, page: int = 1, per_page: int = 50):
    return db.paginate(people_query(search), page=page, per_page=per_page, error_out=False)
