"""Contribution and activity pages: the list, recording a whole session at once, one contribution,
and the activities with their rate cards.

Same pattern as the people and payment pages: role check (403), 404 for what does not exist, the
form parses, and the write goes through the page commit boundary (tracker.pages.submit): the
service's ValidationFailed messages go onto the fields (422), and on success one commit, a flash
and a redirect. The words come from tracker.contributions.presenters.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import flash, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import pages
from tracker.audit import service as audit
from tracker.auth.access import roles_required
from tracker.contributions import bp, presenters, service
from tracker.contributions.forms import (
    MAX_SESSION_ROWS,
    RATE_UNIT_LABELS,
    SERVICE_USER_LABELS,
    SESSION_ROWS,
    ActivityForm,
    ContributionForm,
    attendee,
    name_rows,
    put_missing_errors,
    row_count,
    row_errors,
    session_form_class,
    used_rows,
    with_rows_changed,
)
from tracker.contributions.models import Activity
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import format_money
from tracker.pages import Done
from tracker.payments import owed, queries
from tracker.payments.forms import activity_choices, clean, people_choices
from tracker.payments.presenters import list_page, page_args, query_person, sees_benefit_names
from tracker.people.models import Person
from tracker.timeutil import today
from tracker.vocab import FINANCE_ROLES, STAFF_ROLES

#: Who records contributions and looks after the activities.
MANAGERS = ("admin", "coordinator")


def _render(template: str, **ctx):
    return render_template(
        template,
        rate_text=presenters.rate_text,
        rate_unit_labels=RATE_UNIT_LABELS,
        service_user_labels=SERVICE_USER_LABELS,
        **ctx,
    )


def _activity(raw) -> Activity | None:
    ident = pages.parse_id(raw)
    return db.session.get(Activity, ident) if ident else None


def _chosen_activity(form, *, required: bool) -> Activity | None:
    raw = form.activity_id.data
    if raw in (None, ""):
        if required:
            form.activity_id.errors = list(form.activity_id.errors) + ["Choose the activity."]
        return None
    activity = _activity(raw)
    if activity is None:
        form.activity_id.errors = list(form.activity_id.errors) + ["Choose an activity from the list."]
    return activity


def _errors_too(form, check: Callable[[dict], object], data: dict) -> None:
    """When the form refused something, also say what else is wrong (the check writes nothing)."""
    try:
        check(data)
    except ValidationFailed as e:
        put_missing_errors(form, e.fields)


# ---- the list ----------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    form, f, rows = list_page(queries.contributions_query, queries.CONTRIBUTION_ORDER)
    return _render(
        "contributions/index.html",
        form=form,
        f=f,
        contributions=rows,
        args=page_args(f),
        can_record=current_user.role in MANAGERS,
        can_pay=current_user.role in FINANCE_ROLES,
    ), (200 if f else 422)


# ---- a session: many people at once -------------------------------------------------------------


def _preview_errors(form, attendees: list[dict], rows: list[int]) -> None:
    """When the session cannot be saved for another reason, still say what is wrong in each row."""
    errors: dict[str, list[str]] = {}
    for n, row in enumerate(attendees):
        if row["person_id"] is None or db.session.get(Person, row["person_id"]) is None:
            errors[f"attendees.{n}.person_id"] = ["Choose a person."]
        try:
            service.contribution_values({**row, "worked_on": today()})
        except ValidationFailed as e:
            for k, v in e.fields.items():
                errors[f"attendees.{n}.{k}"] = v
    put_missing_errors(form, row_errors(errors, rows))


def _row_change() -> tuple[str | None, int | None]:
    """What a press on "Add another person" or a row's "Remove" asks for; (None, None) for neither."""
    if request.method != "POST":
        return None, None
    remove = request.form.get("remove")
    if remove is not None and remove.isdigit() and len(remove) < 4:
        return "remove", int(remove)
    return ("add", None) if request.form.get("action") == "add" else (None, None)


def _session_form(change: str | None, remove: int | None):
    """The session form, with as many rows as the page had (one more, or one fewer, when asked)."""
    count = SESSION_ROWS
    formdata = None
    if request.method == "POST":
        count = row_count(request.form)
        formdata, count = with_rows_changed(request.form, count, change, remove)
    form_class = session_form_class(count)
    if formdata is None:
        form = form_class(data={"activity_id": request.args.get("activity_id") or "", "worked_on": today()})
    else:
        form = form_class(formdata=formdata)
    form.activity_id.choices = activity_choices("Choose the activity", active_only=True)
    people = people_choices("No one")
    for i in range(count):
        form[f"person_{i}"].choices = people
    return form, count


def _post_session(form, count: int) -> tuple[Response | None, Activity | None]:
    """Record the session: (the redirect, or None to show the form again; the chosen activity)."""
    valid = form.validate_on_submit()
    name_rows(form, count)
    chosen = _chosen_activity(form, required=True)
    rows = used_rows(form, count)
    attendees = [attendee(form, i) for i in rows]
    if not rows:
        form.person_0.errors = list(form.person_0.errors) + ["Add at least one person who took part."]
    if not (valid and chosen is not None and rows):
        _preview_errors(form, attendees, rows)
        return None, chosen

    def action() -> Done:
        day = form.worked_on.data
        made = service.record_session(chosen.id, day, attendees, actor=current_user, description=form.description.data)
        warnings.extend(_owed_warnings([c.person_id for c in made], day))
        return Done(
            url_for("contributions.index", activity_id=chosen.id, **{"from": day.isoformat(), "to": day.isoformat()}),
            presenters.session_recorded(made, chosen, day),
        )

    warnings: list[str] = []
    done = pages.submit(form, action, on_error=lambda e: pages.put_errors(form, row_errors(e.fields, rows)))
    return _with_warnings(done, warnings), chosen


