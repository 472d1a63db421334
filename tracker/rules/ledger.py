"""A person's ledger: read for the pure engine, and announced when it is written.

Reading: a person's rows in the database become the plain data the pure engine takes. Only the
columns the engine needs are read (no ORM objects), within a date range wide enough for every
period kind (a tax year back, and ahead for suggestions).

Ledger events: whatever writes a person's payments, expenses, other income, contributions or
benefit claims calls one of these, in the same transaction, at the place it writes:

* ``changed(session, person_ids)``: raises each person's ``ledger_version``. The risk dashboard's
  kept positions (``tracker.risks.positions``) are trusted only while the version they were
  worked out from is current, so the people are worked out again next time. The UPDATE also
  takes each person's row lock (PostgreSQL) or the write lock (SQLite), so a check running at the
  same moment waits for this transaction and then sees its rows: payments call it *before* they
  check (``payments.service.lock_person_ledger``).
* ``claims_changed(session, person_ids)``: the same, and the people's kept positions are
  deleted, since they name the benefits a person claims (a claim added, changed or removed;
  consent withdrawn, which removes every claim).

The writers: ``payments.service`` (record, approve, pay, cancel, reverse), ``payments.expenses``
(expenses, other income), ``contributions.service`` (one contribution, a session),
``people.service`` (claims, consent withdrawn), ``people.household`` (a partner's earnings),
``imports.service`` (payments and contributions from a file), ``imports.batches`` (an import approved or rejected) and
``earnings.service`` (other income from a signed earnings record). There is no listener: a writer
that forgets the event leaves the dashboard's order stale, and tests/test_ledger_events.py checks
each writer.

Two writers need no event: the demo seed (``tracker.demo``) inserts new people together with their
records, so nothing can be kept about them yet; and nothing deletes a person (kept rows would go
with them, ``ON DELETE CASCADE``). Changing a person's name or contact details is not a ledger
change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from tracker.contributions.models import Activity, Contribution
from tracker.engine import core as engine
from tracker.extensions import db, table_of
from tracker.money import scaled_reader
from tracker.payments.models import Expense, OtherIncome, Payment, counts, payment_contribution
from tracker.people.models import BenefitClaim, PartnerEarning, Person, Preference
from tracker.risks.models import RiskPosition
from tracker.vocab import MAX_COVER_AFTER_DUE_DAYS, MAX_COVER_DAYS

BACK = timedelta(days=400)
AHEAD = timedelta(days=450)
# A payment can count on a day other than its receipt: its due date, or a day of the work it covers
# (tracker.payments.dates: the work ends at most a month after the due date and lasts at most a
# year). A payment is read when it is received, or due, near enough to the range to count in it.
DUE_BEFORE = timedelta(days=MAX_COVER_AFTER_DUE_DAYS)
DUE_AFTER = timedelta(days=MAX_COVER_DAYS + MAX_COVER_AFTER_DUE_DAYS)
CHUNK = 500  # ids per IN list
# A plain session or the app's scoped one (``db.session``), which passes calls on to its session.
AnySession = so.Session | so.scoped_session[Any]


# ---- ledger events ------------------------------------------------------------------------------


def _chunks(person_ids: Iterable[int | None]) -> Iterator[list[int]]:
    ids = sorted({pid for pid in person_ids if pid is not None})
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def changed(session: AnySession, person_ids: Iterable[int | None]) -> None:
    """These people's ledgers are written in this transaction: raise their ``ledger_version``."""
    for ids in _chunks(person_ids):
        session.execute(
            sa.update(Person)
            .where(Person.id.in_(ids))
            .values(ledger_version=Person.ledger_version + 1)
            .execution_options(synchronize_session=False)
        )


def claims_changed(session: AnySession, person_ids: Iterable[int | None]) -> None:
    """These people's benefit claims are written in this transaction: raise their
    ``ledger_version`` and delete their kept positions, which name the benefits."""
    person_ids = list(person_ids)
    changed(session, person_ids)
    table = table_of(RiskPosition)
    for ids in _chunks(person_ids):
        session.execute(table.delete().where(table.c.person_id.in_(ids)))


# ---- reading ------------------------------------------------------------------------------------


