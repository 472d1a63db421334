"""What the contribution and activity pages say: the rate of an activity in words, and the message
after a session is recorded. Nothing here writes."""

from __future__ import annotations

from datetime import date

from tracker.contributions.forms import RATE_UNIT_WORDS
from tracker.contributions.models import Activity, Contribution
from tracker.money import format_money
from tracker.timeutil import day_text


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
