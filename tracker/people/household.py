"""A partner's earnings, recorded on the person: benefit information for household rules.

A Universal Credit joint claim (one work allowance, the taper on joint earnings), and Housing
Benefit and Pension Credit for a couple, count the partner's earnings too; the person's own limits
(Carer's Allowance, Carer Support Payment, ESA, JSA) never do (``counts.partner`` in the rule pack).
Only the people who may see benefit information record them, and only with the person's consent to
hold it. Services flush; the caller commits once.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.payments.expenses import positive_amount
from tracker.payments.service import text_field
from tracker.people.models import PartnerEarning, Person
from tracker.people.service import delete_audited, require_consent
from tracker.rules import ledger

#: The most entries one list shows (newest first).
LIST_LIMIT = 200


def snapshot(row: PartnerEarning) -> dict:
    return {"amount": row.amount, "received_on": row.received_on, "due_on": row.due_on, "note": row.note}


def _checked(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    amount = positive_amount(data, errors)
    received, due = data.get("received_on"), data.get("due_on")
    if not isinstance(received, date):
        errors["received_on"] = ["Enter the date the partner received it, like 2025-04-07."]
    if due is not None and not isinstance(due, date):
        errors["due_on"] = ["Enter the date it was due, like 2025-04-07, or leave it blank."]
    note = text_field(data, "note", errors, 200)
    if errors:
        raise ValidationFailed(errors)
    return {"amount": amount, "received_on": received, "due_on": due, "note": note}


def record(person: Person, data: dict, *, actor) -> PartnerEarning:
    """Record an amount the person's partner earned: checked, audited, and the ledger changed."""
    values = _checked(data)
    require_consent(person)
    row = PartnerEarning(person_id=person.id, **values, created_by_id=getattr(actor, "id", None))
    db.session.add(row)
    ledger.changed(db.session, [person.id])
    db.session.flush()
    audit.record(actor, "partner_earning.recorded", row, person_id=person.id, after=snapshot(row))
    return row


def remove(row: PartnerEarning, *, actor) -> None:
    """Remove an entry recorded by mistake: audited with what it said, and the ledger changed."""
    delete_audited(row, snapshot(row), "partner_earning.removed", actor=actor)


def listed(person: Person, *, actor, where: str) -> list[PartnerEarning]:
    """The person's partner earnings, newest first. A view of benefit information: audited."""
    audit.record(actor, "benefits.viewed", person, person_id=person.id, after={"where": where})
    return list(
        db.session.scalars(
            sa.select(PartnerEarning)
            .where(PartnerEarning.person_id == person.id)
            .order_by(PartnerEarning.received_on.desc(), PartnerEarning.id.desc())
            .limit(LIST_LIMIT)
        )
    )


def entry_of(person: Person, entry_id: int) -> PartnerEarning | None:
    row = db.session.get(PartnerEarning, entry_id)
    return row if row is not None and row.person_id == person.id else None
