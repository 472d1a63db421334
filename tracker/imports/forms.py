"""The upload form: which kind of file, and the file (CSV or XLSX)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import AnyOf, InputRequired

from tracker.imports.service import KINDS
from tracker.people.forms import select_choices, upload_field


class ImportForm(FlaskForm):
    kind = SelectField(
        "What the file holds",
        choices=select_choices([("", "Choose one"), ("contributions", "Contributions"), ("payments", "Payments")]),
        default="",
        validate_choice=False,
        validators=[
            InputRequired("Choose whether the file holds contributions or payments."),
            AnyOf(KINDS, message="Choose whether the file holds contributions or payments."),
        ],
    )
    file = upload_field(
        "The file",
        "Choose a CSV file (.csv) or an Excel workbook (.xlsx) to upload.",
        ["csv", "xlsx"],
        "The file must be a CSV file (.csv) or an Excel workbook (.xlsx).",
        accept=".csv,.xlsx",
    )
    # The fingerprint of the file that was checked, so "Import" can say when another file is chosen.
    checked = HiddenField()
