"""The audit log's filter form, and the checks across its fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from tracker.people.forms import PlainDateField
from tracker.vocab import MAX_ID

FROM_ONE = "Use a number from 1 up."
WHOLE = "Use a whole number, like 12."


class AuditFilterForm(FlaskForm):
    """The GET filter form (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    who = StringField("Who")
    action = SelectField("What happened", validate_choice=False)
    entity_type = SelectField("Type of record", validate_choice=False)
    entity_id = IntegerField(
        "Record number",
        validators=[Optional(), NumberRange(1, MAX_ID, FROM_ONE)],
        render_kw={"inputmode": "numeric"},
        invalid_value_message=WHOLE,
    )
    person_id = IntegerField(
        "Person number",
        validators=[Optional(), NumberRange(1, MAX_ID, FROM_ONE)],
        render_kw={"inputmode": "numeric"},
        invalid_value_message=WHOLE,
    )


# "from" and "to", as on the other lists, are Python keywords: added by name.
setattr(AuditFilterForm, "from", PlainDateField("From", validators=[Optional()]))
AuditFilterForm.to = PlainDateField("To", validators=[Optional()])


def _add(field, message: str) -> None:
    field.errors = list(field.errors) + [message]


def _check_choices(form: AuditFilterForm, actions: list[str], types: list[str]) -> None:
    if form.action.data and form.action.data not in actions:
        _add(form.action, "Choose something from the list.")
    if form.entity_type.data and form.entity_type.data not in types:
        _add(form.entity_type, "Choose a type of record from the list.")
    if form.entity_id.data is not None and not form.entity_type.data and not form.entity_type.errors:
        _add(form.entity_type, "Choose the type of record for the record number.")


def _check_dates(form: AuditFilterForm) -> None:
    start, end = form["from"].data, form["to"].data
    if start and end and end < start and not form["to"].errors:
        _add(form["to"], "The end date must be on or after the start date.")


def _check_who(form: AuditFilterForm) -> None:
    who = (form.who.data or "").strip()
    if who and len(who) > 254:
        _add(form.who, "Use 254 characters or fewer.")


def check_filters(form: AuditFilterForm, actions: list[str], types: list[str]) -> None:
    """Validate the fields, then what only makes sense together or against what the log holds."""
    form.validate()
    _check_choices(form, actions, types)
    _check_dates(form)
    _check_who(form)
