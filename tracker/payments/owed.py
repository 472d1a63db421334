"""The owed queue: contributions not yet covered by a payment, grouped by person, with the amount
owed from the rate card, the person's preferred way of being paid, and the benefit check of paying
it all now; and recording the draft payments for the people chosen, each through the payment service.

A contribution is covered when it is linked to a payment that is not cancelled (as on the new payment
page). Reading one page of the queue costs a constant number of queries however many people and
contributions it holds: the benefit checks run in bulk (tracker.rules.checks.check_many).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from tracker.contributions import service as contributions
from tracker.contributions.models import Contribution
from tracker.engine.core import ProposedPayment
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.money import ZERO
from tracker.payments import service
from tracker.payments.models import Payment, payment_contribution
from tracker.people.models import Person, Preference
from tracker.rules import checks
from tracker.vocab import NON_MONEY_KINDS

#: The kind checked and recorded for someone who has not said how they want to be paid.
DEFAULT_KIND = "bank_transfer"
PER_PAGE = 50


@dataclass
class OwedPerson:
    """One person in the queue: what is owed, how they want it, and the check of paying it all now."""

    person_id: int
    name: str
    total: Decimal = ZERO
    contributions: list[Contribution] = field(default_factory=list)
    preference: Preference | None = None
    #: Every kind the person would take, most preferred first (suggestions may switch to another).
    kinds: list[str] = field(default_factory=list)
    check: dict | None = None

    @property
    def kind(self) -> str:
        return self.preference.kind if self.preference else DEFAULT_KIND

    @property
    def blocked(self) -> bool:
        return bool(self.check and self.check.get("blocked"))

    @property
    def latest_work(self) -> date | None:
        return max((c.worked_on for c in self.contributions), default=None)


@dataclass(frozen=True)
class Page:
    """One page of the queue, and how many people and pages there are in all."""

    rows: list[OwedPerson]
    total_people: int
    page: int
    pages: int


@dataclass(frozen=True)
class Recorded:
    """What recording the chosen people's drafts did: made, blocked (needs a reason), refused."""

    made: list[tuple[str, Payment]]
    blocked: list[str]
    refused: list[tuple[str, list[str]]]


def _uncovered():
    covered = (
        sa.select(payment_contribution.c.contribution_id)
        .join(Payment, Payment.id == payment_contribution.c.payment_id)
        .where(Payment.status != "cancelled")
    )
    return Contribution.id.not_in(covered)