def claims_for(person_id: int) -> list[engine.Claim]:
    rows = db.session.execute(
        sa.select(BenefitClaim.benefit, BenefitClaim.start_on, BenefitClaim.end_on, BenefitClaim.attributes).where(
            BenefitClaim.person_id == person_id
        )
    ).all()
    return [
        engine.Claim(benefit=r.benefit, start_on=r.start_on, end_on=r.end_on, attributes=dict(r.attributes or {}))
        for r in rows
    ]


def preferences_for(person_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Preference.kind).where(Preference.person_id == person_id).order_by(Preference.position)
        )
    )


_p, _e, _o, _c = (Payment.__table__.c, Expense.__table__.c, OtherIncome.__table__.c, Contribution.__table__.c)
_PID: sa.BindParameter[int] = sa.bindparam("pid")
_START: sa.BindParameter[date] = sa.bindparam("start")
_END: sa.BindParameter[date] = sa.bindparam("end")
# Built once: a check runs these on every payment recorded, so they should cost only the query.


def _near(c, start, end, due_start, due_end) -> sa.ColumnElement[bool]:
    """Payments received in the range, or due near enough to it to count in it (``_due_range``)."""
    return sa.or_(c.paid_on.between(start, end), c.due_on.between(due_start, due_end))


def _due_range(start: date, end: date) -> tuple[date, date]:
    return start - DUE_BEFORE, end + DUE_AFTER


_pc, _a = payment_contribution.c, Activity.__table__.c


def _service_user_context(p) -> sa.ColumnElement[str | None]:
    """For a payment with an amount offered: whether the work it pays for is service-user
    involvement (each contribution's activity says). ``yes`` only when every contribution it pays
    for says yes; ``no`` when any says no; else (none linked, or any unknown) ``unknown``. A
    reversal answers for the payment it reverses. ("no" < "unknown" < "yes", so the least of them
    is the most cautious answer.)"""
    least = (
        sa.select(sa.func.min(sa.func.coalesce(_a.service_user_context, "unknown")))
        .select_from(
            payment_contribution.join(Contribution.__table__, _pc.contribution_id == _c.id).outerjoin(
                Activity.__table__, _c.activity_id == _a.id
            )
        )
        .where(_pc.payment_id == sa.func.coalesce(p.reversal_of_id, p.id))
        .scalar_subquery()
    )
    return sa.case((p.amount_offered.is_not(None), least), else_=sa.null())


def _offer(offered: Decimal | None, reversal_of_id: int | None) -> Decimal | None:
    """The offer as the engine reads it: a reversal carries minus the offer it reverses."""
    if offered is None or reversal_of_id is None:
        return offered
    return -offered


def payer() -> str | None:
    """What kind of payer the organisation is (``ORGANISATION_PAYER``), for notional earnings."""
    return current_app.config.get("ORGANISATION_PAYER") or None


_PAYMENTS = sa.select(
    _p.id,
    _p.kind,
    _p.amount,
    _p.benefit_value,
    _p.paid_on,
    _p.worked_on,
    _p.status,
    _p.due_on,
    _p.covers_from,
    _p.covers_to,
    _p.amount_offered,
    _p.reversal_of_id,
    _service_user_context(_p).label("context"),
).where(_p.person_id == _PID, counts(_p), _near(_p, _START, _END, sa.bindparam("due_start"), sa.bindparam("due_end")))
_PAYMENTS_EXCEPT = _PAYMENTS.where(_p.id != sa.bindparam("exclude"))
_EXPENSES = sa.select(_e.amount, _e.incurred_on, _e.paid_on, _e.service_user_context).where(
    _e.person_id == _PID, _e.paid_on.between(_START, _END)
)
_pe = PartnerEarning.__table__.c


def _income_and_partner(person_ids, start, end):
    """Other income and a partner's earnings in one query (``partner`` is 1 for the partner's)."""
    return sa.union_all(
        sa.select(_o.person_id, _o.amount, _o.received_on, sa.literal(0).label("partner")).where(
            person_ids(_o.person_id), _o.received_on.between(start, end)
        ),
        sa.select(_pe.person_id, _pe.amount, _pe.received_on, sa.literal(1).label("partner")).where(
            person_ids(_pe.person_id), _pe.received_on.between(start, end)
        ),
    )


