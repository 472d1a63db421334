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
from tracker.people.forms import Needed, PlainDateField, select_choices

MAX_ID = 2**63 - 1
MAX_NOTE = 2000
PLAN_ROWS = 6
MAX_SESSION_HOURS = Decimal("24")
MAX_SESSION_AMOUNT = Decimal("100000.00")

STATUS_CHOICES = (("", "Any result"), ("over", "Over the limit"), ("near", "Close to the limit"),
                  ("ok", "Within the limit"), ("info", "For information"))
FLAG_ACTIONS = ("acknowledge", "resolve", "note")


def parse_id(raw) -> int | None:
    """A positive whole number that fits a database id, or None."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


# ---- the dashboard ------------------------------------------------------------------------------

class DashboardFilterForm(Form):
    """GET filters (no CSRF: they change nothing). Choices are set by the view."""

    benefit = SelectField("Benefit", validate_choice=False, default="")
    status = SelectField("Result", choices=select_choices(STATUS_CHOICES), validate_choice=False, default="")
    activity = SelectField("Took part in", validate_choice=False, default="")


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
        setattr(PlanForm, f"rate_{i}", StringField("Or the rate per hour, in pounds",
                                                   render_kw={"inputmode": "decimal"}))
    return PlanForm


def _blank(field) -> bool:
    if field.raw_data:
        return not "".join(str(v) for v in field.raw_data).strip()
    return field.data in (None, "")


def _number(field, what: str, row: int, maximum: Decimal):
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


def sessions_from(form, today: date) -> list[tuple[int, date, Decimal, Decimal]]:
    """The filled-in rows as (row, date, hours, amount), or [] with messages on the fields.

    The amount is the amount owed, or the rate per hour × the hours, rounded to the penny."""
    rows = []
    for i in range(PLAN_ROWS):
        fd, fh, fa, fr = form[f"date_{i}"], form[f"hours_{i}"], form[f"amount_{i}"], form[f"rate_{i}"]
        if all(_blank(f) for f in (fd, fh, fa, fr)) and not fd.errors:
            continue
        worked_on = fd.data
        if fd.errors:
            fd.errors = [f"Session {i + 1}: {e}" for e in fd.errors]
        elif worked_on is None:
            fd.errors = [f"Session {i + 1}: enter the date of the session, like {today.isoformat()}."]
        elif not today - timedelta(days=366) <= worked_on <= today + timedelta(days=731):
            fd.errors = [f"Session {i + 1}: enter a date within a year before today and two years after it."]
            worked_on = None
        hours = None
        if _blank(fh):
            fh.errors = [f"Session {i + 1}: enter the hours, like 2.5."]
        else:
            hours = _number(fh, "the hours", i, MAX_SESSION_HOURS)
        amount = None
        if _blank(fa) and _blank(fr):
            fa.errors = [f"Session {i + 1}: enter the amount owed, or the rate per hour."]
        elif not _blank(fa) and not _blank(fr):
            fr.errors = [f"Session {i + 1}: give the amount owed or the rate per hour, not both."]
        elif not _blank(fa):
            amount = _number(fa, "the amount", i, MAX_SESSION_AMOUNT)
        else:
            rate = _number(fr, "the rate per hour", i, MAX_SESSION_AMOUNT)
            if rate is not None and hours is not None:
                amount = (rate * hours).quantize(PENNY, rounding=ROUND_HALF_UP)
                if amount <= 0 or amount > MAX_SESSION_AMOUNT:
                    fr.errors = [f"Session {i + 1}: the rate times the hours must be between £0.01 and £100,000."]
                    amount = None
        if worked_on is not None and hours is not None and amount is not None:
            rows.append((i, worked_on, hours, amount))
    has_errors = any(form[f"{n}_{i}"].errors for i in range(PLAN_ROWS) for n in ("date", "hours", "amount", "rate"))
    if not rows and not has_errors:
        form.date_0.errors = list(form.date_0.errors) + ["Enter at least one session: its date, hours and amount."]
    return [] if has_errors else rows
