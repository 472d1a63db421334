"""The GOV.UK date input, shared by every area's page forms.

A date is asked for as three boxes, Day, Month and Year, under a legend and the hint "For example,
27 3 2025" (https://design-system.service.gov.uk/components/date-input/). The boxes post
``NAME-day``, ``NAME-month`` and ``NAME-year``; a single ``NAME=YYYY-MM-DD`` (a link from another
page, or a bookmark) is still read, so links keep working. The month may also be typed as a name
("March", "mar"). Errors follow GOV.UK's wording ("Date paid must include a month", "Date paid
must be a real date") and name the boxes that are wrong, so the error summary links to the first.
The API does not use this: it takes ISO dates.
"""

from __future__ import annotations

from datetime import date
from typing import NoReturn

from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import ValidationError

from tracker.timeutil import MONTHS, in_day_range
from tracker.vocab import FIRST_YEAR, LAST_YEAR

PARTS = ("day", "month", "year")
PART_LABELS = {"day": "Day", "month": "Month", "year": "Year"}
#: The hint every date input starts with.
DATE_EXAMPLE = "For example, 27 3 2025"
_MONTH_NAMES = {name.lower()[:3]: i for i, name in enumerate(MONTHS, start=1)}


def _month_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return _MONTH_NAMES.get(text.lower()[:3]) if len(text) >= 3 else None


def parse_parts(parts: dict[str, str]) -> date | None:
    """The date three boxes make, or None when they make no real date."""
    month = _month_number(parts["month"])
    if month is None or not (parts["day"].isdigit() and parts["year"].isdigit()) or len(parts["year"]) != 4:
        return None
    try:
        return date(int(parts["year"]), month, int(parts["day"]))
    except ValueError:
        return None


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


class DateInput:
    """Renders the three boxes (the field macro in templates/_forms.html puts them in a fieldset
    with the legend, the hint and the error)."""

    field_flags = {"date_parts": True}

    def __call__(self, field: DateInputField, **kwargs) -> Markup:
        boxes = []
        for part in PARTS:
            box_id = f"{field.id}-{part}"
            width = "date-input-year" if part == "year" else "date-input-short"
            wrong = part in field.error_boxes
            invalid = ' aria-invalid="true"' if wrong else ""
            error_class = " input-error" if wrong else ""
            boxes.append(
                f'<div class="date-input-item"><label for="{box_id}">{PART_LABELS[part]}</label>'
                f'<input class="{width}{error_class}" id="{box_id}" name="{escape(field.name)}-{part}" type="text"'
                f' inputmode="numeric" autocomplete="off" value="{escape(field.part_value(part))}"{invalid}></div>'
            )
        return Markup(f'<div class="date-input" id="{escape(field.id)}">{"".join(boxes)}</div>')


class DateInputField(Field):
    """A date typed as day, month and year. ``data`` is a ``date`` or None; a blank date is left to
    InputRequired/Optional (and the services); a date that does not exist, or lies outside 2000
    to 2100, is a form error in GOV.UK's words, naming the field by ``error_name`` (its label)."""

    widget = DateInput()

    def __init__(self, label=None, validators=None, *, error_name: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.error_name = error_name or self.label.text
        self.parts: dict[str, str] = dict.fromkeys(PARTS, "")
        self.error_parts: tuple[str, ...] = ()
        self._formdata = None

    # ---- reading what was typed ------------------------------------------------------------

    def process(self, formdata, data=unset_value, extra_filters=None):
        self._formdata = formdata
        self.parts = dict.fromkeys(PARTS, "")
        self.error_parts = ()
        super().process(formdata, data, extra_filters)

    @property
    def given(self) -> bool:
        """Whether the request carried this field at all (blank or not)."""
        fd = self._formdata
        return fd is not None and (self.name in fd or any(f"{self.name}-{p}" in fd for p in PARTS))

    def process_formdata(self, valuelist):
        fd = self._formdata
        typed: dict[str, str] = {p: (fd.get(f"{self.name}-{p}") or "").strip() for p in PARTS} if fd is not None else {}
        iso = " ".join(valuelist).strip() if valuelist else ""
        if iso:
            self.raw_data = [iso]
            self._from_iso(iso)
        elif any(typed.values()):
            self.parts = typed
            self.raw_data = [" ".join(typed[p] for p in PARTS)]
            self._from_parts(typed)
        elif self.given:
            self.raw_data = []
            self.data = None

    def _from_iso(self, text: str) -> None:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self.parts = {"day": "", "month": "", "year": text}
            self._fail(PARTS, f"{self.error_name} must be a real date")
        self.parts = {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
        self.data = day

    def _from_parts(self, typed: dict[str, str]) -> None:
        missing = [p for p in PARTS if not typed[p]]
        if missing:
            self._fail(tuple(missing), f"{self.error_name} must include a {_and(missing)}")
        day = parse_parts(typed)
        if day is None:
            self._fail(PARTS, f"{self.error_name} must be a real date")
        self.data = day
        self.raw_data = [day.isoformat()]  # what code that carries a typed date on reads back

    def _fail(self, parts: tuple[str, ...], message: str) -> NoReturn:
        self.data = None
        self.error_parts = parts
        raise ValueError(message)

    # ---- checks and showing it again -------------------------------------------------------

    def pre_validate(self, form):
        if isinstance(self.data, date) and not in_day_range(self.data):
            self.data = None
            self.error_parts = PARTS
            raise ValidationError(f"{self.error_name} must be between {FIRST_YEAR} and {LAST_YEAR}")

    @property
    def error_boxes(self) -> tuple[str, ...]:
        """The boxes to mark: those a message names, or all three for a message about the whole
        date (a validator's, or a service's put onto the field by the view)."""
        return self.error_parts or (PARTS if self.errors else ())

    def part_value(self, part: str) -> str:
        if any(self.parts.values()):
            return self.parts[part]
        if isinstance(self.data, date):
            return str({"day": self.data.day, "month": self.data.month, "year": self.data.year}[part])
        return ""

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, date) else ""


def boxes_as_iso(form, args) -> tuple[MultiDict, dict[str, list[str]]]:
    """For a GET form whose arguments are parsed elsewhere (the list filters, shared with the API):
    the arguments with each date typed in boxes put back as YYYY-MM-DD under its name, and the
    GOV.UK messages of boxes that make no date, keyed by the field's short name."""
    out = MultiDict(args)
    errors: dict[str, list[str]] = {}
    for f in form:
        if not (isinstance(f, DateInputField) and f.given):
            continue
        for p in PARTS:
            out.pop(f"{f.name}-{p}", None)
        if f.process_errors:
            out.pop(f.name, None)
            errors[f.short_name] = [str(e) for e in f.process_errors]
        elif isinstance(f.data, date):
            out[f.name] = f.data.isoformat()
    return out, errors