def _with_warnings(done: Response | None, warnings: list[str]) -> Response | None:
    """After a write that committed: its warnings, flashed after its own message."""
    if done is not None:
        for warning in warnings:
            flash(warning, "warning")
    return done


def _owed_warnings(person_ids: list[int], day) -> list[str]:
    """After recording work: a warning for each person whose payment of everything owed, the way
    they chose, would break a benefit rule (a view of benefit information when it names the rules)."""
    names = sees_benefit_names(current_user.role)
    out = []
    for row in owed.check_people(person_ids, max(day, today()), today=today()):
        warning = presenters.owed_warning(row, names=names)
        if warning is None:
            continue
        out.append(warning)
        if names:
            audit.record(
                current_user,
                "benefits.viewed",
                None,
                entity_type="person",
                entity_id=row.person_id,
                person_id=row.person_id,
                after={"where": "contribution recorded"},
            )
    return out


@bp.route("/session", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def session():
    change, remove = _row_change()
    form, count = _session_form(change, remove)
    chosen = None
    if request.method == "POST" and change is None:
        done, chosen = _post_session(form, count)
        if done is not None:
            return done
    else:
        chosen = _activity(form.activity_id.data)
    activities = list(
        db.session.scalars(sa.select(Activity).where(Activity.active.is_(True)).order_by(Activity.name, Activity.id))
    )
    rows = [(i, form[f"person_{i}"], form[f"hours_{i}"], form[f"prep_{i}"]) for i in range(count)]
    return _render(
        "contributions/session.html",
        form=form,
        rows=rows,
        chosen=chosen,
        activities=activities,
        can_add=count < MAX_SESSION_ROWS,
        added=change == "add",
    ), pages.status(form)


# ---- one contribution ----------------------------------------------------------------------------


def _post_contribution(form) -> Response | None:
    """Record the contribution; None to show the form again."""
    valid = form.validate_on_submit()
    pid = pages.parse_id(form.person_id.data)
    chosen = db.session.get(Person, pid) if pid else None
    if chosen is None:
        form.person_id.errors = list(form.person_id.errors) + ["Choose the person who took part."]
    activity = _chosen_activity(form, required=False)
    data = {
        "hours": clean(form, "hours"),
        "preparation_hours": clean(form, "preparation_hours"),
        "role": form.role.data,
        "description": form.description.data,
        "activity_id": activity.id if activity else None,
    }
    if chosen is None or not valid or form.errors:
        _errors_too(form, service.contribution_values, {**data, "worked_on": today()})
        return None

    warnings: list[str] = []

    def action() -> Done:
        c = service.record_contribution(chosen, {**data, "worked_on": form.worked_on.data}, actor=current_user)
        warnings.extend(_owed_warnings([chosen.id], form.worked_on.data))
        return Done(
            url_for("contributions.index", person_id=chosen.id),
            f"The contribution has been recorded for {chosen.name}. Value owed: {format_money(c.value_owed)}.",
        )

    return _with_warnings(pages.submit(form, action), warnings)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    person = query_person()
    if request.method == "GET":
        form = ContributionForm(data={"person_id": str(person.id) if person else "", "worked_on": today()})
    else:
        form = ContributionForm()
    form.person_id.choices = people_choices("Choose a person")
    form.activity_id.choices = activity_choices("No activity (no rate card)", active_only=True)
    done = _post_contribution(form) if request.method == "POST" else None
    return done or (_render("contributions/contribution_form.html", form=form, person=person), pages.status(form))


# ---- activities ---------------------------------------------------------------------------------


@bp.get("/activities")
@roles_required(*STAFF_ROLES)
def activities():
    rows = list(db.session.scalars(sa.select(Activity).order_by(Activity.name, Activity.id)))
    return _render("contributions/activities.html", activities=rows, can_edit=current_user.role in MANAGERS)


def _activity_data(form) -> dict:
    return {
        "name": form.name.data,
        "description": form.description.data,
        "default_rate": clean(form, "default_rate"),
        "rate_unit": form.rate_unit.data,
        "includes_preparation": bool(form.includes_preparation.data),
        "service_user_context": form.service_user_context.data,
        "consulting_body": form.consulting_body.data,
    }


def _activity_page(form, activity: Activity | None, save: Callable[[dict], Activity], saved: str):
    """Save the activity through the page boundary, or show the form with every problem on it.
    ``saved`` is the message, with {name} for the activity's name."""

    def action() -> Done:
        name = save(_activity_data(form)).name
        return Done(url_for("contributions.activities"), saved.format(name=name))

    if form.validate_on_submit():
        done = pages.submit(form, action)
        if done is not None:
            return done
    if request.method == "POST" and form.errors:
        _errors_too(form, service.activity_values, _activity_data(form))
    return _render("contributions/activity_form.html", form=form, activity=activity), pages.status(form)


@bp.route("/activities/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_activity():
    return _activity_page(
        ActivityForm(),
        None,
        lambda data: service.create_activity(data, actor=current_user),
        "The activity “{name}” has been added.",
    )


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_activity(activity_id: int):
    activity = db.get_or_404(Activity, activity_id)
    if request.method == "GET":
        form = ActivityForm(
            data={
                "name": activity.name,
                "description": activity.description or "",
                "default_rate": str(activity.default_rate),
                "rate_unit": activity.rate_unit,
                "includes_preparation": activity.includes_preparation,
                "service_user_context": activity.service_user_context,
                "consulting_body": activity.consulting_body or "",
            }
        )
    else:
        form = ActivityForm()
    return _activity_page(
        form,
        activity,
        lambda data: service.update_activity(activity, data, actor=current_user),
        "The activity “{name}” has been saved. Contributions already recorded keep the value they had.",
    )
