"""Forms for the payment, expense and month-end pages.

Like the people forms, they only parse what was typed: money stays text (the services parse it
with tracker.money.to_decimal, so "1.005" and "NaN" are refused with a plain message), dates must
be real dates, and the rules about what is allowed live in the services, whose ValidationFailed
messages the page boundary (tracker.pages.submit) puts back onto these fields.

Besides the forms: the list filters and select choices the payment and contribution pages share,
and the hidden fields that carry a suggestion of the benefit check back to the server.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Optional, ValidationError

from tracker import pages
from tracker.auth.forms import EmptyForm
from tracker.contributions.models import Activity, Contribution
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.forms import boxes_as_iso
from tracker.money import ZERO, MoneyError, to_decimal
from tracker.payments import queries
from tracker.people.forms import Needed, PlainDateField, select_choices, upload_field
from tracker.people.models import Person
from tracker.timeutil import parse_day
from tracker.vocab import (
    FIRST_YEAR,
    KIND_LABELS,
    LAST_YEAR,
    MAX_ID,
    MAX_PAGE,
    NON_MONEY_KINDS,
    PAY_METHOD_CHOICES,
    PAY_METHOD_LABELS,
    PAYMENT_KINDS,
    PAYMENT_STATUS_LABELS,
    PAYMENT_STATUSES,
    SERVICE_USER_CONTEXT_LABELS,
)

#: The most payments one suggestion may carry back in its hidden fields.
MAX_SUGGESTED = 6


class DayField(PlainDateField):
    """A real YYYY-MM-DD date in a sensible range for payments and work (2000 to 2100, as every
    PlainDateField)."""


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
    return StringField(
        label,
        validators=([Needed()] if required else []) + [NotHuge("That is far too large: enter an amount like 150.00.")],
        render_kw={"inputmode": "decimal", "spellcheck": "false"},
        **kwargs,
    )


def kind_choices(blank: str | None = "Choose how the person is paid"):
    pairs = [(k, KIND_LABELS[k]) for k in PAYMENT_KINDS]
    return select_choices(([("", blank)] if blank else []) + pairs)


def service_user_field(question: str, labels: dict[str, str]) -> SelectField:
    """Yes, no or not sure (the default): does the person take part as a service user?"""
    return SelectField(question, default="unknown", choices=select_choices(list(labels.items())), validate_choice=False)


def received_on_field() -> DayField:
    """The date the person receives a payment: the date the benefit rules count it on."""
    return DayField("Date the person receives it", validators=[InputRequired("Enter the date the person receives it")])


def override_field() -> TextAreaField:
    """Why a payment goes ahead although the benefit check blocks it."""
    return TextAreaField("Reason to override the benefit check")


# ---- a new payment ---------------------------------------------------------------------------


class PersonSearchForm(Form):
    """The GET search on "Create a payment" when no person is chosen yet (changes nothing)."""

    q = StringField("Search by name or email")


class PaymentForm(FlaskForm):
    contribution_ids = SelectMultipleField("Contributions this payment covers", choices=[], validate_choice=False)
    kind = SelectField(
        "How the person is paid",
        choices=kind_choices(),
        default="",
        validate_choice=False,
        validators=[Needed(), AnyOf(PAYMENT_KINDS, message="Choose how the person is paid.")],
    )
    amount = money_field("Amount paid, in pounds", required=True)
    amount_offered = money_field("Amount offered, in pounds")
    benefit_value = money_field("Value of the training, in pounds")
    charity_name = StringField("Name of the charity")
    paid_on = received_on_field()
    due_on = DayField("Date it is due, if not the date the person receives it", validators=[Optional()])
    covers_from = DayField("First day of the work it pays for", validators=[Optional()])
    covers_to = DayField("Last day of the work it pays for", validators=[Optional()])
    note = TextAreaField("Why: what the person chose, and any notes")
    kind_reason = TextAreaField("Why pay them in a way they did not choose")
    override_reason = override_field()


# ---- moves on a payment -------------------------------------------------------------------------


class ApproveForm(EmptyForm):
    # What the page showed (version and reversed or not): a click on a page that is out of date
    # gets "someone else changed this payment" rather than a confusing refusal.
    seen = HiddenField()


class PayForm(FlaskForm):
    seen = HiddenField()
    paid_on = received_on_field()
    method = SelectField(
        "How it was paid",
        choices=select_choices([("", "Choose how it was paid")] + list(PAY_METHOD_LABELS.items())),
        default="",
        validate_choice=False,
        validators=[Needed(), AnyOf(PAY_METHOD_CHOICES, message="Choose how it was paid.")],
    )
    method_note = StringField("If other: how it was paid")
    reference = StringField("Payment reference")
    override_reason = override_field()


class ReasonForm(FlaskForm):
    seen = HiddenField()
    reason = TextAreaField("Reason", validators=[Needed()])


# ---- lists --------------------------------------------------------------------------------------


class FilterForm(Form):
    """The GET filters above a list. Only displays what was asked: parsing is
    tracker.payments.queries.parse_filters, shared with the API and the exports."""

    person_id = SelectField("Person", validate_choice=False)
    activity_id = SelectField("Activity", validate_choice=False)
    status = SelectField(
        "Status",
        validate_choice=False,
        choices=select_choices([("", "Any status")] + [(s, PAYMENT_STATUS_LABELS[s]) for s in PAYMENT_STATUSES]),
    )
    kind = SelectField("How paid", validate_choice=False, choices=kind_choices("Any way"))
    date_from = PlainDateField("From", name="from")
    date_to = PlainDateField("To", name="to")


FILTER_RENAME = {"from": "date_from", "to": "date_to"}


class PaymentFilterForm(FilterForm):
    """The payments list's filters: the person is typed (a list of people helps, without JavaScript)."""

    person = StringField("Person", render_kw={"list": "people-list", "autocomplete": "off", "spellcheck": "false"})


