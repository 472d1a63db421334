"""Forms for the risk pages: the dashboard filters, flag actions, a manual flag, the planner's
sessions and the notifications outbox.

Like the other forms, they parse what was typed and nothing more: the services (risks.service,
payments.service) and the planner decide what is allowed, and their ValidationFailed messages
are put back onto these fields by the views.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from tracker.money import PENNY, MoneyError, to_decimal
from tracker.pages import parse_id
from tracker.payments.forms import posted_rows
from tracker.people.forms import Needed, PlainDateField, select_choices
from tracker.risks.dashboard import Filters
from tracker.rules.wording import EFFECT_LABELS
from tracker.vocab import CLAIMABLE_CODES, EFFECTS, MAX_AMOUNT, MAX_PAGE, VERDICT_STATUS_WORDS

MAX_NOTE = 2000
PLAN_ROWS = 6
PLAN_FIELDS = ("date", "hours", "amount", "rate")
#: A planner's payments sent back with "Use this plan" (p0_kind, p0_amount, p0_paid_on, ...): at most this many.
MAX_PLAN_PAYMENTS = 200
MAX_SESSION_HOURS = Decimal(24)

STATUS_CHOICES = (("", "Any result"),) + tuple(
    (code, VERDICT_STATUS_WORDS[code]) for code in ("over", "near", "ok", "info")
)
#: The dashboard's filter by what the worst verdict costs (``vocab.EFFECTS``), worst first.
EFFECT_CHOICES = (("", "Anything"),) + tuple((code, EFFECT_LABELS[code]) for code in EFFECTS)
FLAG_ACTIONS = ("acknowledge", "resolve", "note")


# ---- the dashboard ------------------------------------------------------------------------------


class DashboardFilterForm(Form):
    """GET filters (no CSRF: they change nothing). Choices are set by the view."""

    benefit = SelectField("Benefit", validate_choice=False, default="")
    status = SelectField("Result", choices=select_choices(STATUS_CHOICES), validate_choice=False, default="")
    effect = SelectField("What it costs", choices=select_choices(EFFECT_CHOICES), validate_choice=False, default="")
    activity = SelectField("Took part in", validate_choice=False, default="")


def read_filters(
    form: DashboardFilterForm, activities: list[tuple[str, str]], page: int | None, *, redact: bool
) -> Filters:
    """The dashboard's filters from what was chosen, with a message on each field that is not one of
    its choices. The benefit filter is left out for people who may not see benefit information."""
    f = Filters()
    benefit = (form.benefit.data or "").strip()
    if benefit and not redact:
        if benefit in CLAIMABLE_CODES:
            f.benefit = benefit
        else:
            form.benefit.errors = ["Choose a benefit from the list."]
    f.status = _chosen(form.status, STATUS_CHOICES, "Choose a result from the list.")
    f.effect = _chosen(form.effect, EFFECT_CHOICES, "Choose what it costs from the list.")
    f.activity_id = _activity(form, activities)
    f.page = min(max(page or 1, 1), MAX_PAGE)
    pairs = (("benefit", f.benefit), ("status", f.status), ("effect", f.effect), ("activity", f.activity_id))
    f.args = {k: v for k, v in pairs if v}
    return f


def _chosen(field: SelectField, choices: tuple[tuple[str, str], ...], message: str) -> str | None:
    """The code chosen in a filter, or None; a code not in the list puts a message on the field."""
    value = (field.data or "").strip()
    if not value:
        return None
    if value in dict(choices):
        return value
    field.errors = [message]
    return None


def _activity(form: DashboardFilterForm, activities: list[tuple[str, str]]) -> int | None:
    activity = (form.activity.data or "").strip()
    if not activity:
        return None
    aid = parse_id(activity)
    if aid is None or str(aid) not in dict(activities):
        form.activity.errors = ["Choose an activity from the list."]
        return None
    return aid


# ---- flags --------------------------------------------------------------------------------------


class FlagActionForm(FlaskForm):
    """Acknowledge, resolve or add a note to one flag. The flag is named in the form, so one
    address serves every flag of the person; the button pressed is the action."""

    flag_id = HiddenField("Flag")
    action = HiddenField("Action")
    note = TextAreaField("Note")


class ManualFlagForm(FlaskForm):
    note = TextAreaField("What is the risk?", validators=[Needed()])
    rule_family = SelectField("Which rule", validate_choice=False, default="")


class MarkReadForm(FlaskForm):
    notification_id = HiddenField("Notification")
    action = HiddenField("Action")


# ---- the planner --------------------------------------------------------------------------------


def plan_form_class():
    """PLAN_ROWS rows of (date, hours, amount, rate per hour). Empty rows are ignored."""

    class PlanForm(FlaskForm):
        pass

    for i in range(PLAN_ROWS):
        setattr(PlanForm, f"date_{i}", PlainDateField("Date of the session", validators=[Optional()]))
        setattr(PlanForm, f"hours_{i}", StringField("Hours", render_kw={"inputmode": "decimal"}))
        setattr(PlanForm, f"amount_{i}", StringField("Amount owed, in pounds", render_kw={"inputmode": "decimal"}))
        setattr(
            PlanForm, f"rate_{i}", StringField("Or the rate per hour, in pounds", render_kw={"inputmode": "decimal"})
        )
    return PlanForm


def _blank(field) -> bool:
    if field.raw_data:
        return not "".join(str(v) for v in field.raw_data).strip()
    return field.data in (None, "")


def _number(field, what: str, row: int, maximum: Decimal) -> Decimal | None:
    text = (field.data or "").strip()
    try:
        value = to_decimal(text)
    except MoneyError as e:
        field.errors = list(field.errors) + [f"Session {row + 1}: {what}: {e}"]
        return None
    if value <= 0:
        field.errors = list(field.errors) + [f"Session {row + 1}: {what} must be more than 0."]
        return None
    if value > maximum:
        field.errors = list(field.errors) + [f"Session {row + 1}: {what} must be at most {maximum:,}."]
        return None
    return value


def _worked_on(fd, i: int, today: date) -> date | None:
    """The session's date, or None with the reason on the field."""
    if fd.errors:
        fd.errors = [f"Session {i + 1}: {e}" for e in fd.errors]
        return None
    if fd.data is None:
        fd.errors = [f"Session {i + 1}: enter the date of the session."]
        return None
    if not today - timedelta(days=366) <= fd.data <= today + timedelta(days=731):
        fd.errors = [f"Session {i + 1}: enter a date within a year before today and two years after it."]
        return None
    return fd.data


