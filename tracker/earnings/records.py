"""An earnings record: built from this installation's ledger, and read from another's.

Building reads the person's payments (never writes); reading checks a record's shape and turns it into
plain values. The signature is checked first (``service.import_record``): nothing in a record is read
as data before its issuer and signature are known.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tracker.contributions.models import Contribution
from tracker.earnings import signing
from tracker.earnings.keys import SigningKey
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import MoneyError, money_str, to_decimal
from tracker.payments.models import Payment, counts, payment_contribution
from tracker.people.models import Person
from tracker.timeutil import in_day_range, parse_day
from tracker.vocab import MAX_AMOUNT, MAX_RECORD_DAYS, PAYMENT_KINDS, PAYMENT_STATUSES

ZERO = Decimal("0.00")


def person_reference(person: Person) -> str:
    """How the issuing organisation names the person in a record, as on their statements."""
    return f"P-{person.id:06d}"


def check_period(start: date | None, end: date | None) -> tuple[date, date]:
    """A period of one day to a tax year and a day, from 2000 to 2100 (else a 422)."""
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["start_on"] = ["Enter the first day, like 2025-04-01."]
    if end is None:
        errors["end_on"] = ["Enter the last day, like 2025-04-30."]
    if start is not None and end is not None:
        if end < start:
            errors["end_on"] = ["The last day cannot be before the first."]
        elif (end - start).days >= MAX_RECORD_DAYS:
            errors["end_on"] = [f"A record covers at most {MAX_RECORD_DAYS} days; ask for two."]
    if errors:
        raise ValidationFailed(errors)
    assert start is not None and end is not None
    return start, end


# ---- building -----------------------------------------------------------------------------------


def _in_period(c, start: date, end: date):
    """A payment belongs to the period when any date a rule counts falls in it."""
    return sa.or_(c.paid_on.between(start, end), c.due_on.between(start, end), c.worked_on.between(start, end))


def _payments(person_id: int, start: date, end: date) -> list[Payment]:
    c = Payment.__table__.c
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(c.person_id == person_id, c.reversal_of_id.is_(None), counts(c), _in_period(c, start, end))
            .order_by(c.paid_on, c.id)
        )
    )


def _reversed(ids: list[int]) -> dict[int, Decimal]:
    """What the approved reversals of these payments take off each one."""
    c = Payment.__table__.c
    out: dict[int, Decimal] = {}
    if ids:
        for original, amount in db.session.execute(
            sa.select(c.reversal_of_id, c.amount).where(c.reversal_of_id.in_(ids), counts(c))
        ):
            out[original] = out.get(original, ZERO) + amount
    return out


def _work(ids: list[int]) -> dict[int, tuple[list[date], Decimal]]:
    """The days worked and hours (with preparation) of the contributions each payment pays for."""
    out: dict[int, tuple[list[date], Decimal]] = {}
    if not ids:
        return out
    link, c = payment_contribution.c, Contribution.__table__.c
    rows = db.session.execute(
        sa.select(link.payment_id, c.worked_on, c.hours, c.preparation_hours)
        .join(Contribution, Contribution.id == link.contribution_id)
        .where(link.payment_id.in_(ids))
    )
    for payment_id, worked_on, hours, preparation in rows:
        days, total = out.get(payment_id, ([], ZERO))
        out[payment_id] = ([*days, worked_on], total + hours + (preparation or ZERO))
    return out


def _entry(p: Payment, reversed_by: Decimal, work: tuple[list[date], Decimal]) -> dict:
    days, hours = work
    worked = sorted({*days, *([p.worked_on] if p.worked_on else [])})
    return {
        "id": f"payment-{p.id}",
        "kind": p.kind,
        "status": p.status,
        "amount": money_str(p.amount + reversed_by),
        "received_on": p.paid_on.isoformat(),
        "due_on": (p.due_on or p.paid_on).isoformat(),
        "worked_on": [d.isoformat() for d in worked],
        "hours": money_str(hours),
    }


def build(person: Person, start: date, end: date, key: SigningKey, *, now: datetime) -> dict:
    """The signed record of the payments this organisation made or plans for the person in the period."""
    payments = _payments(person.id, start, end)
    ids = [p.id for p in payments]
    reversed_by, work = _reversed(ids), _work(ids)
    entries = [_entry(p, reversed_by.get(p.id, ZERO), work.get(p.id, ([], ZERO))) for p in payments]
    body = {
        "format": signing.FORMAT,
        "record_id": uuid.uuid4().hex,
        "issuer": {"name": key.organisation, "key_id": key.key_id},
        "person": {"name": person.name, "reference": person_reference(person)},
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "issued_at": now.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
        "entries": entries,
        "total": money_str(sum((to_decimal(e["amount"]) for e in entries), ZERO)),
    }
    return signing.sign(body, key.private)


# ---- reading ------------------------------------------------------------------------------------


class BadRecord(ValueError):
    """A signed record whose content is not an earnings record we can read."""


@dataclass(frozen=True)
class Entry:
    ref: str
    kind: str
    amount: Decimal
    received_on: date
    due_on: date | None
    worked_on: date | None


@dataclass(frozen=True)
class Record:
    record_id: str
    issuer_name: str
    key_id: str
    person_name: str
    person_ref: str
    start: date
    end: date
    issued_at: datetime
    entries: tuple[Entry, ...]


def issuer_key_id(record: Any) -> str | None:
    """The key id a record names, read before anything else; None when it names none."""
    if not isinstance(record, dict) or record.get("format") != signing.FORMAT:
        return None
    issuer = record.get("issuer")
    key = issuer.get("key_id") if isinstance(issuer, dict) else None
    return key if isinstance(key, str) and key else None


def _text(obj: Any, name: str, limit: int) -> str:
    value = obj.get(name) if isinstance(obj, dict) else None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRecord(f"'{name}' is missing or too long.")
    return value.strip()


def _day(value: Any, name: str) -> date:
    try:
        return parse_day(value if isinstance(value, str) else None)
    except ValueError:
        raise BadRecord(f"'{name}' is not a date from 2000 to 2100.") from None


def _amount(value: Any) -> Decimal:
    try:
        amount = to_decimal(value) if isinstance(value, str) else None
    except MoneyError:
        amount = None
    if amount is None or abs(amount) > MAX_AMOUNT:
        raise BadRecord('An entry\'s amount is not money in pounds and pence, like "150.00".')
    return amount


def _read_entry(raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise BadRecord("An entry is not an object.")
    kind, status = raw.get("kind"), raw.get("status")
    if kind not in PAYMENT_KINDS or status not in PAYMENT_STATUSES:
        raise BadRecord("An entry has a kind or status this tracker does not know.")
    worked = raw.get("worked_on")
    if not isinstance(worked, list):
        raise BadRecord("An entry's 'worked_on' is not a list of dates.")
    days = [_day(d, "worked_on") for d in worked]
    return Entry(
        ref=_text(raw, "id", 100),
        kind=kind,
        amount=_amount(raw.get("amount")),
        received_on=_day(raw.get("received_on"), "received_on"),
        due_on=_day(raw.get("due_on"), "due_on"),
        worked_on=min(days) if days else None,
    )


def _issued_at(value: Any) -> datetime:
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or not in_day_range(at.date()):
        raise BadRecord("'issued_at' is not a time with its zone.")
    return at.astimezone(UTC).replace(tzinfo=None)


def read(record: dict) -> Record:
    """The record's content as plain values; ``BadRecord`` when it is not one we can read."""
    period, entries = record.get("period"), record.get("entries")
    if not isinstance(entries, list) or len(entries) > 10_000:
        raise BadRecord("'entries' is not a list.")
    start, end = _day(_field(period, "start"), "period.start"), _day(_field(period, "end"), "period.end")
    if end < start:
        raise BadRecord("The period ends before it starts.")
    read_entries = tuple(_read_entry(e) for e in entries)
    if len({e.ref for e in read_entries}) != len(read_entries):
        raise BadRecord("Two entries have the same id.")
    return Record(
        record_id=_text(record, "record_id", 64),
        issuer_name=_text(record.get("issuer"), "name", 200),
        key_id=_text(record.get("issuer"), "key_id", 32),
        person_name=_text(record.get("person"), "name", 200),
        person_ref=_text(record.get("person"), "reference", 100),
        start=start,
        end=end,
        issued_at=_issued_at(record.get("issued_at")),
        entries=read_entries,
    )


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else None
