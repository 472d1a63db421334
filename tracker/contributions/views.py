"""Contribution and activity pages: the list, recording a whole session at once, one contribution,
and the activities with their rate cards.

Same pattern as the people and payment pages: role check (403), 404 for what does not exist, the
form parses, the service decides (its ValidationFailed messages go onto the fields, 422), and on
success one commit, a flash and a redirect.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.auth.access import roles_required
from tracker.contributions import bp, service
from tracker.contributions.forms import (RATE_UNIT_LABELS, RATE_UNIT_WORDS, SERVICE_USER_LABELS, SESSION_ROWS,
                                         ActivityForm, ContributionForm, session_form_class)
from tracker.contributions.models import Activity
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import format_money
from tracker.payments import queries
from tracker.payments.forms import clean, parse_id, put_errors
from tracker.payments.views import (_or_404, _query_person, activity_choices, list_filters, page_args, paginate,
                                    people_choices)
from tracker.people.models import Person
from tracker.timeutil import today

STAFF = ("admin", "finance", "coordinator")
MANAGERS = ("admin", "coordinator")
ROW_FIELDS = {"person_id": ("person", "person"), "hours": ("hours", "hours"),
              "preparation_hours": ("prep", "preparation hours")}


def _status(form) -> int:
    return 422 if form.errors else 200


def rate_text(activity: Activity) -> str:
    """"£20.00 an hour, preparation paid" in words."""
    text = f"{format_money(activity.default_rate)} {RATE_UNIT_WORDS.get(activity.rate_unit, activity.rate_unit)}"
    if activity.rate_unit == "hour":
        text += ", preparation time paid too" if activity.includes_preparation else ", preparation time not paid"
    else:
        text += ", whatever the hours"
    return text


def _render(template: str, **ctx):
    return render_template(template, rate_text=rate_text, rate_unit_labels=RATE_UNIT_LABELS,
                           service_user_labels=SERVICE_USER_LABELS, **ctx)


def _chosen_activity(form, *, required: bool) -> Activity | None:
    raw = form.activity_id.data
    if raw in (None, ""):
        if required:
            form.activity_id.errors = list(form.activity_id.errors) + ["Choose the activity."]
        return None
    ident = parse_id(raw)
    activity = db.session.get(Activity, ident) if ident else None
    if activity is None:
        form.activity_id.errors = list(form.activity_id.errors) + ["Choose an activity from the list."]
    return activity


# ---- the list ----------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*STAFF)
def index():
    form, f = list_filters()
    rows = paginate(queries.contributions_query(f), f) if f else None
    return _render("contributions/index.html", form=form, f=f, contributions=rows, args=page_args(f) if f else {},
                   can_record=current_user.role in MANAGERS,
                   can_pay=current_user.role in ("admin", "finance")), (200 if f else 422)


# ---- a session: many people at once -------------------------------------------------------------

def _row_used(form, i: int) -> bool:
    return any((form[f"{name}_{i}"].data or "").strip() for name in ("person", "hours", "prep"))


def _attendee(form, i: int) -> dict:
    return {"person_id": parse_id(form[f"person_{i}"].data), "hours": clean(form, f"hours_{i}"),
            "preparation_hours": clean(form, f"prep_{i}")}


def _row_errors(fields: dict, rows: list[int]) -> dict:
    """Service errors keyed "attendees.N.field" (N counts the rows used) onto the form's row fields,
    each message naming the row."""
    out: dict[str, list[str]] = {}
    for key, messages in fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "attendees" and parts[1].isdigit() and int(parts[1]) < len(rows):
            row = rows[int(parts[1])]
            prefix, word = ROW_FIELDS.get(parts[2], (None, parts[2].replace("_", " ")))
            target = f"{prefix}_{row}" if prefix else "description"
            out.setdefault(target, []).extend(f"Row {row + 1}, {word}: {m}" for m in messages)
        else:
            out.setdefault(key, []).extend(messages)
    return out


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
    for name, messages in _row_errors(errors, rows).items():
        if name in form and not form[name].errors:
            form[name].errors = list(messages)


@bp.route("/session", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def session():
    form_class = session_form_class()
    if request.method == "GET":
        form = form_class(data={"activity_id": request.args.get("activity_id") or "", "worked_on": today()})
    else:
        form = form_class()
    form.activity_id.choices = activity_choices("Choose the activity", active_only=True)
    people = people_choices("No one")
    for i in range(SESSION_ROWS):
        form[f"person_{i}"].choices = people
    chosen = None
    if request.method == "POST":
        valid = form.validate_on_submit()
        for i in range(SESSION_ROWS):  # the form's own messages name the row too
            for prefix, word in (("hours", "hours"), ("prep", "preparation hours")):
                f = form[f"{prefix}_{i}"]
                f.errors = [m if m.startswith("Row ") else f"Row {i + 1}, {word}: {m}" for m in f.errors]
        chosen = _chosen_activity(form, required=True)
        rows = [i for i in range(SESSION_ROWS) if _row_used(form, i)]
        attendees = [_attendee(form, i) for i in rows]
        if not rows:
            form.person_0.errors = list(form.person_0.errors) + ["Add at least one person who took part."]
        if valid and chosen is not None and rows:
            try:
                made = service.record_session(chosen.id, form.worked_on.data, attendees, actor=current_user,
                                              description=form.description.data)
            except ValidationFailed as e:
                db.session.rollback()
                put_errors(form, _row_errors(e.fields, rows))
            else:
                summary = "; ".join(f"{c.person.name} {format_money(c.value_owed)}" for c in made)
                count, activity_id, name, day = len(made), chosen.id, chosen.name, form.worked_on.data
                db.session.commit()
                flash(f"The session has been recorded: {count} {'person' if count == 1 else 'people'} took part in "
                      f"{name} on {day.day} {day:%B %Y}. Value owed: {summary}.", "success")
                return redirect(url_for("contributions.index", activity_id=activity_id, **{
                    "from": day.isoformat(), "to": day.isoformat()}))
        else:
            _preview_errors(form, attendees, rows)
    else:
        ident = parse_id(form.activity_id.data)
        chosen = db.session.get(Activity, ident) if ident else None
    activities = list(db.session.scalars(sa.select(Activity).where(Activity.active.is_(True))
                                         .order_by(Activity.name, Activity.id)))
    rows = [(i, form[f"person_{i}"], form[f"hours_{i}"], form[f"prep_{i}"]) for i in range(SESSION_ROWS)]
    return _render("contributions/session.html", form=form, rows=rows, chosen=chosen,
                   activities=activities), _status(form)


# ---- one contribution ----------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    person = _query_person()
    if request.method == "GET":
        form = ContributionForm(data={"person_id": str(person.id) if person else "", "worked_on": today()})
    else:
        form = ContributionForm()
    form.person_id.choices = people_choices("Choose a person")
    form.activity_id.choices = activity_choices("No activity (no rate card)", active_only=True)
    if request.method == "POST":
        valid = form.validate_on_submit()
        pid = parse_id(form.person_id.data)
        chosen = db.session.get(Person, pid) if pid else None
        if chosen is None:
            form.person_id.errors = list(form.person_id.errors) + ["Choose the person who took part."]
        activity = _chosen_activity(form, required=False)
        data = {"hours": clean(form, "hours"), "preparation_hours": clean(form, "preparation_hours"),
                "role": form.role.data, "description": form.description.data,
                "activity_id": activity.id if activity else None}
        if valid and not form.errors:
            try:
                c = service.record_contribution(chosen, {**data, "worked_on": form.worked_on.data},
                                                actor=current_user)
            except ValidationFailed as e:
                db.session.rollback()
                put_errors(form, e.fields)
            else:
                value, name, person_id = c.value_owed, chosen.name, chosen.id
                db.session.commit()
                flash(f"The contribution has been recorded for {name}. Value owed: {format_money(value)}.", "success")
                return redirect(url_for("contributions.index", person_id=person_id))
        else:
            try:
                service.contribution_values({**data, "worked_on": today()})
            except ValidationFailed as e:
                for k, v in e.fields.items():
                    if k in form and not form[k].errors:
                        form[k].errors = list(v)
    return _render("contributions/contribution_form.html", form=form, person=person), _status(form)


# ---- activities ---------------------------------------------------------------------------------

@bp.get("/activities")
@roles_required(*STAFF)
def activities():
    rows = list(db.session.scalars(sa.select(Activity).order_by(Activity.name, Activity.id)))
    return _render("contributions/activities.html", activities=rows, can_edit=current_user.role in MANAGERS)


def _activity_data(form) -> dict:
    return {"name": form.name.data, "description": form.description.data,
            "default_rate": clean(form, "default_rate"), "rate_unit": form.rate_unit.data,
            "includes_preparation": bool(form.includes_preparation.data),
            "service_user_context": form.service_user_context.data, "consulting_body": form.consulting_body.data}


def _activity_errors_too(form) -> None:
    """When the form refused something, also say what else is wrong (the check writes nothing)."""
    if request.method != "POST" or not form.errors:
        return
    try:
        service.activity_values(_activity_data(form))
    except ValidationFailed as e:
        for k, v in e.fields.items():
            if k in form and not form[k].errors:
                form[k].errors = list(v)


@bp.route("/activities/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_activity():
    form = ActivityForm()
    if form.validate_on_submit():
        try:
            activity = service.create_activity(_activity_data(form), actor=current_user)
        except ValidationFailed as e:
            db.session.rollback()
            put_errors(form, e.fields)
        else:
            name = activity.name
            db.session.commit()
            flash(f"The activity “{name}” has been added.", "success")
            return redirect(url_for("contributions.activities"))
    _activity_errors_too(form)
    return _render("contributions/activity_form.html", form=form, activity=None), _status(form)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_activity(activity_id: int):
    activity = _or_404(Activity, activity_id)
    if request.method == "GET":
        form = ActivityForm(data={"name": activity.name, "description": activity.description or "",
                                  "default_rate": str(activity.default_rate), "rate_unit": activity.rate_unit,
                                  "includes_preparation": activity.includes_preparation,
                                  "service_user_context": activity.service_user_context,
                                  "consulting_body": activity.consulting_body or ""})
    else:
        form = ActivityForm()
    if form.validate_on_submit():
        try:
            service.update_activity(activity, _activity_data(form), actor=current_user)
        except ValidationFailed as e:
            db.session.rollback()
            put_errors(form, e.fields)
            activity = _or_404(Activity, activity_id)
        else:
            name = activity.name
            db.session.commit()
            flash(f"The activity “{name}” has been saved. Contributions already recorded keep the value they had.",
                  "success")
            return redirect(url_for("contributions.activities"))
    _activity_errors_too(form)
    return _render("contributions/activity_form.html", form=form, activity=activity), _status(form)