NO_ONE_CALLED = "No one is called {name}. Pick a person from the list as you type."
SEVERAL_CALLED = "More than one person is called {name}. Pick one from the list as you type: it shows their number."


def choice_pairs(choices) -> list[tuple[str, str]]:
    """(value, label) of select choices, whichever shape they have."""
    return [(c.value, c.label) if hasattr(c, "value") else (c[0], c[1]) for c in choices]


def person_label(person_id: int, name: str) -> str:
    """How the person filter shows a person: the name and the number that tells namesakes apart."""
    return f"{name} (#{person_id})"


def _typed_person(text: str) -> tuple[int | None, str | None]:
    """A typed person: "Name (#12)" or "12" is that id; a name is looked up (one match only)."""
    head, _, tail = text.rpartition("(#")
    pid = pages.parse_id(tail.rstrip(")")) if head and tail.endswith(")") else pages.parse_id(text)
    if pid is not None:
        return pid, None
    ids = list(db.session.scalars(sa.select(Person.id).where(sa.func.lower(Person.name) == text.lower()).limit(2)))
    if len(ids) == 1:
        return ids[0], None
    return None, (SEVERAL_CALLED if ids else NO_ONE_CALLED).format(name=text)


def resolve_person(args) -> tuple[MultiDict, str | None]:
    """The list's query arguments with a typed ``person`` turned into ``person_id``; an error when it
    names no one, or more than one person. A ``person`` given (even empty) wins over ``person_id``."""
    out = MultiDict([(k, v) for k, v in args.items(multi=True) if k != "person"])
    if "person" not in args:
        return out, None
    out.pop("person_id", None)
    text = " ".join(args.get("person", "").split())
    if not text:
        return out, None
    pid, error = _typed_person(text)
    if pid is not None:
        out["person_id"] = str(pid)
    return out, error


def payment_filters(args) -> tuple[PaymentFilterForm, queries.Filters | None]:
    """The payments list's filters, with the typed person resolved and shown as typed or as chosen."""
    resolved, error = resolve_person(args)
    form, f = list_filters(resolved, PaymentFilterForm)
    if error:
        form.person.errors = [error]
        return form, None
    if "person" in args:
        form.person.data = args.get("person")
    elif f is not None and f.person_id:
        name = dict(choice_pairs(form.person_id.choices)).get(str(f.person_id))
        form.person.data = person_label(f.person_id, name) if name else str(f.person_id)
    return form, f


# ---- expenses and other income --------------------------------------------------------------------


class ExpenseForm(FlaskForm):
    person_id = SelectField("Person", validate_choice=False, validators=[Needed()])
    amount = money_field("Amount paid back, in pounds", required=True)
    incurred_on = DayField("Date of the cost", validators=[InputRequired("Enter the date of the cost")])
    paid_on = DayField(
        "Date the person is paid back", validators=[InputRequired("Enter the date the person is paid back")]
    )
    description = TextAreaField("What the cost was for", validators=[Needed()])
    receipt_ref = StringField("Receipt reference")
    service_user_context = service_user_field(
        "Is the person taking part as a service user?", SERVICE_USER_CONTEXT_LABELS
    )


