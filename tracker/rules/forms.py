"""Forms for the benefit-rule pages.

They only parse what was typed (text, exact decimals, real dates, ticked or not). Whether a rule
makes sense (an unconfirmed figure cannot block, effective_to after effective_from, at most two
decimal places, ...) is decided by tracker.engine.pack.parse_rule, whose messages the views put
back onto these fields.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.people.forms import Needed, PlainDateField, select_choices, upload_field
from tracker.people.models import PREFERENCE_LABELS
from tracker.vocab import MAX_RULE_LIMIT, PAYMENT_KINDS

#: Each choice's code and its words (the rules' presenters show stored codes with the same words).
SEVERITY_CHOICES = {
    "warn": "Warn: show a warning, and the payment can still be made",
    "block": "Block: the payment needs a written override",
}
CONFIDENCE_CHOICES = {
    "confirmed": "Confirmed: legislation, an official text or CPAG",
    "secondary": "Secondary: a reputable secondary source",
    "derived": "Derived: worked out from a formula in the law",
    "unconfirmed": "Not verified: no source found yet",
}
EXPENSES_CHOICES = {
    "unless_service_user": "Count them, unless the work is marked as service-user involvement",
    "never": "Never count them",
}
DATE_BASIS_CHOICES = {
    "received": "The date the person receives the money",
    "due": "The date the money is due (the date received, unless the payment says otherwise)",
    "worked": "The date the work was done",
}
KIND_CHOICES = [(k, PREFERENCE_LABELS.get(k, k)) for k in PAYMENT_KINDS]


def _pick_one(label: str, choices: dict[str, str]) -> SelectField:
    """A required choice of one code from ``choices`` (code: words)."""
    return SelectField(label, choices=select_choices(choices.items()), validators=[Needed()], validate_choice=False)


def parse_decimal(text: str | None) -> Decimal | None:
    """An exact Decimal from what was typed ("£1,000.50" is fine); None when empty.

    Raises ValueError when the text is not a real number. Never goes through float.
    """
    text = (text or "").strip().replace(",", "").replace("£", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain text without an exponent: Decimal("90.0") -> "90"."""
    text = f"{value.normalize():f}"
    return text


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes. Unknown values are left to the rule checks to explain."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        return None


class InForceForm(Form):
    """The GET filter on the list of rules (no CSRF: it changes nothing)."""

    on = PlainDateField("In force on", validators=[Optional()])


class RuleForm(FlaskForm):
    revision = HiddenField()
    title = StringField("Title", validators=[Needed(), Length(max=200)])
    limit = StringField("Limit", render_kw={"inputmode": "decimal", "spellcheck": "false"})
    warn_at = StringField(
        "Warn when the total reaches this percentage of the limit",
        validators=[Needed()],
        render_kw={"inputmode": "decimal", "spellcheck": "false"},
    )
    severity = _pick_one("When the rule would be broken", SEVERITY_CHOICES)
    effective_from = PlainDateField("In force from", validators=[InputRequired("Enter the date the rule starts")])
    effective_to = PlainDateField("In force until", validators=[Optional()])
    confidence = _pick_one("How sure we are of the figure", CONFIDENCE_CHOICES)
    counts_kinds = CheckboxesField("Payment kinds that count", choices=select_choices(KIND_CHOICES))
    counts_training_at_value = BooleanField("Training counts at its declared value")
    counts_expenses = _pick_one("Reimbursed expenses", EXPENSES_CHOICES)
    counts_other_income = BooleanField("Income the person declared from elsewhere counts")
    counts_partner = BooleanField("A partner's earnings count (household benefits only)")
    date_basis = _pick_one("Count money by", DATE_BASIS_CHOICES)
    notes = TextAreaField("Notes for admins", validators=[Length(max=5000)])
    source = URLField(
        "Address of the official source", validators=[Needed(), Length(max=2000)], render_kw={"spellcheck": "false"}
    )
    reason = TextAreaField(
        "Reason for the change",
        validators=[
            InputRequired("Say why the rule is changing, for example where the new figure comes from."),
            Length(max=2000, message="Keep the reason under 2,000 characters."),
        ],
    )

    def validate_limit(self, field):
        try:
            value = parse_decimal(field.data)
        except ValueError:
            raise ValidationError("Enter the limit as a number, like 196.00.") from None
        if value is not None and abs(value) >= MAX_RULE_LIMIT:
            raise ValidationError("The limit must be less than 1,000,000.")
        field.parsed = value

    def validate_warn_at(self, field):
        try:
            value = parse_decimal((field.data or "").replace("%", ""))
        except ValueError:
            raise ValidationError("Enter the percentage as a number from 1 to 100, like 90.") from None
        if value is None:
            raise ValidationError("Enter the percentage of the limit at which to warn, like 90.")
        if not Decimal(1) <= value <= Decimal(100):
            raise ValidationError("The percentage must be from 1 to 100.")
        field.parsed = value

    def changes(self) -> dict:
        """The edited fields as rule data, for service.edit. Only call once the form is valid."""
        return changes_from(self)