def _split_income(rows) -> dict[int, tuple[list, list]]:
    """Rows of ``_income_and_partner`` as each person's (other income, partner's earnings)."""
    out: dict[int, tuple[list, list]] = {}
    for r in rows:
        income, partner = out.setdefault(r.person_id, ([], []))
        if r.partner:
            partner.append(engine.LedgerPartner(amount=r.amount, received_on=r.received_on))
        else:
            income.append(engine.LedgerIncome(amount=r.amount, received_on=r.received_on))
    return out


_INCOME = _income_and_partner(lambda c: c == _PID, _START, _END)
_HOURS = sa.select(_c.worked_on, _c.hours, _c.preparation_hours).where(
    _c.person_id == _PID, _c.worked_on.between(_START, _END)
)


def ledger_for(
    person_id: int, around: date | tuple[date, date], *, exclude_payment_id: int | None = None, hours: bool = True
) -> engine.Ledger:
    """The person's ledger around a date (or a range of dates). ``hours=False`` skips the hours
    worked when no hours rule can apply to the person."""
    if isinstance(around, tuple):
        start, end = around[0] - BACK, around[1] + AHEAD
    else:
        start, end = around - BACK, around + AHEAD
    params = {"pid": person_id, "start": start, "end": end}
    due_start, due_end = _due_range(start, end)
    pay_params = {**params, "due_start": due_start, "due_end": due_end}
    run = db.session.execute
    if exclude_payment_id is None:
        rows = run(_PAYMENTS, pay_params)
    else:
        rows = run(_PAYMENTS_EXCEPT, {**pay_params, "exclude": exclude_payment_id})
    trusted = engine.LedgerPayment.from_trusted
    payments = tuple(
        trusted(
            r.kind,
            r.amount,
            r.paid_on,
            r.worked_on,
            r.benefit_value,
            r.status,
            r.id,
            r.due_on,
            r.covers_from,
            r.covers_to,
            _offer(r.amount_offered, r.reversal_of_id),
            r.context or "unknown",
        )
        for r in rows
    )
    expenses = tuple(
        engine.LedgerExpense(
            amount=r.amount, incurred_on=r.incurred_on, paid_on=r.paid_on, service_user_context=r.service_user_context
        )
        for r in run(_EXPENSES, params)
    )
    income, partner = _split_income(run(_INCOME, params)).get(person_id, ([], []))
    worked: tuple[engine.LedgerHours, ...] = ()
    if hours:
        worked = tuple(
            engine.LedgerHours(worked_on=r.worked_on, hours=r.hours + (r.preparation_hours or 0))
            for r in run(_HOURS, params)
        )
    return engine.Ledger(
        payments=payments,
        expenses=expenses,
        other_income=tuple(income),
        hours=worked,
        partner=tuple(partner),
        payer=payer(),
    )


def person_exists(person_id: int) -> bool:
    return db.session.get(Person, person_id) is not None


def _bulk_claims(person_filter) -> dict[int, list]:
    claims: dict[int, list] = {}
    for r in db.session.execute(
        sa.select(
            BenefitClaim.person_id,
            BenefitClaim.benefit,
            BenefitClaim.start_on,
            BenefitClaim.end_on,
            BenefitClaim.attributes,
        ).where(BenefitClaim.person_id.in_(person_filter))
    ):
        claims.setdefault(r.person_id, []).append(
            engine.Claim(benefit=r.benefit, start_on=r.start_on, end_on=r.end_on, attributes=dict(r.attributes or {}))
        )
    return claims