class OtherIncomeForm(FlaskForm):
    person_id = SelectField("Person", validate_choice=False, validators=[Needed()])
    amount = money_field("Amount, in pounds", required=True)
    received_on = DayField("Date it was received", validators=[InputRequired("Enter the date it was received")])
    source = StringField("Where it came from", validators=[Needed()])


class PartnerEarningForm(FlaskForm):
    """A partner's earnings, recorded on the person's benefits (household rules only)."""

    amount = money_field("Amount, in pounds", required=True)
    received_on = DayField(
        "Date the partner received it", validators=[InputRequired("Enter the date the partner received it")]
    )
    due_on = DayField("Date it was due (optional)", validators=[Optional()])
    note = StringField("Note (optional)")


# ---- helpers the payment and contribution pages share ---------------------------------------------


def money_errors(form, *names: str) -> None:
    """When the form already has a problem, also say what is wrong with the amounts."""
    for name in names:
        if form[name].errors or not (form[name].data or "").strip():
            continue
        try:
            to_decimal(form[name].data)
        except MoneyError as e:
            form[name].errors = list(form[name].errors) + [str(e)]


def put_fresh_errors(form, fields: dict[str, list[str]], rename: dict[str, str] | None = None) -> None:
    """Like pages.put_errors, but only for fields that have no message yet (the form's own check of a
    date, say, says it better than the service's "enter a date")."""
    rename = rename or {}
    fresh = {k: v for k, v in fields.items() if not (rename.get(k, k) in form and form[rename.get(k, k)].errors)}
    pages.put_errors(form, fresh, rename)


def people_choices(blank: str) -> list:
    rows = db.session.execute(sa.select(Person.id, Person.name).order_by(Person.name, Person.id)).all()
    return select_choices([("", blank)] + [(str(i), n) for i, n in rows])


def activity_choices(blank: str, active_only: bool = False) -> list:
    q = sa.select(Activity.id, Activity.name).order_by(Activity.name, Activity.id)
    if active_only:
        q = q.where(Activity.active.is_(True))
    return select_choices([("", blank)] + [(str(i), n) for i, n in db.session.execute(q).all()])


def _beyond_bounds(f: queries.Filters) -> dict[str, list[str]]:
    errors = {
        name: ["There is no such record."] for name in ("person_id", "activity_id") if (getattr(f, name) or 0) > MAX_ID
    }
    if f.page > MAX_PAGE:
        errors["page"] = [f"Use a page number up to {MAX_PAGE:,}."]
    return errors


def list_filters(args, form_class: type[Form] = FilterForm) -> tuple[Form, queries.Filters | None]:
    """The list filters: (form, Filters) or (form with errors, None). Parsing is the shared
    queries.parse_filters, so the list holds exactly the rows an export of it holds."""
    form = form_class(args)
    form.person_id.choices = people_choices("Anyone")
    form.activity_id.choices = activity_choices("Any activity")
    args, typed_wrong = boxes_as_iso(form, args)
    if typed_wrong:
        pages.put_errors(form, typed_wrong, FILTER_RENAME)
        return form, None
    try:
        f = queries.parse_filters(args)
    except ValidationFailed as e:
        pages.put_errors(form, e.fields, FILTER_RENAME)
        return form, None
    errors = _beyond_bounds(f)
    if errors:
        pages.put_errors(form, errors, FILTER_RENAME)
        return form, None
    return form, f


MONTH_MESSAGE = f"Choose a month, and enter a year between {FIRST_YEAR} and {LAST_YEAR}, for example 2025"


def parse_month(args, this: date) -> tuple[date, str | None]:
    """The first day of the month chosen by name (``month-month``, 1 to 12) with its year
    (``month-year``), or typed as YYYY-MM in ``month`` (the links to the previous and next month);
    ``this`` when none is given, and an error message when what was given is no month."""
    if "month-month" in args or "month-year" in args:
        raw = f"{(args.get('month-year') or '').strip()}-{(args.get('month-month') or '').strip().zfill(2)}"
    else:
        raw = (args.get("month") or "").strip()
        if not raw:
            return this, None
    if len(raw) == 7 and raw[4] == "-" and raw[:4].isdigit() and raw[5:].isdigit():
        year, month = int(raw[:4]), int(raw[5:])
        if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12:
            return date(year, month, 1), None
    return this, MONTH_MESSAGE


