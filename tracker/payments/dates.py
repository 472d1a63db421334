"""A payment's due date and the period of work it covers: checked here for every way a payment
comes in (the API, the pages, an import), so the rules that count them (docs/rules-engine.md,
"Which date counts") always read sensible dates.

- ``due_on`` defaults to the date the person receives it (``paid_on``), and lies within a year of it.
- ``covers_from``/``covers_to`` come together, in order, at most a year long, ending no more than
  a month after the payment is due.
"""

from __future__ import annotations

from datetime import date, timedelta

from tracker.timeutil import EARLIEST_DAY, LATEST_DAY
from tracker.vocab import MAX_COVER_AFTER_DUE_DAYS, MAX_COVER_DAYS, MAX_DUE_GAP_DAYS

DATE_HINT = "Enter a date from 2000 to 2100, like 2025-04-07."


def _day(data: dict, name: str, errors: dict) -> date | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if type(value) is not date or not EARLIEST_DAY <= value <= LATEST_DAY:
        errors[name] = [DATE_HINT]
        return None
    return value


def _check_due(due_on: date, paid_on: date, errors: dict) -> None:
    if abs((due_on - paid_on).days) > MAX_DUE_GAP_DAYS:
        errors["due_on"] = ["The date it is due must be within a year of the date the person receives it."]


def _check_cover(covers_from: date | None, covers_to: date | None, due_on: date | None, errors: dict) -> None:
    if covers_from is None and covers_to is None:
        return
    if covers_from is None or covers_to is None:
        missing = "covers_from" if covers_from is None else "covers_to"
        errors[missing] = ["Give both the first and the last day of the work this payment is for, or neither."]
        return
    if covers_to < covers_from:
        errors["covers_to"] = ["The last day of the work must be on or after the first day."]
    elif (covers_to - covers_from).days + 1 > MAX_COVER_DAYS:
        errors["covers_to"] = [f"A payment can cover at most {MAX_COVER_DAYS} days of work."]
    elif due_on is not None and covers_to > due_on + timedelta(days=MAX_COVER_AFTER_DUE_DAYS):
        errors["covers_to"] = [
            f"The work it pays for cannot end more than {MAX_COVER_AFTER_DUE_DAYS} days after the payment is due."
        ]


def check_due_and_cover(data: dict, paid_on: object, errors: dict) -> tuple[date | None, date | None, date | None]:
    """``(due_on, covers_from, covers_to)`` from the input, with problems added to ``errors``.
    The due date is the receipt date when none is given."""
    given = _day(data, "due_on", errors)
    received = paid_on if type(paid_on) is date else None
    due_on = given or received
    if given is not None and received is not None:
        _check_due(given, received, errors)
    covers_from, covers_to = _day(data, "covers_from", errors), _day(data, "covers_to", errors)
    if "covers_from" not in errors and "covers_to" not in errors:
        _check_cover(covers_from, covers_to, due_on, errors)
    return due_on, covers_from, covers_to


def due_after_move(due_on: date | None, old_paid_on: date, new_paid_on: date) -> date:
    """A payment's due date once it is received on ``new_paid_on`` instead: a due date that was
    the receipt date (the default) moves with it; one given apart from it stays."""
    if due_on is None or due_on == old_paid_on:
        return new_paid_on
    return due_on
