"""Forms for earnings records. They only read what was typed; the service decides what is allowed."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, StringField, TextAreaField
from wtforms.validators import Optional

from tracker.me.forms import in_range
from tracker.people.forms import Needed, PlainDateField, upload_field


class RecordForm(Form):
    """The GET form that downloads a record (no CSRF: it changes nothing but the audit trail)."""

    start_on = PlainDateField("First day", validators=[Optional(), in_range])
    end_on = PlainDateField("Last day", validators=[Optional(), in_range])


class ImportRecordForm(FlaskForm):
    file = upload_field(
        "The earnings record file",
        "Choose the earnings record file (.json) the other organisation gave.",
        ["json"],
        "Choose the earnings record file, which ends in .json (not the PDF).",
        accept=".json,application/json",
    )
    # Its label names the person (set by the view): "Sam Jones agreed to add these earnings".
    consent = BooleanField("The person agreed to add these earnings")


class IssuerForm(FlaskForm):
    name = StringField("Organisation name", validators=[Needed()])
    public_key = TextAreaField("Public key", validators=[Needed()])