# ---- a new payment: the ticked contributions and the service's input --------------------------------

TICKED_GONE = (
    "Some ticked contributions have been paid since the page was loaded, or are not this person's. "
    "They have been left out: check the amount."
)


def ticked(form: PaymentForm, allowed: set[int]) -> list[int]:
    """The ticked contribution ids that are still unpaid; says so when some no longer are."""
    ids: list[int] = []
    dropped = False
    for raw in form.contribution_ids.data or []:
        i = pages.parse_id(raw)
        if i in allowed and i not in ids:
            ids.append(i)
        else:
            dropped = True
    if dropped:
        form.contribution_ids.errors = list(form.contribution_ids.errors) + [TICKED_GONE]
        form.contribution_ids.data = [str(i) for i in ids]
    return ids


def fill_total(form: PaymentForm, unpaid: list[Contribution]) -> None:
    """Work out the amount from the ticked contributions ("Work out the amount"); nothing is checked or saved."""
    ids = ticked(form, {c.id for c in unpaid})
    form.amount.data = str(sum((c.value_owed for c in unpaid if c.id in ids), ZERO))
    if form.kind.data in NON_MONEY_KINDS:
        form.amount_offered.data, form.amount.data = form.amount.data, "0.00"


def decline_formdata(posted, unpaid: list[Contribution], on: date, note: str) -> MultiDict:
    """What "Record a decline" records, as the payment form would post it: a declined payment on
    ``on`` for everything unpaid, with what was owed as the amount offered."""
    data = MultiDict(
        [
            ("csrf_token", posted.get("csrf_token") or ""),
            ("kind", "declined"),
            ("amount", "0.00"),
            ("paid_on", on.isoformat()),
            ("note", note),
        ]
    )
    for c in unpaid:
        data.add("contribution_ids", str(c.id))
    if unpaid:
        data.add("amount_offered", str(sum((c.value_owed for c in unpaid), ZERO)))
    return data


def payment_data(form: PaymentForm, ids: list[int]) -> dict:
    """What the payment service parses (service.parse_payment)."""
    return {
        "kind": form.kind.data,
        "amount": clean(form, "amount"),
        "amount_offered": clean(form, "amount_offered"),
        "benefit_value": clean(form, "benefit_value"),
        "charity_name": form.charity_name.data,
        "paid_on": form.paid_on.data,
        **cover_data(form),
        "note": form.note.data,
        "override_reason": form.override_reason.data,
        "kind_reason": form.kind_reason.data,
        "contribution_ids": ids,
    }


def cover_data(form: PaymentForm) -> dict:
    """The due date and the covered period as the form holds them (None when blank)."""
    return {"due_on": form.due_on.data, "covers_from": form.covers_from.data, "covers_to": form.covers_to.data}


# ---- a suggestion carried in hidden fields --------------------------------------------------------
#
# Each "use this suggestion" button posts the payment form as typed, action=suggestion, the
# explanation, and the suggested payments as s0_kind, s0_amount, s0_paid_on, s1_kind, ... (at most
# MAX_SUGGESTED). suggestion_fields writes them into the page; suggested_rows reads them back.


def _as_typed(form: PaymentForm) -> list[tuple[str, str]]:
    fields = [
        ("kind", form.kind.data or ""),
        ("amount", form.amount.data or ""),
        ("amount_offered", form.amount_offered.data or ""),
        ("benefit_value", form.benefit_value.data or ""),
        ("charity_name", form.charity_name.data or ""),
        ("note", form.note.data or ""),
        ("kind_reason", form.kind_reason.data or ""),
    ]
    for day in (form.paid_on, form.due_on, form.covers_from, form.covers_to):
        if day.raw_data:
            fields.append((day.name, day.raw_data[0]))
        elif day.data:
            fields.append((day.name, day.data.isoformat()))
    return fields + [("contribution_ids", i) for i in form.contribution_ids.data or []]


