"""What the contribution and activity pages say: the rate of an activity in words, and the message
after a session is recorded. Nothing here writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from tracker.contributions.forms import RATE_UNIT_WORDS
from tracker.contributions.models import Activity, Contribution
from tracker.money import format_money
from tracker.payments.owed import OwedPerson
from tracker.timeutil import day_text
from tracker.vocab import KIND_LABELS


def rate_text(activity: Activity) -> str:
    """ "£20.00 an hour, preparation paid" in words."""
    text = f"{format_money(activity.default_rate)} {RATE_UNIT_WORDS.get(activity.rate_unit, activity.rate_unit)}"
    if activity.rate_unit == "hour":
        text += ", preparation time paid too" if activity.includes_preparation else ", preparation time not paid"
    else:
        text += ", whatever the hours"
    return text


def session_recorded(made: list[Contribution], activity: Activity, day: date) -> str:
    """The message after a session is recorded: who took part and what each is owed."""
    summary = "; ".join(f"{c.person.name} {format_money(c.value_owed)}" for c in made)
    count = len(made)
    return (
        f"The session has been recorded: {count} {'person' if count == 1 else 'people'} took part in "
        f"{activity.name} on {day_text(day)}. Value owed: {summary}."
    )


def _broken(check: Mapping | None) -> list[Mapping]:
    return [v for v in (check or {}).get("verdicts") or [] if v.get("status") in ("over", "unknown")]


def _rule_text(v: Mapping, names: bool) -> str:
    title = v.get("title") if names and v.get("title") else "a benefit rule"
    limit = v.get("limit")
    return f"{title} (limit {format_money(Decimal(limit))})" if limit and v.get("measure") != "hours" else str(title)


def owed_warning(row: OwedPerson, *, names: bool) -> str | None:
    """After work is recorded: what paying everything the person is owed, the way they chose, would
    break, and what they chose; None when it breaks nothing."""
    broken = _broken(row.check)
    if not broken and not (row.check or {}).get("blocked"):
        return None
    rules = "; ".join(dict.fromkeys(_rule_text(v, names) for v in broken)) or "a benefit rule"
    chose = "; then ".join(KIND_LABELS.get(k, k) for k in row.kinds) or "nothing yet (checked as a bank transfer)"
    label = KIND_LABELS.get(row.kind, row.kind)
    return (
        f"{row.name} is now owed {format_money(row.total)}. Paying it all now as “{label}” "
        f"would break {rules}. {row.name} chose: {chose}. Check the payment before it is made: the tracker is a "
        "safeguard, not benefits advice."
    )