def _hours(fh, i: int) -> Decimal | None:
    if _blank(fh):
        fh.errors = [f"Session {i + 1}: enter the hours, like 2.5."]
        return None
    return _number(fh, "the hours", i, MAX_SESSION_HOURS)


def _amount(fa, fr, hours: Decimal | None, i: int) -> Decimal | None:
    """The amount owed: as typed, or the rate per hour × the hours, rounded to the penny."""
    if _blank(fa) and _blank(fr):
        fa.errors = [f"Session {i + 1}: enter the amount owed, or the rate per hour."]
        return None
    if not _blank(fa) and not _blank(fr):
        fr.errors = [f"Session {i + 1}: give the amount owed or the rate per hour, not both."]
        return None
    if not _blank(fa):
        return _number(fa, "the amount", i, MAX_AMOUNT)
    rate = _number(fr, "the rate per hour", i, MAX_AMOUNT)
    if rate is None or hours is None:
        return None
    amount = (rate * hours).quantize(PENNY, rounding=ROUND_HALF_UP)
    if amount <= 0 or amount > MAX_AMOUNT:
        fr.errors = [f"Session {i + 1}: the rate times the hours must be between £0.01 and £{MAX_AMOUNT:,.0f}."]
        return None
    return amount


def _session(form, i: int, today: date) -> tuple[int, date, Decimal, Decimal] | None:
    """Row ``i`` as (row, date, hours, amount); None when it is empty or has errors (on its fields)."""
    fd, fh, fa, fr = (form[f"{name}_{i}"] for name in PLAN_FIELDS)
    if all(_blank(f) for f in (fd, fh, fa, fr)) and not fd.errors:
        return None
    worked_on = _worked_on(fd, i, today)
    hours = _hours(fh, i)
    amount = _amount(fa, fr, hours, i)
    if worked_on is None or hours is None or amount is None:
        return None
    return i, worked_on, hours, amount


def sessions_from(form, today: date) -> list[tuple[int, date, Decimal, Decimal]]:
    """The filled-in rows as (row, date, hours, amount), or [] with messages on the fields.

    The amount is the amount owed, or the rate per hour × the hours, rounded to the penny."""
    rows = [row for row in (_session(form, i, today) for i in range(PLAN_ROWS)) if row is not None]
    has_errors = any(form[f"{n}_{i}"].errors for i in range(PLAN_ROWS) for n in PLAN_FIELDS)
    if not rows and not has_errors:
        form.date_0.errors = list(form.date_0.errors) + ["Enter at least one session: its date, hours and amount."]
    return [] if has_errors else rows


def typed_fields(form) -> list[tuple[str, str]]:
    """The sessions as typed, (name, text) for each filled-in field: sent again with "Use this plan"."""
    out = []
    for i in range(PLAN_ROWS):
        for name in PLAN_FIELDS:
            f = form[f"{name}_{i}"]
            raw = f.raw_data[0] if f.raw_data else (f.data.isoformat() if hasattr(f.data, "isoformat") else f.data)
            if raw:
                out.append((f"{name}_{i}", raw))
    return out


def posted_payments(formdata) -> list[dict] | None:
    """The payments of the plan being used, as the page sent them back (None when there are none)."""
    return posted_rows(formdata, "p", MAX_PLAN_PAYMENTS) or None
