"""Period windows for benefit rules.

Every rule measures a total over a *period*: a benefit week, a Universal Credit assessment period,
a calendar month, a tax year, a block of weeks, or a single payment. ``window()`` returns the
inclusive ``(start, end)`` dates of the period of a given kind that contains a date. For every kind
the windows tile the calendar: each day lies in exactly one window, and the window after
``(start, end)`` is the one that contains ``end + 1 day``.

Pure standard library: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}

#: Period kinds that take no parameter.
SIMPLE_PERIODS = frozenset({"week", "uc_assessment_period", "calendar_month", "tax_year", "per_payment", "none"})
#: Period kinds written ``kind:N``, with the allowed range of N.
PARAM_PERIODS: dict[str, tuple[int, int]] = {"rolling_weeks": (1, 52), "rolling_days": (1, 366)}

# Used to align rolling blocks when no anchor (claim start date) is known. A Monday.
DEFAULT_ANCHOR = date(2001, 1, 1)

_ONE_DAY = timedelta(days=1)


class PeriodError(ValueError):
    """An unknown or malformed period, week start or assessment-period day."""


def parse_period(period: str) -> tuple[str, int | None]:
    """Split ``"rolling_weeks:5"`` into ``("rolling_weeks", 5)``; ``"week"`` into ``("week", None)``."""
    if not isinstance(period, str):
        raise PeriodError(f"A period must be text, not {type(period).__name__}.")
    if period in SIMPLE_PERIODS:
        return period, None
    name, sep, arg = period.partition(":")
    if sep and name in PARAM_PERIODS:
        low, high = PARAM_PERIODS[name]
        if not arg.isdigit():
            raise PeriodError(f"Write the period as {name}:N, with N a whole number from {low} to {high}.")
        n = int(arg)
        if not low <= n <= high:
            raise PeriodError(f"In {name}:N, N must be from {low} to {high}.")
        return name, n
    known = sorted(SIMPLE_PERIODS) + [f"{k}:N" for k in sorted(PARAM_PERIODS)]
    raise PeriodError(f"Unknown period {period!r}. Use one of: {', '.join(known)}.")


def weekday_number(name: str) -> int:
    """0 for monday ... 6 for sunday."""
    if not isinstance(name, str) or name.lower() not in WEEKDAYS:
        raise PeriodError(f"Unknown week start {name!r}. Use a day name such as monday or sunday.")
    return WEEKDAYS[name.lower()]


def resolve_week_start(claim_attributes: Mapping[str, Any] | None, rule_week_start: str | None) -> int:
    """The claim's ``week_start`` attribute, else the rule's default, else Monday."""
    if claim_attributes and claim_attributes.get("week_start"):
        return weekday_number(claim_attributes["week_start"])
    if rule_week_start:
        return weekday_number(rule_week_start)
    return 0


# --- Universal Credit assessment periods -------------------------------------------------------


def uc_ap_start(year: int, month: int, ap_start_day: int) -> date:
    """The day on which the UC assessment period that begins in ``year``-``month`` starts.

    Universal Credit Regulations 2013 (SI 2013/376) reg 21, as summarised in
    benefit-rules.md §1.1 "Period" (https://legislation.gov.uk/uksi/2013/376/part/3/2015-02-19):
    each assessment period starts on the same day of each month as the first one, except that
    - if that day is the 31st, it starts on the last day of any month with fewer days;
    - if it is the 29th or 30th, it starts on that day, except in February, where it starts on
      the 27th, or on the 28th in a leap year.
    """
    if isinstance(ap_start_day, bool) or not isinstance(ap_start_day, int) or not 1 <= ap_start_day <= 31:
        raise PeriodError("The UC assessment period start day must be a whole number from 1 to 31.")
    last = calendar.monthrange(year, month)[1]
    if ap_start_day <= 28:
        day = ap_start_day
    elif ap_start_day == 31:
        day = last  # reg 21: the last day of a month with fewer than 31 days
    elif month == 2:
        day = 28 if calendar.isleap(year) else 27  # reg 21: 29th/30th -> 27 Feb (28 Feb in leap years)
    else:
        day = ap_start_day  # 29th or 30th in a month other than February: every such month has it
    return date(year, month, day)


def _add_months(year: int, month: int, k: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + k
    return idx // 12, idx % 12 + 1


def _uc_window(on: date, ap_start_day: int) -> tuple[date, date]:
    this_start = uc_ap_start(on.year, on.month, ap_start_day)
    if on >= this_start:
        ny, nm = _add_months(on.year, on.month, 1)
        return this_start, uc_ap_start(ny, nm, ap_start_day) - _ONE_DAY
    py, pm = _add_months(on.year, on.month, -1)
    return uc_ap_start(py, pm, ap_start_day), this_start - _ONE_DAY


def _ap_start_day(claim_attributes: Mapping[str, Any] | None, anchor: date | None) -> int:
    if claim_attributes and claim_attributes.get("ap_start_day") is not None:
        day: int = claim_attributes["ap_start_day"]
        return day
    if anchor is not None:
        # reg 21(1): the first assessment period starts on the first day of entitlement.
        return anchor.day
    raise PeriodError("A Universal Credit claim needs its assessment period start day (ap_start_day).")


# --- the public function -----------------------------------------------------------------------


def window(
    period: str,
    on: date,
    claim_attributes: Mapping[str, Any] | None = None,
    rule_week_start: str | None = None,
    anchor: date | None = None,
) -> tuple[date, date]:
    """The inclusive ``(start, end)`` of the period of kind ``period`` that contains ``on``.

    - ``week``: seven days from the claim's ``week_start`` attribute, else ``rule_week_start``,
      else Monday.
    - ``uc_assessment_period``: the claim's ``ap_start_day`` (reg 21 rules for the 29th to 31st);
      without it, the day of ``anchor`` (the claim's start date).
    - ``calendar_month``; ``tax_year`` (6 April to 5 April).
    - ``rolling_weeks:N``: consecutive blocks of N weeks that tile the calendar, anchored at
      ``anchor`` (the claim's start date) moved back to the week start.
    - ``rolling_days:N``: consecutive blocks of N days from ``anchor``.
    - ``per_payment`` and ``none``: just that day.
    """
    if type(on) is not date:
        raise TypeError("The date must be a datetime.date (not a datetime or text).")
    name, n = parse_period(period)
    if name == "week":
        ws = resolve_week_start(claim_attributes, rule_week_start)
        start = on - timedelta(days=(on.weekday() - ws) % 7)
        return start, start + timedelta(days=6)
    if name == "uc_assessment_period":
        return _uc_window(on, _ap_start_day(claim_attributes, anchor))
    if name == "calendar_month":
        last = calendar.monthrange(on.year, on.month)[1]
        return on.replace(day=1), on.replace(day=last)
    if name == "tax_year":
        first_year = on.year if on >= date(on.year, 4, 6) else on.year - 1
        return date(first_year, 4, 6), date(first_year + 1, 4, 5)
    if name == "rolling_weeks":
        assert n is not None
        ws = resolve_week_start(claim_attributes, rule_week_start)
        base = anchor or DEFAULT_ANCHOR
        base = base - timedelta(days=(base.weekday() - ws) % 7)
        length = 7 * n
        start = base + timedelta(days=((on - base).days // length) * length)
        return start, start + timedelta(days=length - 1)
    if name == "rolling_days":
        assert n is not None
        base = anchor or DEFAULT_ANCHOR
        start = base + timedelta(days=((on - base).days // n) * n)
        return start, start + timedelta(days=n - 1)
    # per_payment, none
    return on, on


def next_window(
    period: str,
    current: tuple[date, date],
    claim_attributes: Mapping[str, Any] | None = None,
    rule_week_start: str | None = None,
    anchor: date | None = None,
) -> tuple[date, date]:
    """The window that follows ``current``."""
    return window(period, current[1] + _ONE_DAY, claim_attributes, rule_week_start, anchor)


#: Period kinds whose window containing a date is the same for everyone (no claim, no anchor).
FIXED_PERIODS = frozenset({"tax_year", "calendar_month"})
_LONGEST_MONTH = timedelta(days=30)  # a calendar month or an assessment period: at most 31 days


def reach(period: str, on: date) -> tuple[date, date]:
    """Every day that a window of kind ``period`` containing ``on`` can hold, whatever the claim:
    the window itself for the fixed kinds, else a bound (a week or a month either side...)."""
    name, n = parse_period(period)
    if name in FIXED_PERIODS:
        return window(period, on)
    if name == "week":
        span = timedelta(days=6)
    elif name == "uc_assessment_period":
        span = _LONGEST_MONTH
    elif name in PARAM_PERIODS:
        assert n is not None
        span = timedelta(days=(7 * n if name == "rolling_weeks" else n) - 1)
    else:  # per_payment, none
        span = timedelta(0)
    return on - span, on + span
