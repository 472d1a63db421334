"""Filtered lists of payments, contributions and expenses: one query builder shared by the pages,
the API and the exports, so an export holds exactly the rows the list shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker import keyset
from tracker.contributions.models import Activity, Contribution
from tracker.errors import ValidationFailed
from tracker.payments.models import Expense, Payment, payment_contribution
from tracker.people.models import Person
from tracker.timeutil import day_arg
from tracker.vocab import MAX_ID, MAX_PAGE, MAX_PER_PAGE, PAYMENT_KINDS, PAYMENT_SORTS, PAYMENT_STATUSES

SORTS = PAYMENT_SORTS


@dataclass(frozen=True)
class Filters(keyset.Args):
    person_id: int | None = None
    activity_id: int | None = None
    status: str | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str | None = None

    def as_args(self) -> dict:
        out = {
            "person_id": self.person_id,
            "activity_id": self.activity_id,
            "status": self.status,
            "kind": self.kind,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "sort": self.sort,
        }
        return {k: v for k, v in out.items() if v not in (None, "")}


def parse_filters(args) -> Filters:
    """Read filters from query arguments; a bad value is a 422 naming the argument."""
    errors: dict[str, list[str]] = {}

    def integer(name, default=None, low=1, high=MAX_ID):
        raw = args.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[name] = ["Use a whole number."]
            return default
        if value < low or (high is not None and value > high):
            errors[name] = [f"Use a number from {low} to {high}."]
            return default
        return value

    def day(name):
        return day_arg(args, name, errors)

    status = args.get("status") or None
    if status and status not in PAYMENT_STATUSES:
        errors["status"] = ["Choose one of: " + ", ".join(PAYMENT_STATUSES) + "."]
    kind = args.get("kind") or None
    if kind and kind not in PAYMENT_KINDS:
        errors["kind"] = ["Choose one of: " + ", ".join(PAYMENT_KINDS) + "."]
    sort = args.get("sort") or None
    if sort and sort.removeprefix("-") not in SORTS:
        errors["sort"] = ["Sort by one of: " + ", ".join(SORTS) + " (a minus sign first for the other way)."]
    cursor, count = keyset.list_args(args, errors)
    f = Filters(
        person_id=integer("person_id"),
        activity_id=integer("activity_id"),
        status=status,
        kind=kind,
        date_from=day("from"),
        date_to=day("to"),
        page=integer("page", 1, 1, MAX_PAGE),
        per_page=integer("per_page", 50, 1, MAX_PER_PAGE),
        sort=sort,
        cursor=cursor,
        count=count,
    )
    if f.date_from and f.date_to and f.date_to < f.date_from:
        errors["to"] = ["The end date must be on or after the start date."]
    if errors:
        raise ValidationFailed(errors)
    return f


def _person_and_dates(q: sa.Select, f: Filters, person_scope: int | None, person_id, day) -> sa.Select:
    """The filters every list has: one person (the scope wins over the filter) and a date range."""
    pid = person_scope if person_scope is not None else f.person_id
    if pid is not None:
        q = q.where(person_id == pid)
    if f.date_from:
        q = q.where(day >= f.date_from)
    if f.date_to:
        q = q.where(day <= f.date_to)
    return q


def payments_query(f: Filters, *, person_scope: int | None = None, eager: bool = True) -> sa.Select:
    """``eager`` loads each payment's person and contributions (the pages show them); the API
    reads contribution ids in one extra query instead."""
    q = _sorted(sa.select(Payment), f.sort)
    if eager:
        q = q.options(so.joinedload(Payment.person), so.selectinload(Payment.contributions))
    q = _person_and_dates(q, f, person_scope, Payment.person_id, Payment.paid_on)
    if f.status:
        q = q.where(Payment.status == f.status)
    if f.kind:
        q = q.where(Payment.kind == f.kind)
    if f.activity_id:
        linked = (
            sa.select(payment_contribution.c.payment_id)
            .join(Contribution, Contribution.id == payment_contribution.c.contribution_id)
            .where(Contribution.activity_id == f.activity_id)
        )
        q = q.where(Payment.id.in_(linked))
    return q


_PAYMENT_COLUMNS = {
    "date": (Payment.paid_on, lambda p: p.paid_on),
    "amount": (Payment.amount, lambda p: p.amount),
    "status": (Payment.status, lambda p: p.status),
    "person": (Person.name, lambda p: p.person.name),
}


def payment_order(sort: str | None) -> keyset.Order:
    """The order of a payments list (``sort``; the latest first without one), for its cursor too."""
    key, descending = (sort.removeprefix("-"), sort.startswith("-")) if sort else ("date", True)
    column, value_of = _PAYMENT_COLUMNS[key]
    return keyset.Order(f"payments:{key}:{int(descending)}", column, Payment.id, descending, value_of)


def _sorted(q: sa.Select, sort: str | None) -> sa.Select:
    """The payments in the order asked for; ties by id, so a page never repeats or skips a row."""
    order = payment_order(sort)
    if order.column is Person.name:
        q = q.join(Person, Person.id == Payment.person_id)
    return q.order_by(*order.by())


CONTRIBUTION_ORDER = keyset.Order("contributions", Contribution.worked_on, Contribution.id, True, lambda c: c.worked_on)
EXPENSE_ORDER = keyset.Order("expenses", Expense.paid_on, Expense.id, True, lambda e: e.paid_on)


def contributions_query(f: Filters, *, person_scope: int | None = None) -> sa.Select:
    q = (
        sa.select(Contribution)
        .options(so.joinedload(Contribution.person), so.joinedload(Contribution.activity))
        .order_by(*CONTRIBUTION_ORDER.by())
    )
    q = _person_and_dates(q, f, person_scope, Contribution.person_id, Contribution.worked_on)
    if f.activity_id:
        q = q.where(Contribution.activity_id == f.activity_id)
    return q


def expenses_query(f: Filters, *, person_scope: int | None = None) -> sa.Select:
    q = sa.select(Expense).options(so.joinedload(Expense.person)).order_by(*EXPENSE_ORDER.by())
    return _person_and_dates(q, f, person_scope, Expense.person_id, Expense.paid_on)


__all__ = ["Filters", "parse_filters", "payments_query", "contributions_query", "expenses_query", "Activity", "Person"]


def contribution_ids_for(payment_ids) -> dict[int, list[int]]:
    """{payment id: [contribution ids]} in one query."""
    out: dict[int, list[int]] = {}
    if not payment_ids:
        return out
    from tracker.extensions import db

    for pid, cid in db.session.execute(
        sa.select(payment_contribution.c.payment_id, payment_contribution.c.contribution_id)
        .where(payment_contribution.c.payment_id.in_(list(payment_ids)))
        .order_by(payment_contribution.c.contribution_id)
    ):
        out.setdefault(pid, []).append(cid)
    return out
