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

from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import render_template, request
from flask_login import current_user

from tracker import pages
from tracker.audit import bp
from tracker.audit.forms import AuditFilterForm, check_filters
from tracker.audit.models import AuditEvent
from tracker.audit.presenters import (
    HIDDEN,
    action_choices,
    action_label,
    entity_label,
    readable,
    repeats_text,
    type_choices,
)
from tracker.auth.access import roles_required
from tracker.auth.models import User
from tracker.extensions import db
from tracker.people.forms import select_choices
from tracker.people.models import Person
from tracker.rules import redaction
from tracker.timeutil import UK_TIME, utc_end_of, utc_start_of
from tracker.vocab import FINANCE_ROLES, MAX_PAGE

PER_PAGE = 50
# Actions whose before/after hold benefit information (special-category data).
BENEFIT_PREFIXES = ("claim.", "consent.", "benefits.")
# Roles that may read what those events held.
BENEFIT_READERS = ("admin",)


def is_benefit_event(action: str) -> bool:
    return action.startswith(BENEFIT_PREFIXES)


def can_read(event: AuditEvent, user) -> bool:
    return not is_benefit_event(event.action) or user.role in BENEFIT_READERS


def readable_for(user) -> Callable[..., list[tuple[str, str, bool]]]:
    """The audit page's before and after in words, with benefit names and rule codes left out for
    a role that may not see them (the details of ``payment.override`` and ``risk.raised`` name rules)."""
    if not redaction.hides_for(user):
        return readable
    tax = redaction.tax_codes()

    def neutral(data, other=None) -> list[tuple[str, str, bool]]:
        return readable(redaction.detail(data, tax), redaction.detail(other, tax))

    return neutral


def _distinct(column) -> list[str]:
    return list(db.session.scalars(sa.select(column).distinct().order_by(column)))


def _filter_form() -> tuple[AuditFilterForm, list[str], list[str]]:
    form = AuditFilterForm(formdata=request.args)
    actions = _distinct(AuditEvent.action)
    types = _distinct(AuditEvent.entity_type)
    form.action.choices = select_choices(action_choices(actions))
    form.entity_type.choices = select_choices(type_choices(types))
    check_filters(form, actions, types)
    return form, actions, types


def _query(form: AuditFilterForm) -> sa.Select:
    q = (
        sa.select(AuditEvent)
        .options(so.joinedload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    who = (form.who.data or "").strip()
    if who:
        q = q.join(User, User.id == AuditEvent.actor_id).where(
            sa.func.lower(User.email).contains(who.lower(), autoescape=True)
        )
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
    out = {
        "who": (form.who.data or "").strip(),
        "action": form.action.data,
        "entity_type": form.entity_type.data,
        "entity_id": form.entity_id.data,
        "person_id": form.person_id.data,
        "from": form["from"].data.isoformat() if form["from"].data else None,
        "to": form["to"].data.isoformat() if form["to"].data else None,
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


@bp.get("/")
@roles_required(*FINANCE_ROLES)
def index():
    form, actions, types = _filter_form()
    page = min(max(request.args.get("page", default=1, type=int) or 1, 1), MAX_PAGE)
    events = None
    names: dict[int, str] = {}
    if not form.errors:
        events = db.paginate(_query(form), page=page, per_page=PER_PAGE, error_out=False, count=True)
        person_ids = {e.person_id for e in events.items if e.person_id is not None}
        if person_ids:
            names = dict(
                db.session.execute(sa.select(Person.id, Person.name).where(Person.id.in_(person_ids))).tuples().all()
            )
    args = _args(form)
    return render_template(
        "audit/index.html",
        form=form,
        events=events,
        args=args,
        names=names,
        filtered=bool(args),
        can_read=lambda e: can_read(e, current_user),
        readable=readable_for(current_user),
        action_label=action_label,
        repeats_text=repeats_text,
        entity_label=entity_label,
        local_name=UK_TIME,
        hidden=HIDDEN,
    ), pages.status(form)