def _bulk_payments(person_filter, where: list) -> dict[int, list]:
    """The payments of everyone selected that ``where`` holds for, by person.

    The biggest read in the tracker (the scan: everyone's payments): the columns come back as
    plain tuples on the Core connection, and the amounts as stored integers, turned into Decimals
    exactly as the column type would, remembering repeated amounts."""
    p = Payment.__table__.c
    pence = scaled_reader(2)
    trusted = engine.LedgerPayment.from_trusted
    pays: dict[int, list] = {}
    rows = db.session.connection().execute(
        sa.select(
            p.person_id,
            p.id,
            p.kind,
            sa.type_coerce(p.amount, sa.BigInteger),
            sa.type_coerce(p.benefit_value, sa.BigInteger),
            p.paid_on,
            p.worked_on,
            p.status,
            p.due_on,
            p.covers_from,
            p.covers_to,
            sa.type_coerce(p.amount_offered, sa.BigInteger),
            p.reversal_of_id,
            _service_user_context(p),
        ).where(p.person_id.in_(person_filter), *where)
    )
    for row in rows.fetchall():
        pid, pay_id, kind, amount, value, paid_on, worked_on, status, due_on, c_from, c_to, offered, rev, ctx = row
        found = pays.get(pid)
        if found is None:
            found = pays[pid] = []
        found.append(
            trusted(
                kind,
                pence(amount),
                paid_on,
                worked_on,
                pence(value),
                status,
                pay_id,
                due_on,
                c_from,
                c_to,
                _offer(pence(offered), rev),
                ctx or "unknown",
            )
        )
    return pays


def _fold_segments(
    near: tuple[date, date], year: tuple[date, date], start: date, end: date
) -> list[tuple[date, date, date | None]]:
    """The parts of ``start`` to ``end`` outside ``near``, each with the day its payments are
    added up on: ``(first, last, day)``; ``day`` is None outside the tax year (they count in no
    period containing the day, so they are not read at all)."""
    one = timedelta(days=1)
    low, high = min(near[0], year[0]), max(near[1], year[1])
    out: list[tuple[date, date, date | None]] = []
    if start < low:
        out.append((start, low - one, None))
    if year[0] < near[0]:
        out.append((year[0], near[0] - one, year[0]))
    if near[1] < year[1]:
        out.append((near[1] + one, year[1], year[1]))
    if high < end:
        out.append((high + one, end, None))
    return out


def _all_within(c, lo: date, hi: date) -> sa.ColumnElement[bool]:
    """Every date a payment can count on (received, due, worked) is from ``lo`` to ``hi``, and it
    covers no period of work (it would be spread over the days of that work)."""
    return sa.and_(
        c.covers_from.is_(None),
        c.paid_on.between(lo, hi),
        sa.func.coalesce(c.due_on, c.paid_on).between(lo, hi),
        sa.func.coalesce(c.worked_on, c.paid_on).between(lo, hi),
    )


def _folded(person_filter, segments: list[tuple[date, date, date]]) -> dict[int, list]:
    """The payments whose every date is within one of ``segments`` (``(lo, hi, day)``, see
    ``_all_within``), added up in SQL in one query: one payment dated that segment's ``day`` per
    person, segment, kind, status, sign of the amount and of the benefit value (a training
    reversal's value counts against it, ``evaluate._payment_value``), and whether a benefit value
    is given."""
    p = Payment.__table__.c
    pence = scaled_reader(2)
    amount = sa.type_coerce(p.amount, sa.BigInteger)
    value = sa.type_coerce(p.benefit_value, sa.BigInteger)
    within = [_all_within(p, lo, hi) for lo, hi, _ in segments]
    seg = sa.case(*((w, i) for i, w in enumerate(within)), else_=-1)
    keys = (p.person_id, seg, p.kind, p.status, amount < 0, value.is_(None), sa.func.coalesce(value, 0) < 0)
    q = (
        sa.select(p.person_id, seg, p.kind, p.status, sa.func.sum(amount), sa.func.sum(value))
        .where(p.person_id.in_(person_filter), counts(p), sa.or_(*within))
        .group_by(*keys)
    )
    trusted = engine.LedgerPayment.from_trusted
    out: dict[int, list] = {}
    for pid, i, kind, status, total, value_total in db.session.connection().execute(q).fetchall():
        day = segments[i][2]
        out.setdefault(pid, []).append(
            trusted(kind, pence(total), day, day, pence(value_total), status, None, day, None, None)
        )
    return out


