"""The audit log page: who did what, to which record, and when; newest first.

| method and path | endpoint | roles |
| --- | --- | --- |
| GET /audit/ | audit.index | admin, finance |

Read-only: viewing it writes nothing. Filters: who (part of the user's email address), what (one
action), which record (type and number, or the person), and when (from and to dates, UK time).

Benefit information is special-category data: finance sees that an event about a benefit claim or
consent happened, but not what it held (before, after or reason).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from tracker.audit import bp
from tracker.audit.models import AuditEvent
from tracker.auth.access import roles_required
from tracker.auth.models import User
from tracker.extensions import db
from tracker.people.forms import PlainDateField, select_choices
from tracker.people.models import Person


PER_PAGE = 50
MAX_PAGE = 100_000
MAX_ID = 2**63 - 1
# Actions whose before/after hold benefit information (special-category data).
BENEFIT_PREFIXES = ("claim.", "consent.", "benefits.")
# Roles that may read what those events held.
BENEFIT_READERS = ("admin",)
HIDDEN = "Benefit information (hidden for your role)"

try:
    from zoneinfo import ZoneInfo

    LOCAL = ZoneInfo("Europe/London")
    LOCAL_NAME = "UK time"
except Exception:  # pragma: no cover - a system without time zone data
    LOCAL = timezone.utc
    LOCAL_NAME = "UTC"

ENTITY_LABELS = {
    "person": "Person", "benefit_claim": "Benefit claim", "consent": "Consent", "payment": "Payment",
    "contribution": "Contribution", "activity": "Activity", "expense": "Expense", "other_income": "Other income",
    "user_account": "User", "api_token": "API token", "benefit_rule": "Benefit rule", "document": "Document",
    "import": "Import", "none": "None",
}
ACTION_LABELS = {
    "benefits.viewed": "Benefit information viewed",
    "import.completed": "File imported",
}
KEY_LABELS = {"paid_on": "Paid on", "worked_on": "Worked on", "due_on": "Due on", "sha256": "File fingerprint",
              "ap_start_day": "Assessment period start day", "id": "ID"}


def action_label(action: str) -> str:
    """payment.reversed -> Payment reversed."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return action.replace(".", " ").replace("_", " ").capitalize()


def entity_label(entity_type: str) -> str:
    return ENTITY_LABELS.get(entity_type, entity_type.replace("_", " ").capitalize())


def key_label(key) -> str:
    key = str(key)
    return KEY_LABELS.get(key, key.replace("_", " ").capitalize())


def plain_value(value) -> str:
    """A stored JSON value in words: no braces or quotes."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        if not value:
            return "(empty)"
        return "; ".join(f"{key_label(k)}: {plain_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if not value:
            return "(none)"
        if any(isinstance(v, (dict, list, tuple)) for v in value):
            return " | ".join(plain_value(v) for v in value)
        return ", ".join(plain_value(v) for v in value)
    return str(value)


def readable(data, other=None) -> list[tuple[str, str, bool]]:
    """A before or after dict as [(label, value, changed)]; changed compares with the other side."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return [("Value", plain_value(data), False)]
    out = []
    for k, v in data.items():
        changed = isinstance(other, dict) and other.get(k) != v
        out.append((key_label(k), plain_value(v), changed))
    return out


def is_benefit_event(action: str) -> bool:
    return action.startswith(BENEFIT_PREFIXES)


def can_read(event: AuditEvent, user) -> bool:
    return not is_benefit_event(event.action) or user.role in BENEFIT_READERS


def local_time(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc).astimezone(LOCAL)


def utc_start_of(day: date) -> datetime | None:
    """The UTC moment a UK day starts (stored times are UTC without a zone); None beyond the calendar."""
    try:
        return datetime.combine(day, time.min, tzinfo=LOCAL).astimezone(timezone.utc).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return None


def utc_end_of(day: date) -> datetime | None:
    """The UTC moment after a UK day ends; None when that is beyond the calendar (no upper bound)."""
    try:
        return utc_start_of(day + timedelta(days=1))
    except OverflowError:
        return None


FROM_ONE = "Use a number from 1 up."
WHOLE = "Use a whole number, like 12."