COUNTS_FIELDS = frozenset(
    {"counts_kinds", "counts_training_at_value", "counts_expenses", "counts_other_income", "counts_partner"}
)


def changes_from(form: RuleForm, skip: set | None = None) -> dict:
    """The rule data typed into the form, leaving out the fields named in ``skip`` (ones with errors)."""
    skip = skip or set()
    out = {**_figures(form, skip), **_choices_and_dates(form, skip)}
    if not skip & COUNTS_FIELDS:
        out["counts"] = _counts(form)
    for name in ("title", "notes", "source"):
        if name not in skip:
            out[name] = (form[name].data or "").strip()
    return {name: out[name] for name in _ORDER if name in out}


#: The order of the rule data's keys, as the form lists the fields.
_ORDER = (
    "title",
    "limit",
    "warn_at",
    "severity",
    "confidence",
    "date_basis",
    "effective_from",
    "effective_to",
    "counts",
    "notes",
    "source",
)


def _figures(form: RuleForm, skip: set) -> dict:
    """The limit (as text; None when empty) and the warning level (a fraction of the limit)."""
    out: dict = {}
    if "limit" not in skip:
        value = getattr(form.limit, "parsed", None)
        out["limit"] = None if value is None else str(value)
    if "warn_at" not in skip and getattr(form.warn_at, "parsed", None) is not None:
        out["warn_at"] = decimal_text(form.warn_at.parsed / Decimal(100))
    return out


def _choices_and_dates(form: RuleForm, skip: set) -> dict:
    out: dict = {}
    for name in ("severity", "confidence", "date_basis"):
        if name not in skip:
            out[name] = form[name].data or None
    for name in ("effective_from", "effective_to"):
        if name not in skip:
            value = form[name].data
            out[name] = value.isoformat() if value else None
    return out


def _counts(form: RuleForm) -> dict:
    return {
        "kinds": list(form.counts_kinds.data or []),
        "training_at_value": bool(form.counts_training_at_value.data),
        "expenses": form.counts_expenses.data or None,
        "other_income": bool(form.counts_other_income.data),
        "partner": bool(form.counts_partner.data),
    }


def form_data(definition: dict, revision: int) -> dict:
    """A stored rule definition as the edit form's data (warn_at as a percentage)."""
    counts = definition.get("counts") or {}
    warn_at = definition.get("warn_at")
    percent = ""
    if warn_at is not None:
        try:
            percent = decimal_text(Decimal(str(warn_at)) * 100)
        except InvalidOperation:
            percent = str(warn_at)

    def day(value):
        try:
            return date.fromisoformat(value) if value else None
        except (TypeError, ValueError):
            return None

    return {
        "revision": str(revision),
        "title": definition.get("title") or "",
        "limit": definition.get("limit") or "",
        "warn_at": percent,
        "severity": definition.get("severity") or "warn",
        "effective_from": day(definition.get("effective_from")),
        "effective_to": day(definition.get("effective_to")),
        "confidence": definition.get("confidence") or "unconfirmed",
        "counts_kinds": list(counts.get("kinds") or []),
        "counts_training_at_value": bool(counts.get("training_at_value")),
        "counts_expenses": counts.get("expenses") or "unless_service_user",
        "counts_other_income": bool(counts.get("other_income", True)),
        "counts_partner": bool(counts.get("partner", False)),
        "date_basis": definition.get("date_basis") or "received",
        "notes": definition.get("notes") or "",
        "source": definition.get("source") or "",
    }


def _reason_field(label: str, missing: str, too_long: str) -> TextAreaField:
    """A required reason of at most 2,000 characters."""
    return TextAreaField(label, validators=[InputRequired(missing), Length(max=2000, message=too_long)])


class ConfirmForm(FlaskForm):
    source = StringField(
        "Address of the official page you checked",
        validators=[InputRequired("Give the address of the official page you checked, starting with https://.")],
    )
    reason = _reason_field(
        "How did you check the figure?",
        "Say how you checked the figure, for example which table or paragraph states it.",
        "Keep this under 2,000 characters.",
    )


class RetireForm(FlaskForm):
    reason = _reason_field(
        "Why is this rule being retired?",
        "Say why the rule is being retired.",
        "Keep the reason under 2,000 characters.",
    )


class LoadForm(FlaskForm):
    file = upload_field(
        "Rule pack file",
        "Choose a rule pack file to upload.",
        ["yaml", "yml"],
        "The file must be a YAML rule pack whose name ends in .yaml or .yml.",
    )