def _payments_near_and_folded(person_filter, start: date, end: date, folds: list) -> dict[int, list]:
    """Everyone's payments: those near the day row by row (``_bulk_payments``), and those that can
    count only in the tax year added up (``_folded``), by person."""
    p = Payment.__table__.c
    shown = [counts(p), _near(p, start, end, *_due_range(start, end))]
    if folds:
        shown.append(sa.not_(sa.or_(*(_all_within(p, lo, hi) for lo, hi, _ in folds))))
    pays = _bulk_payments(person_filter, shown)
    added_up = [(lo, hi, day) for lo, hi, day in folds if day is not None]
    if added_up:
        for pid, found in _folded(person_filter, added_up).items():
            pays.setdefault(pid, []).extend(found)
    return pays


def bulk_for(person_filter, on: date, *, reach=None) -> dict[int, tuple[list, engine.Ledger]]:
    """Claims and ledgers for many people in five queries, or six with ``reach`` (not per person):
    other income and a partner's earnings come in one.

    ``person_filter`` is a SQL selectable of person ids (e.g. everyone with a claim), or a list of
    ids (a page of people: the database then looks each one up by index).

    ``reach`` (``engine.position_reach(rules, on)``), for positions on ``on`` only: a payment
    whose every date (received, due, worked; no covered period) is outside every period that can
    contain ``on`` is not read, and those that can count only in the tax year containing ``on``
    (outside every shorter period) come added up in SQL, one per person, kind, status and sign
    (``_folded``), not row by row. The engine's totals are the same: a tax-year total is a sum.
    """
    # Far enough ahead to cover the longest period containing ``on`` (a tax year ends up to a
    # year later), so planned payments later in that period count.
    start, end = on - BACK, on + timedelta(days=370)
    folds: list[tuple[date, date, date | None]] = []
    if reach is not None and reach[1] is not None:
        folds = _fold_segments(reach[0], reach[1], start, end)
    claims = _bulk_claims(person_filter)
    parts: dict[int, dict[str, list]] = {pid: {"p": [], "e": [], "o": [], "h": [], "w": []} for pid in claims}

    def bucket(pid):
        return parts.setdefault(pid, {"p": [], "e": [], "o": [], "h": [], "w": []})

    for pid, found in _payments_near_and_folded(person_filter, start, end, folds).items():
        bucket(pid)["p"] = found
    e = Expense.__table__.c
    for r in db.session.execute(
        sa.select(e.person_id, e.amount, e.incurred_on, e.paid_on, e.service_user_context).where(
            e.person_id.in_(person_filter), e.paid_on.between(start, end)
        )
    ):
        bucket(r.person_id)["e"].append(
            engine.LedgerExpense(
                amount=r.amount,
                incurred_on=r.incurred_on,
                paid_on=r.paid_on,
                service_user_context=r.service_user_context,
            )
        )
    found_income = _split_income(db.session.execute(_income_and_partner(lambda c: c.in_(person_filter), start, end)))
    for pid, (income, partner) in found_income.items():
        bucket(pid)["o"], bucket(pid)["w"] = income, partner
    c = Contribution.__table__.c
    for r in db.session.execute(
        sa.select(c.person_id, c.worked_on, c.hours, c.preparation_hours).where(
            c.person_id.in_(person_filter), c.worked_on.between(start, end)
        )
    ):
        bucket(r.person_id)["h"].append(
            engine.LedgerHours(worked_on=r.worked_on, hours=r.hours + (r.preparation_hours or 0))
        )
    out = {}
    organisation = payer()
    for pid, b in parts.items():
        out[pid] = (
            claims.get(pid, []),
            engine.Ledger(
                payments=tuple(b["p"]),
                expenses=tuple(b["e"]),
                other_income=tuple(b["o"]),
                hours=tuple(b["h"]),
                partner=tuple(b["w"]),
                payer=organisation,
            ),
        )
    return out


def bulk_preferences(person_ids: list[int]) -> dict[int, list[str]]:
    """``preferences_for`` for many people in one query."""
    out: dict[int, list[str]] = {}
    for person_id, kind in db.session.execute(
        sa.select(Preference.person_id, Preference.kind)
        .where(Preference.person_id.in_(person_ids))
        .order_by(Preference.person_id, Preference.position)
    ):
        out.setdefault(person_id, []).append(kind)
    return out