def _people_page(page: int, per_page: int) -> tuple[list[OwedPerson], int]:
    grouped = (
        sa.select(Person.id, Person.name, sa.func.sum(Contribution.value_owed).label("owed"))
        .join(Contribution, Contribution.person_id == Person.id)
        .where(_uncovered())
        .group_by(Person.id, Person.name)
    )
    count = db.session.scalar(sa.select(sa.func.count()).select_from(grouped.subquery()))
    rows = db.session.execute(
        grouped.order_by(Person.name, Person.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return [OwedPerson(person_id=r.id, name=r.name) for r in rows], count or 0


def _fill(rows: list[OwedPerson]) -> None:
    """Each person's uncovered contributions and first preference: two queries for the whole page."""
    by_id = {r.person_id: r for r in rows}
    for c in db.session.scalars(
        sa.select(Contribution)
        .where(Contribution.person_id.in_(by_id), _uncovered())
        .order_by(Contribution.worked_on, Contribution.id)
    ):
        row = by_id[c.person_id]
        row.contributions.append(c)
        row.total += c.value_owed
    for pref in db.session.scalars(
        sa.select(Preference).where(Preference.person_id.in_(by_id)).order_by(Preference.person_id, Preference.position)
    ):
        row = by_id[pref.person_id]
        row.preference = row.preference or pref
        row.kinds.append(pref.kind)


def proposed_for(row: OwedPerson, on: date) -> ProposedPayment:
    """Paying everything owed now, the way the person prefers (a kind with no money carries 0.00, and
    the money owed as its offer: notional earnings, as ``payment_data`` records it)."""
    if row.kind not in NON_MONEY_KINDS:
        return ProposedPayment(kind=row.kind, amount=row.total, paid_on=on, worked_on=row.latest_work)
    context = service.context_of(row.contributions)
    return ProposedPayment(row.kind, ZERO, on, row.latest_work, offered=row.total, service_user_context=context)


def _check_all(rows: list[OwedPerson], on: date, today: date) -> None:
    prefs = {r.person_id: r.kinds for r in rows}
    results = checks.check_many({r.person_id: proposed_for(r, on) for r in rows}, prefs, on, today=today)
    for r in rows:
        result, revisions = results[r.person_id]
        r.check = checks.check_json(result, revisions)


def check_people(person_ids: Iterable[int], on: date, *, today: date) -> list[OwedPerson]:
    """What each of these people is owed now, and the check of paying it all on ``on`` the way they
    chose (as the queue checks it); people owed nothing are left out."""
    wanted = list(dict.fromkeys(person_ids))
    rows = [
        OwedPerson(person_id=r.id, name=r.name)
        for r in db.session.execute(
            sa.select(Person.id, Person.name).where(Person.id.in_(wanted)).order_by(Person.name)
        )
    ]
    _fill(rows)
    rows = [r for r in rows if r.contributions]
    _check_all(rows, on, today)
    return rows


def queue(on: date, *, today: date, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the owed queue (people by name), each with the check of paying it all on ``on``."""
    rows, count = _people_page(page, per_page)
    _fill(rows)
    _check_all(rows, on, today)
    return Page(rows=rows, total_people=count, page=page, pages=max(1, -(-count // per_page)))


def payment_data(kind: str, note: str | None, unpaid: list[Contribution], on: date, reason: str | None) -> dict:
    """The payment service's input for paying everything in ``unpaid`` on ``on``."""
    total = sum((c.value_owed for c in unpaid), ZERO)
    data: dict = {
        "kind": kind,
        "amount": total,
        "paid_on": on,
        "contribution_ids": [c.id for c in unpaid],
        "override_reason": reason,
        "note": "Recorded from the owed queue.",
    }
    if kind in NON_MONEY_KINDS:
        data.update(
            amount=ZERO,
            amount_offered=total,
            note="Recorded from the owed queue: the person chose this way of being paid.",
        )
    if kind == "charity":
        data["charity_name"] = note
    return data


def _record_one(person: Person, on: date, reason: str | None, *, actor, today: date) -> Payment:
    unpaid = contributions.unpaid_contributions(person.id)
    pref = person.preferences[0] if person.preferences else None
    data = payment_data(pref.kind if pref else DEFAULT_KIND, pref.note if pref else None, unpaid, on, reason)
    payment, _ = service.record_payment(person, service.parse_payment(data), actor=actor, today=today)
    return payment


def record(person_ids: Iterable[int], on: date, reasons: Mapping[int, str], *, actor, today: date) -> Recorded:
    """Record a draft for each person chosen, paying everything they are owed on ``on``.

    Each goes through the payment service (checked and audited, the contributions linked). A payment
    the check blocks is not recorded unless a reason to override was given for that person; one the
    service refuses is listed with its messages. Nothing is written for either."""
    out = Recorded([], [], [])
    people = {p.id: p for p in db.session.scalars(sa.select(Person).where(Person.id.in_(list(person_ids))))}
    for pid in person_ids:
        person = people.get(pid)
        if person is None:
            continue
        try:
            out.made.append((person.name, _record_one(person, on, reasons.get(pid), actor=actor, today=today)))
        except Conflict as e:
            if e.code != "benefit_rule_block":
                raise
            out.blocked.append(person.name)
        except ValidationFailed as e:
            out.refused.append((person.name, [m for ms in e.fields.values() for m in ms] or [e.message]))
    return out
