"""Forms for the payment, expense and month-end pages.

Like the people forms, they only parse what was typed: money stays text (the services parse it
with tracker.money.to_decimal, so "1.005" and "NaN" are refused with a plain message), dates must
be real dates, and the rules about what is allowed live in the services, whose ValidationFailed
messages the views put back onto these fields.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from tracker.auth.forms import EmptyForm
from tracker.payments.models import PAYMENT_KINDS, PAYMENT_STATUSES
from tracker.people.forms import Needed, PlainDateField, select_choices

# The largest id a database integer column holds: a bigger number in an address or a form is
# "not found" (and would overflow the database driver).
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000
FIRST_YEAR, LAST_YEAR = 2000, 2100

KIND_LABELS = {
    "cash": "Cash",
    "bank_transfer": "Bank transfer",
    "voucher": "Vouchers",
    "training": "Training (in kind)",
    "certificate": "A certificate (no money)",
    "declined": "Declined (the person chose not to be paid)",
    "charity": "Paid to a charity the person chose",
}
STATUS_LABELS = {
    "draft": "Draft: waiting for approval",
    "approved": "Approved: not yet paid",
    "paid": "Paid",
    "cancelled": "Cancelled",
}
CONTEXT_LABELS = {"yes": "Yes", "no": "No", "unknown": "Not sure"}
# How a payment was made. Month end groups paid payments by these words.
PAY_METHODS = ("bank transfer", "cash", "voucher", "cheque", "training place", "charity donation",
               "no money (certificate or decline)")


def parse_id(raw) -> int | None:
    """A positive whole number that fits a database id, or None."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def put_errors(form, fields: dict, rename: dict | None = None) -> None:
    """Put a ValidationFailed's per-field messages onto the form's fields (see tracker.people.views).

    A message for no field on this form goes to the form itself (shown in the error summary)."""
    rename = rename or {}
    for key, messages in fields.items():
        name = rename.get(key, key)
        if name in form and name != "csrf_token":
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            form.form_errors.extend(messages)


class DayField(PlainDateField):
    """A real YYYY-MM-DD date in a sensible range for payments and work (2000 to 2100)."""

    def pre_validate(self, form):
        if isinstance(self.data, date) and not FIRST_YEAR <= self.data.year <= LAST_YEAR:
            self.data = None
            raise ValidationError(f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}, like 2025-04-07.")


class NotHuge:
    """Refuses numbers far too large to be money or hours (1e9999, thousands of digits), which
    exact decimal arithmetic cannot even round. Everything else is left to the service."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if is_huge(field.data):
            raise ValidationError(self.message)


def is_huge(raw) -> bool:
    text = str(raw or "").strip()
    if len(text) > 40:
        return True
    try:
        d = Decimal(text.replace(",", "").removeprefix("£"))
    except InvalidOperation:
        return False
    return d.is_finite() and d != 0 and d.adjusted() > 12


def clean(form, name: str):
    """A field's text for the service, or "" when the form already refused it."""
    return "" if form[name].errors else (form[name].data or "").strip()


def money_field(label: str, required: bool = False, **kwargs) -> StringField:
    """Money as text: the service parses it exactly (a DecimalField would round 1.005)."""
    return StringField(label, validators=([Needed()] if required else []) + [
        NotHuge("That is far too large: enter an amount like 150.00.")],
        render_kw={"inputmode": "decimal", "spellcheck": "false"}, **kwargs)


def kind_choices(blank: str | None = "Choose how the person is paid"):
    pairs = [(k, KIND_LABELS[k]) for k in PAYMENT_KINDS]
    return select_choices(([("", blank)] if blank else []) + pairs)


# ---- a new payment ---------------------------------------------------------------------------

class PersonSearchForm(Form):
    """The GET search on "Create a payment" when no person is chosen yet (changes nothing)."""

    q = StringField("Search by name or email")


