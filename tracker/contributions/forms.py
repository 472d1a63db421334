"""Forms for the contribution and activity pages.

They only parse what was typed; amounts and hours stay text so the service parses them exactly
(tracker.money.to_decimal), and its ValidationFailed messages are put back onto these fields
(tracker.pages.submit; a session's row messages through ``row_errors``).
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from tracker.contributions.models import RATE_UNITS
from tracker.pages import parse_id
from tracker.payments.forms import DayField, NotHuge, clean, money_field, service_user_field
from tracker.people.forms import Needed, select_choices

#: Rows a session page first shows; "Add another person" adds one at a time, up to MAX_SESSION_ROWS.
SESSION_ROWS = 3
MAX_SESSION_ROWS = 60
#: The fields of one row of a session: person_N, hours_N, prep_N.
ROW_PREFIXES = ("person", "hours", "prep")
_ROW_KEY = re.compile(r"(?:person|hours|prep)_(\d{1,3})")

RATE_UNIT_LABELS = {"hour": "An hour", "half_day": "Half a day", "day": "A day", "session": "A session"}
# "£20.00 an hour", "£60.00 a session"
RATE_UNIT_WORDS = {"hour": "an hour", "half_day": "a half day", "day": "a day", "session": "a session"}
SERVICE_USER_LABELS = {"yes": "Yes: they take part as people who use its services", "no": "No", "unknown": "Not sure"}


def hours_field(label: str, required: bool = False) -> StringField:
    return StringField(
        label,
        validators=([Needed()] if required else []) + [NotHuge("That is far too large: enter hours like 2.5.")],
        render_kw={"inputmode": "decimal", "spellcheck": "false"},
    )


class ActivityForm(FlaskForm):
    name = StringField("Name of the activity", validators=[Needed()])
    description = TextAreaField("Description")
    default_rate = money_field("Rate, in pounds", required=True)
    rate_unit = SelectField(
        "The rate is paid for",
        choices=select_choices([(u, RATE_UNIT_LABELS[u]) for u in RATE_UNITS]),
        default="hour",
        validate_choice=False,
    )
    includes_preparation = BooleanField("Preparation time is paid at the same rate")
    service_user_context = service_user_field(
        "Do people take part as service users of the consulting body?", SERVICE_USER_LABELS
    )
    consulting_body = StringField("Consulting body")


class ContributionForm(FlaskForm):
    person_id = SelectField("Person", validate_choice=False, validators=[Needed()])
    activity_id = SelectField("Activity", validate_choice=False)
    worked_on = DayField("Date of the work", validators=[InputRequired("Enter the date of the work")])
    hours = hours_field("Hours worked", required=True)
    preparation_hours = hours_field("Preparation hours")
    role = StringField("Role")
    description = TextAreaField("Description")


def session_form_class(rows: int = SESSION_ROWS):
    """One session, many people: activity, date, description, then rows of (person, hours, preparation)."""

    class SessionForm(FlaskForm):
        activity_id = SelectField("Activity", validate_choice=False, validators=[Needed()])
        worked_on = DayField("Date of the session", validators=[InputRequired("Enter the date of the session")])
        description = TextAreaField("Description")

    for i in range(rows):
        setattr(SessionForm, f"person_{i}", SelectField(f"Row {i + 1}: person", validate_choice=False))
        setattr(SessionForm, f"hours_{i}", hours_field(f"Row {i + 1}: hours"))
        setattr(SessionForm, f"prep_{i}", hours_field(f"Row {i + 1}: preparation hours"))
    return SessionForm


# ---- the rows of a session ----------------------------------------------------------------------------


def row_count(formdata) -> int:
    """How many rows the posted page had (every row posts its fields, filled in or not)."""
    found = [int(m.group(1)) for m in map(_ROW_KEY.fullmatch, formdata.keys()) if m]
    return max(1, min(max(found) + 1 if found else SESSION_ROWS, MAX_SESSION_ROWS))


def with_rows_changed(formdata, count: int, action: str | None, remove: int | None) -> tuple[MultiDict, int]:
    """The posted session with one more row ("Add another person"), or without row ``remove``
    ("Remove": the rows after it move up); at least one row, at most MAX_SESSION_ROWS."""
    kept = MultiDict([(k, v) for k, v in formdata.items(multi=True) if not _ROW_KEY.fullmatch(k)])
    rows = [i for i in range(count) if i != remove]
    for new_i, old_i in enumerate(rows):
        for prefix in ROW_PREFIXES:
            kept.add(f"{prefix}_{new_i}", formdata.get(f"{prefix}_{old_i}") or "")
    count = len(rows) + (1 if action == "add" else 0)
    return kept, max(1, min(count, MAX_SESSION_ROWS))


#: A service field of one attendee: (the prefix of its row field, the word a message uses).
ROW_FIELDS = {
    "person_id": ("person", "person"),
    "hours": ("hours", "hours"),
    "preparation_hours": ("prep", "preparation hours"),
}


def name_rows(form, rows: int = SESSION_ROWS) -> None:
    """Make the form's own messages about hours name their row, as the service's do."""
    for i in range(rows):
        for prefix, word in (("hours", "hours"), ("prep", "preparation hours")):
            f = form[f"{prefix}_{i}"]
            f.errors = [m if m.startswith("Row ") else f"Row {i + 1}, {word}: {m}" for m in f.errors]


def used_rows(form, rows: int = SESSION_ROWS) -> list[int]:
    """The rows with anything typed in them."""
    return [
        i for i in range(rows) if any((form[f"{name}_{i}"].data or "").strip() for name in ("person", "hours", "prep"))
    ]


def attendee(form, i: int) -> dict:
    """One row as the session service reads it."""
    return {
        "person_id": parse_id(form[f"person_{i}"].data),
        "hours": clean(form, f"hours_{i}"),
        "preparation_hours": clean(form, f"prep_{i}"),
    }


def row_errors(fields: dict[str, list[str]], rows: list[int]) -> dict[str, list[str]]:
    """Service errors keyed "attendees.N.field" (N counts the rows used) onto the form's row fields,
    each message naming the row."""
    out: dict[str, list[str]] = {}
    for key, messages in fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "attendees" and parts[1].isdigit() and int(parts[1]) < len(rows):
            row = rows[int(parts[1])]
            prefix, word = ROW_FIELDS.get(parts[2], (None, parts[2].replace("_", " ")))
            target = f"{prefix}_{row}" if prefix else "description"
            out.setdefault(target, []).extend(f"Row {row + 1}, {word}: {m}" for m in messages)
        else:
            out.setdefault(key, []).extend(messages)
    return out


def put_missing_errors(form, fields: dict[str, list[str]]) -> None:
    """Messages for fields that have none yet (what a check says besides the form's own refusals)."""
    for name, messages in fields.items():
        if name in form and not form[name].errors:
            form[name].errors = list(messages)