class AuditFilterForm(FlaskForm):
    """The GET filter form (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    who = StringField("Who")
    action = SelectField("What happened", validate_choice=False)
    entity_type = SelectField("Type of record", validate_choice=False)
    entity_id = IntegerField("Record number", validators=[Optional(), NumberRange(1, MAX_ID, FROM_ONE)],
                             render_kw={"inputmode": "numeric"}, invalid_value_message=WHOLE)
    person_id = IntegerField("Person number", validators=[Optional(), NumberRange(1, MAX_ID, FROM_ONE)],
                             render_kw={"inputmode": "numeric"}, invalid_value_message=WHOLE)


# "from" and "to", as on the other lists, are Python keywords: added by name.
setattr(AuditFilterForm, "from", PlainDateField("From", validators=[Optional()]))
setattr(AuditFilterForm, "to", PlainDateField("To", validators=[Optional()]))


def _distinct(column) -> list[str]:
    return list(db.session.scalars(sa.select(column).distinct().order_by(column)))


def _filter_form() -> tuple[AuditFilterForm, list[str], list[str]]:
    form = AuditFilterForm(formdata=request.args)
    actions = _distinct(AuditEvent.action)
    types = _distinct(AuditEvent.entity_type)
    form.action.choices = select_choices([("", "Anything")] + [(a, f"{action_label(a)} ({a})") for a in actions])
    form.entity_type.choices = select_choices([("", "Any type")] + [(t, entity_label(t)) for t in types])
    form.validate()
    if form.action.data and form.action.data not in actions:
        form.action.errors = list(form.action.errors) + ["Choose something from the list."]
    if form.entity_type.data and form.entity_type.data not in types:
        form.entity_type.errors = list(form.entity_type.errors) + ["Choose a type of record from the list."]
    if form.entity_id.data is not None and not form.entity_type.data and not form.entity_type.errors:
        form.entity_type.errors = list(form.entity_type.errors) + ["Choose the type of record for the record number."]
    start, end = form["from"].data, form["to"].data
    if start and end and end < start and not form["to"].errors:
        form["to"].errors = list(form["to"].errors) + ["The end date must be on or after the start date."]
    if (form.who.data or "").strip() and len(form.who.data.strip()) > 254:
        form.who.errors = list(form.who.errors) + ["Use 254 characters or fewer."]
    return form, actions, types


def _query(form: AuditFilterForm) -> sa.Select:
    q = (sa.select(AuditEvent).options(so.joinedload(AuditEvent.actor))
         .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    who = (form.who.data or "").strip()
    if who:
        q = q.join(User, User.id == AuditEvent.actor_id).where(
            sa.func.lower(User.email).contains(who.lower(), autoescape=True))
    if form.action.data:
        q = q.where(AuditEvent.action == form.action.data)
    if form.entity_type.data:
        q = q.where(AuditEvent.entity_type == form.entity_type.data)
    if form.entity_id.data is not None:
        q = q.where(AuditEvent.entity_id == form.entity_id.data)
    if form.person_id.data is not None:
        q = q.where(AuditEvent.person_id == form.person_id.data)
    start = utc_start_of(form["from"].data) if form["from"].data else None
    end = utc_end_of(form["to"].data) if form["to"].data else None
    if start is not None:
        q = q.where(AuditEvent.at >= start)
    if end is not None:
        q = q.where(AuditEvent.at < end)
    return q


def _args(form: AuditFilterForm) -> dict:
    """The filters in force, for the page links."""
    out = {"who": (form.who.data or "").strip(), "action": form.action.data, "entity_type": form.entity_type.data,
           "entity_id": form.entity_id.data, "person_id": form.person_id.data,
           "from": form["from"].data.isoformat() if form["from"].data else None,
           "to": form["to"].data.isoformat() if form["to"].data else None}
    return {k: v for k, v in out.items() if v not in (None, "")}


@bp.get("/")
@roles_required("admin", "finance")
def index():
    form, actions, types = _filter_form()
    page = min(max(request.args.get("page", default=1, type=int) or 1, 1), MAX_PAGE)
    events = None
    names: dict[int, str] = {}
    if not form.errors:
        events = db.paginate(_query(form), page=page, per_page=PER_PAGE, error_out=False, count=True)
        person_ids = {e.person_id for e in events.items if e.person_id is not None}
        if person_ids:
            names = dict(db.session.execute(sa.select(Person.id, Person.name).where(Person.id.in_(person_ids))).all())
    args = _args(form)
    return render_template(
        "audit/index.html", form=form, events=events, args=args, names=names, filtered=bool(args),
        can_read=lambda e: can_read(e, current_user), readable=readable, action_label=action_label,
        entity_label=entity_label, local_time=local_time, local_name=LOCAL_NAME, hidden=HIDDEN,
    ), (422 if form.errors else 200)