def suggestion_fields(form: PaymentForm, explanation: str, payments: list[dict]) -> list[tuple[str, str]]:
    """The hidden fields of one suggestion's button."""
    fields = _as_typed(form) + [("action", "suggestion"), ("explanation", explanation)]
    for i, p in enumerate(payments[:MAX_SUGGESTED]):
        fields += [(f"s{i}_kind", p["kind"]), (f"s{i}_amount", p["amount"]), (f"s{i}_paid_on", p["paid_on"])]
        fields.append((f"s{i}_due_on", p.get("due_on") or p["paid_on"]))
    return fields


def posted_rows(formdata, prefix: str, most: int) -> list[dict[str, str]]:
    """Payments a page sent back in hidden fields ({prefix}0_kind, {prefix}0_amount, {prefix}0_paid_on,
    {prefix}1_kind, ..., at most ``most``), as typed: the first missing kind ends them."""
    rows = []
    for i in range(most):
        kind = formdata.get(f"{prefix}{i}_kind")
        if kind is None:
            break
        amount, paid_on = (formdata.get(f"{prefix}{i}_{name}") or "" for name in ("amount", "paid_on"))
        rows.append({"kind": kind, "amount": amount, "paid_on": paid_on})
    return rows


def suggested_rows(formdata) -> list[dict] | None:
    """The payments a "use this suggestion" button posted; None when they cannot be read."""
    rows = []
    for i, row in enumerate(posted_rows(formdata, "s", MAX_SUGGESTED)):
        due_text = formdata.get(f"s{i}_due_on") or ""
        try:
            paid_on = parse_day(row["paid_on"])
            # a suggestion that moves money moves its due date with it (older pages sent none)
            due_on = parse_day(due_text) if due_text else paid_on
        except ValueError:
            return None
        if is_huge(row["amount"]):
            return None
        rows.append({**row, "paid_on": paid_on, "due_on": due_on})
    return rows or None


def charity_for(form: PaymentForm, person: Person) -> str | None:
    """The charity a suggested charity payment goes to: as typed, else the one the person prefers."""
    if (form.charity_name.data or "").strip():
        return form.charity_name.data
    pref = next((p for p in person.preferences if p.kind == "charity"), None)
    return pref.note if pref else None


def suggestion_explanation(formdata) -> str:
    """The explanation a suggestion's button posted, kept with the payments it records."""
    return (formdata.get("explanation") or "").strip()[:600] or "a suggested way to pay"


# ---- month end: the owed queue and reconciliation ---------------------------------------------------


class OwedForm(FlaskForm):
    """Record drafts for the people chosen in the owed queue; a reason per blocked person overrides."""

    on = DayField(
        "Date the people receive the payments",
        validators=[InputRequired("Enter the date the people receive the payments")],
    )
    person_ids = SelectMultipleField("People to pay", choices=[], validate_choice=False)


class OwedCheckForm(Form):
    """The GET form above the owed queue: which date to check paying on (no CSRF: it changes nothing)."""

    on = DayField("Check paying on")


def chosen_ids(form: OwedForm) -> list[int]:
    """The people ticked, each once; an id that is not one is left out."""
    return list(dict.fromkeys(i for i in (pages.parse_id(raw) for raw in form.person_ids.data or []) if i))


def override_reasons(formdata, ids: list[int]) -> dict[int, str]:
    """The reason typed for each person to override a blocking check (``reason-ID``), when there is one."""
    out = {}
    for pid in ids:
        text = (formdata.get(f"reason-{pid}") or "").strip()
        if text:
            out[pid] = text
    return out


class ReconcileForm(FlaskForm):
    start = DayField("From", validators=[InputRequired("Enter the first day of the period")])
    end = DayField("To", validators=[InputRequired("Enter the last day of the period")])
    statement = upload_field(
        "The bank statement (CSV: date, amount, reference)",
        "Choose the bank statement's CSV file.",
        ["csv", "txt"],
        "The file must be a CSV file (.csv).",
        accept=".csv,text/csv",
    )
    output = SelectField(
        "Show",
        choices=select_choices([("page", "The result on this page"), ("csv", "A CSV file of what does not match")]),
        default="page",
        validate_choice=False,
    )

    def validate_end(self, field):
        if isinstance(field.data, date) and isinstance(self.start.data, date) and field.data < self.start.data:
            raise ValidationError("The end of the period must be on or after its start.")
        if (
            isinstance(field.data, date)
            and isinstance(self.start.data, date)
            and (field.data - self.start.data).days > 366
        ):
            raise ValidationError("Reconcile at most a year at a time.")
