"""Forms for the contributor's own pages. They only read what was typed."""

from __future__ import annotations

from datetime import date

from wtforms import Form
from wtforms.validators import Optional, ValidationError

from tracker.people.forms import PlainDateField
from tracker.vocab import FIRST_YEAR, LAST_YEAR

# Dates the checks can work with (the rules look a year or so either side of the date).
EARLIEST = date(FIRST_YEAR, 1, 1)
LATEST = date(LAST_YEAR, 12, 31)


def in_range(form, field):
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(f"Enter a date between {EARLIEST.year} and {LATEST.year}.")


class PositionDateForm(Form):
    """The GET form on "Where you stand": which date to look at (no CSRF: it changes nothing)."""

    on = PlainDateField(
        "Show the period that includes this date", validators=[Optional(), in_range], error_name="The date"
    )
