"""Forms for the document pages. They only read what was typed: the chosen period gives the dates
(request_from, dates_from), and tracker.documents.service checks the rest."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, RadioField, SelectField, StringField
from wtforms.validators import Length, Optional

from tracker.documents.models import DOCUMENT_KINDS
from tracker.documents.presenters import Preset
from tracker.errors import ValidationFailed
from tracker.me.forms import in_range
from tracker.people.forms import Needed, PlainDateField, select_choices

#: What a contributor may ask for themself; training certificates and the organisation's wording
#: (signatory, training text, cover letter) are staff's (documents.service.STAFF_ONLY_OPTIONS).
KIND_CHOICES = (
    ("statement", "A statement of what you were paid (for the Jobcentre or your own records)"),
    ("certificate", "A certificate of contribution"),
)
STAFF_KIND_CHOICES = (
    ("statement", "A statement of what they were paid (for the Jobcentre or their own records)"),
    ("certificate", "A certificate of contribution"),
    ("training_certificate", "A training certificate"),
)


class ChoosePersonForm(Form):
    """The GET form that picks whose document staff are asking for (no CSRF: it changes nothing)."""

    person_id = SelectField("Who is it for?", validate_choice=False)


def request_form_class(period_choices: list[tuple[str, str]], *, staff: bool):
    """The form to ask for a document; the period choices show the actual dates for this person."""

    class DocumentRequestForm(FlaskForm):
        kind = SelectField(
            "What do you need?",
            choices=select_choices(STAFF_KIND_CHOICES if staff else KIND_CHOICES),
            default="statement",
            validators=[Needed()],
            validate_choice=False,
        )
        period = RadioField(
            "Which dates should it cover?",
            choices=select_choices(period_choices),
            default=period_choices[0][0] if period_choices else None,
            validate_choice=False,
        )
        start_on = PlainDateField("Start date", validators=[Optional(), in_range])
        end_on = PlainDateField("End date", validators=[Optional(), in_range])

    if staff:
        DocumentRequestForm.training = StringField(
            "Name of the training", validators=[Length(max=200, message="Use 200 characters or fewer.")]
        )
        DocumentRequestForm.cover_letter = BooleanField("Add a cover letter for the Jobcentre")
        DocumentRequestForm.signatory = StringField(
            "Name of the person signing", validators=[Length(max=100, message="Use 100 characters or fewer.")]
        )
    return DocumentRequestForm


def batch_form_class(period_choices: list[tuple[str, str]]):
    class BatchForm(FlaskForm):
        period = RadioField(
            "Which dates should the statements cover?",
            choices=select_choices(period_choices),
            default=period_choices[0][0],
            validate_choice=False,
        )
        start_on = PlainDateField("Start date", validators=[Optional(), in_range])
        end_on = PlainDateField("End date", validators=[Optional(), in_range])

    return BatchForm


def dates_from(form, presets: list[Preset], errors: dict[str, list[str]]) -> tuple[date | None, date | None]:
    """The dates of the chosen period, or the dates typed for "Other dates"; problems go into ``errors``."""
    chosen = next((p for p in presets if p.value == form.period.data), None) if form.period.raw_data else None
    if chosen is None:
        errors["period"] = ["Choose which dates it should cover."]
        return None, None
    if chosen.value != "custom":
        return chosen.start, chosen.end
    start, end = form.start_on.data, form.end_on.data
    if start is None and not form.start_on.errors:
        errors["start_on"] = ["Enter the start date"]
    if end is None and not form.end_on.errors:
        errors["end_on"] = ["Enter the end date"]
    return start, end


def _options(form, kind: str, training: str) -> dict:
    """The staff-only extras (a contributor's form has none of these fields)."""
    options: dict = {}
    if kind == "statement" and "cover_letter" in form and form.cover_letter.data:
        options["cover_letter"] = True
    if kind == "training_certificate":
        options["training"] = training
    signatory = (form.signatory.data or "").strip() if "signatory" in form else ""
    if signatory:
        options["signatory"] = signatory
    return options


def request_from(form, presets: list[Preset]) -> tuple[str, date, date, dict]:
    """What was asked for: (kind, start, end, options). Raises ValidationFailed when something is missing."""
    errors: dict[str, list[str]] = {}
    start, end = dates_from(form, presets, errors)
    kind = form.kind.data if form.kind.raw_data else None
    if kind not in DOCUMENT_KINDS:
        errors["kind"] = ["Choose what you need from the list."]
    training = (form.training.data or "").strip() if "training" in form else ""
    if kind == "training_certificate" and "training" in form and not training:  # staff's form only
        errors["training"] = ["Enter the name of the training, like “First aid at work”."]
    if errors:
        raise ValidationFailed(errors)
    assert (
        kind is not None and start is not None and end is not None
    )  # missing is an error above (forms come validated)
    return kind, start, end, _options(form, kind, training)


def batch_dates_from(form, presets: list[Preset]) -> tuple[date, date]:
    """The dates a batch of statements covers. Raises ValidationFailed when they are missing."""
    errors: dict[str, list[str]] = {}
    start, end = dates_from(form, presets, errors)
    if errors:
        raise ValidationFailed(errors)
    assert start is not None and end is not None  # missing is an error above (forms come validated)
    return start, end


def period_rename(form, *names: str) -> dict[str, str]:
    """A service's date messages belong to the period choice unless the dates were typed."""
    return {} if form.period.data == "custom" else {name: "period" for name in names}
