"""Forms for the document pages. They only read what was typed; the views decide the dates from the
chosen period and tracker.documents.service checks the rest."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, RadioField, SelectField, StringField
from wtforms.validators import Length, Optional

from tracker.me.forms import in_range
from tracker.people.forms import Needed, PlainDateField, select_choices

KIND_LABELS = {
    "statement": "Statement of payments",
    "certificate": "Certificate of contribution",
    "training_certificate": "Training certificate",
}
KIND_CHOICES = (
    ("statement", "A statement of what you were paid (for the Jobcentre or your own records)"),
    ("certificate", "A certificate of contribution"),
    ("training_certificate", "A training certificate"),
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
        kind = SelectField("What do you need?", choices=select_choices(STAFF_KIND_CHOICES if staff else KIND_CHOICES),
                           default="statement", validators=[Needed()], validate_choice=False)
        period = RadioField("Which dates should it cover?", choices=select_choices(period_choices),
                            default=period_choices[0][0] if period_choices else None, validate_choice=False)
        start_on = PlainDateField("Start date", validators=[Optional(), in_range])
        end_on = PlainDateField("End date", validators=[Optional(), in_range])
        training = StringField("Name of the training",
                               validators=[Length(max=200, message="Use 200 characters or fewer.")])
        cover_letter = BooleanField("Add a cover letter for the Jobcentre")

    if staff:
        DocumentRequestForm.signatory = StringField(
            "Name of the person signing", validators=[Length(max=100, message="Use 100 characters or fewer.")])
    return DocumentRequestForm


def batch_form_class(period_choices: list[tuple[str, str]]):
    class BatchForm(FlaskForm):
        period = RadioField("Which dates should the statements cover?", choices=select_choices(period_choices),
                            default=period_choices[0][0], validate_choice=False)
        start_on = PlainDateField("Start date", validators=[Optional(), in_range])
        end_on = PlainDateField("End date", validators=[Optional(), in_range])

    return BatchForm
