"""Which date a payment counts on for a rule, spreading a payment over the period it covers, and
the benefit week a week's earnings decide.

- ``received``: the day the person receives it (Universal Credit: UC Regulations 2013 reg 54).
- ``due``: the day it is due to be paid, which is the day it is received unless a payment says
  otherwise (Carer's Allowance, Carer Support Payment, ESA and JSA: Social Security Benefit
  (Computation of Earnings) Regulations 1996 regs 6 and 7; ESA Regulations 2008 reg 93).
- ``worked``: the day the work was done (hours rules always count the day worked).

A rule with ``spread`` counts a payment for a period of work (``covers_from`` to
``covers_to``) evenly by day across that period, in whole pennies that add up to the payment
exactly (see ``shares``). A payment without a covered period counts whole on its date.

A rule that ``affects`` the ``following_week`` (Carer's Allowance: Social Security (Invalid Care
Allowance) Regulations 1976 reg 8, KJ [2010] UKUT 218 (AAC); Carer Support Payment) totals the
earnings of one week and judges them for the benefit week after it.

Pure standard library and the engine's model: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

PENNY = Decimal("0.01")
ONE_DAY = timedelta(days=1)
ONE_WEEK = timedelta(days=7)


class Dated(Protocol):
    """What the engine knows about a payment's dates (a ledger or proposed payment)."""

    @property
    def paid_on(self) -> date: ...
    @property
    def due_on(self) -> date | None: ...
    @property
    def worked_on(self) -> date | None: ...
    @property
    def covers_from(self) -> date | None: ...
    @property
    def covers_to(self) -> date | None: ...


class Attribution(Protocol):
    """The rule fields that decide which date counts."""

    @property
    def date_basis(self) -> str: ...
    @property
    def measure(self) -> str: ...
    @property
    def spread(self) -> bool: ...


class Part(NamedTuple):
    """The share of a spread payment that falls in a period: what ``_payment_value`` reads."""

    kind: str
    amount: Decimal
    benefit_value: Decimal | None
    status: str
    id: object


def basis_date(rule: Attribution, p: Dated) -> date:
    """The single date a payment counts on for this rule (before any spreading)."""
    if rule.measure == "hours" or rule.date_basis == "worked":
        return p.worked_on or p.paid_on
    if rule.date_basis == "due":
        return p.due_on or p.paid_on
    return p.paid_on


def is_spread(rule: Attribution, p: Dated) -> bool:
    return rule.spread and rule.measure != "hours" and p.covers_from is not None and p.covers_to is not None


def span(rule: Attribution, p: Dated) -> tuple[date, date]:
    """The first and last day the payment can count on for this rule."""
    if is_spread(rule, p):
        assert p.covers_from is not None and p.covers_to is not None
        return p.covers_from, p.covers_to
    d = basis_date(rule, p)
    return d, d


def _upto(pence: int, days: int, k: int) -> int:
    """The pence of ``pence`` spread over ``days`` that fall in its first ``k`` days: the exact
    proportion rounded to the penny, half up (for a negative amount, as its opposite)."""
    whole = abs(pence)
    share = (2 * whole * k + days) // (2 * days)
    return -share if pence < 0 else share


def _pence(amount: Decimal) -> int:
    return int((amount / PENNY).to_integral_value())


def shares(amount: Decimal, days: int) -> list[Decimal]:
    """``amount`` in ``days`` daily shares of whole pennies that add up to it exactly.

    Each day's share keeps the running total at the exact proportion rounded to the penny (half
    up), so every share is the same to within a penny, the shares add up to the amount, and any run
    of days (a week, an assessment period) gets its exact share to within a penny: £40.00 over
    fourteen days is £20.00 in each week. A negative amount (a reversal) is shared as its opposite,
    so it nets out the payment it reverses day by day.
    """
    pence = _pence(amount)
    return [Decimal(_upto(pence, days, k + 1) - _upto(pence, days, k)) * PENNY for k in range(days)]


def _share(amount: Decimal, days: int, a: int, b: int) -> Decimal:
    """The sum of ``shares(amount, days)[a:b]``, worked out directly."""
    pence = _pence(amount)
    return Decimal(_upto(pence, days, b) - _upto(pence, days, a)) * PENNY


def portion(rule: Attribution, p: Any, start: date, end: date) -> Any:
    """What of a payment the rule counts from ``start`` to ``end``: the payment itself when its
    date falls there, the share of the days it covers that fall there when the rule spreads it
    (a ``Part``), or None."""
    if not is_spread(rule, p):
        return p if start <= basis_date(rule, p) <= end else None
    first, last = p.covers_from, p.covers_to
    lo, hi = max(start, first), min(end, last)
    if hi < lo:
        return None
    days = (last - first).days + 1
    a, b = (lo - first).days, (hi - first).days + 1
    value = p.benefit_value
    if value is not None and p.amount < 0 < value:
        value = -value  # a reversal's declared value nets out, day by day, the training it reverses
    worth = None if value is None else _share(value, days, a, b)
    return Part(p.kind, _share(p.amount, days, a, b), worth, p.status, p.id)


def following_week(start: date, end: date) -> tuple[date, date]:
    """The benefit week after the week ``start`` to ``end``."""
    return start + ONE_WEEK, end + ONE_WEEK