class PaymentForm(FlaskForm):
    contribution_ids = SelectMultipleField("Contributions this payment covers", choices=[], validate_choice=False)
    kind = SelectField("How the person is paid", choices=kind_choices(), default="", validate_choice=False,
                       validators=[Needed()])
    amount = money_field("Amount paid, in pounds", required=True)
    amount_offered = money_field("Amount offered, in pounds")
    benefit_value = money_field("Value of the training, in pounds")
    charity_name = StringField("Name of the charity")
    paid_on = DayField("Date the person receives it",
                       validators=[InputRequired("Enter the date the person receives it, like 2025-04-07.")])
    note = TextAreaField("Why: what the person chose, and any notes")
    override_reason = TextAreaField("Reason to override the benefit check")

    def validate_kind(self, field):
        if field.data not in PAYMENT_KINDS:
            raise ValidationError("Choose how the person is paid.")


# ---- moves on a payment -------------------------------------------------------------------------

class ApproveForm(EmptyForm):
    # What the page showed (version and reversed or not): a click on a page that is out of date
    # gets "someone else changed this payment" rather than a confusing refusal.
    seen = HiddenField()


class PayForm(FlaskForm):
    seen = HiddenField()
    paid_on = DayField("Date the person receives it",
                       validators=[InputRequired("Enter the date the person receives it, like 2025-04-07.")])
    method = SelectField("How it was paid", choices=select_choices([("", "Choose how it was paid")] +
                                                                    [(m, m.capitalize()) for m in PAY_METHODS]),
                         default="", validate_choice=False, validators=[Needed()])
    reference = StringField("Payment reference")
    override_reason = TextAreaField("Reason to override the benefit check")

    def validate_method(self, field):
        if field.data not in PAY_METHODS:
            raise ValidationError("Choose how it was paid.")


class ReasonForm(FlaskForm):
    seen = HiddenField()
    reason = TextAreaField("Reason", validators=[Needed()])


# ---- lists --------------------------------------------------------------------------------------

class FilterForm(Form):
    """The GET filters above a list. Only displays what was asked: parsing is
    tracker.payments.queries.parse_filters, shared with the API and the exports."""

    person_id = SelectField("Person", validate_choice=False)
    activity_id = SelectField("Activity", validate_choice=False)
    status = SelectField("Status", validate_choice=False,
                         choices=select_choices([("", "Any status")] + [(s, STATUS_LABELS[s]) for s in PAYMENT_STATUSES]))
    kind = SelectField("How paid", validate_choice=False, choices=kind_choices("Any way"))
    date_from = StringField("From", name="from", render_kw={"type": "date"})
    date_to = StringField("To", name="to", render_kw={"type": "date"})


FILTER_RENAME = {"from": "date_from", "to": "date_to"}


# ---- expenses and other income --------------------------------------------------------------------

class ExpenseForm(FlaskForm):
    person_id = SelectField("Person", validate_choice=False, validators=[Needed()])
    amount = money_field("Amount paid back, in pounds", required=True)
    incurred_on = DayField("Date of the cost", validators=[InputRequired("Enter the date of the cost, like 2025-04-07.")])
    paid_on = DayField("Date the person is paid back",
                       validators=[InputRequired("Enter the date the person is paid back, like 2025-04-07.")])
    description = TextAreaField("What the cost was for", validators=[Needed()])
    receipt_ref = StringField("Receipt reference")
    service_user_context = SelectField("Is the person taking part as a service user?", default="unknown",
                                       choices=select_choices(list(CONTEXT_LABELS.items())), validate_choice=False)


class OtherIncomeForm(FlaskForm):
    person_id = SelectField("Person", validate_choice=False, validators=[Needed()])
    amount = money_field("Amount, in pounds", required=True)
    received_on = DayField("Date it was received",
                           validators=[InputRequired("Enter the date it was received, like 2025-04-07.")])
    source = StringField("Where it came from", validators=[Needed()])


