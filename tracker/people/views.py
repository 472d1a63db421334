"""People pages: the list, a person's details, how they want to be paid, consent and benefit claims.

Every view: load the person with visible_person_or_404 (a contributor reaching anyone else gets 404),
check the role (403), let the form parse the input, call the service, put the service's
ValidationFailed messages onto the form fields (422), and on success commit once, flash and
redirect (post/redirect/get).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.audit.models import AuditEvent
from tracker.auth.access import can_edit_person, can_see_benefits, roles_required, visible_person_or_404
from tracker.auth.forms import EmptyForm
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.people import bp, service
from tracker.people.benefits import BENEFITS, CLAIMABLE_CODES, normalise_attributes
from tracker.people.forms import (ATTR_PREFIX, MAX_PREFERENCES, ChooseBenefitForm, ConsentForm, PersonForm,
                                  SearchForm, attr_choices, attributes_from, claim_form_class, plain_words,
                                  preferences_form_class)
from tracker.people.models import BenefitClaim, Person
from tracker.timeutil import today

STAFF = ("admin", "coordinator", "finance")
MANAGERS = ("admin", "coordinator")
SELF_OR_MANAGER = ("admin", "coordinator", "contributor")
PER_PAGE = 25
MAX_PAGE = 100_000


# ---- helpers ------------------------------------------------------------------------------

def _status(form) -> int:
    return 422 if form.errors else 200


def _put_errors(form, fields: dict, rename: dict | None = None) -> None:
    """Put a ValidationFailed's per-field messages onto the form's fields.

    "attributes.ap_start_day" goes to the attribute's field; a message for no field on this form
    goes to the form itself (shown in the error summary).
    """
    rename = rename or {}
    for key, messages in fields.items():
        name = rename.get(key, key)
        if name.startswith("attributes."):
            name = ATTR_PREFIX + name.split(".", 1)[1]
        if name in form and name != "csrf_token":
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            form.form_errors.extend(messages)


def _person(person_id: int, *, edit: bool = False, benefits: bool = False) -> Person:
    person = visible_person_or_404(current_user, person_id)
    if edit and not can_edit_person(current_user, person):
        abort(403)
    if benefits and not can_see_benefits(current_user, person):
        abort(403)
    return person


def _claim_or_404(person: Person, claim_id: int) -> BenefitClaim:
    claim = db.session.get(BenefitClaim, claim_id)
    if claim is None or claim.person_id != person.id:
        abort(404)
    return claim


def _was_removed(person: Person, claim_id: int) -> bool:
    """True when this person's claim with this id was removed (so a repeated "Remove" is harmless)."""
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "claim.removed", AuditEvent.entity_type == "benefit_claim",
        AuditEvent.entity_id == claim_id, AuditEvent.person_id == person.id)) > 0


def _is_self(person: Person) -> bool:
    return current_user.role == "contributor" and current_user.person_id == person.id


def _render(template: str, person: Person | None = None, **ctx):
    return render_template(template, person=person, is_self=bool(person and _is_self(person)),
                           describe_attributes=describe_attributes, benefits=BENEFITS, **ctx)


def describe_attributes(claim: BenefitClaim) -> list[tuple[str, str]]:
    """A claim's attributes in plain words: [(label, value)]."""
    b = BENEFITS.get(claim.benefit)
    if b is None:
        return []
    values = claim.attributes or {}
    out = []
    for a in b.attributes:
        v = values.get(a.name, a.default)
        if a.kind == "bool":
            text = "Yes" if v else "No"
        elif v is None or v == "":
            text = "Not given"
        elif a.kind == "choice":
            text = dict(attr_choices(a)).get(v, plain_words(v))
        elif a.kind == "date":
            try:
                d = date.fromisoformat(str(v))
                text = f"{d.day} {d:%B %Y}"
            except ValueError:
                text = str(v)
        else:
            text = str(v)
        out.append((a.label, text))
    return out


def _claim_data(claim: BenefitClaim) -> dict:
    data = {"start_on": claim.start_on, "end_on": claim.end_on}
    values = claim.attributes or {}
    for a in BENEFITS[claim.benefit].attributes:
        v = values.get(a.name, a.default)
        if a.kind == "date" and isinstance(v, str):
            try:
                v = date.fromisoformat(v)
            except ValueError:
                v = None
        data[ATTR_PREFIX + a.name] = v
    return data


def _attribute_errors_too(form, code: str) -> None:
    """When the form itself has errors (a date, say), also show what is wrong with the benefit's
    answers, so that every problem is listed at once rather than one round at a time."""
    if not form.errors:
        return
    try:
        normalise_attributes(code, attributes_from(form, code))
    except ValidationFailed as e:
        fields = {k: v for k, v in e.fields.items()
                  if k.startswith("attributes.") and not form[ATTR_PREFIX + k.split(".", 1)[1]].errors}
        _put_errors(form, fields)


def _details(form) -> dict:
    return {k: form[k].data for k in ("name", "email", "phone", "notes")}


def _consent_needed(person: Person, message: str, status: int):
    return _render("people/consent_needed.html", person, message=message), status


# ---- the list and a new person --------------------------------------------------------------

@bp.get("/")
@roles_required(*STAFF)
def index():
    form = SearchForm(request.args)
    q = (form.q.data or "").strip()
    page = min(max(request.args.get("page", default=1, type=int) or 1, 1), MAX_PAGE)
    people = service.list_people(q or None, page=page, per_page=PER_PAGE)
    return render_template("people/index.html", form=form, q=q, people=people,
                           can_add=current_user.role in MANAGERS)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    form = PersonForm()
    if form.validate_on_submit():
        try:
            person = service.create_person(_details(form), actor=current_user)
        except ValidationFailed as e:
            db.session.rollback()
            _put_errors(form, e.fields)
        else:
            person_id, name = person.id, person.name
            db.session.commit()
            flash(f"{name} has been added.", "success")
            return redirect(url_for("people.detail", person_id=person_id))
    return _render("people/person_form.html", None, form=form), _status(form)


# ---- one person ---------------------------------------------------------------------------

@bp.get("/<int:person_id>")
@roles_required("admin", "coordinator", "finance", "contributor")
def detail(person_id: int):
    person = visible_person_or_404(current_user, person_id)
    show_benefits = can_see_benefits(current_user, person)
    claims = None
    if show_benefits:
        claims = service.view_benefits(person, actor=current_user, where="person page")
        db.session.commit()  # the audit event of this view
    return _render("people/detail.html", person, claims=claims, show_benefits=show_benefits,
                   can_edit=can_edit_person(current_user, person))


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def edit(person_id: int):
    person = _person(person_id, edit=True)
    form = PersonForm(obj=person) if request.method == "GET" else PersonForm()
    if form.validate_on_submit():
        try:
            service.update_person(person, _details(form), actor=current_user)
        except ValidationFailed as e:
            db.session.rollback()
            _put_errors(form, e.fields)
        else:
            db.session.commit()
            flash("The details have been saved." if not _is_self(person) else "Your details have been saved.",
                  "success")
            return redirect(url_for("people.detail", person_id=person_id))
    return _render("people/person_form.html", person, form=form), _status(form)


@bp.route("/<int:person_id>/preferences", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def preferences(person_id: int):
    person = _person(person_id, edit=True)
    form_class = preferences_form_class()
    if request.method == "GET":
        data = {}
        for i, p in enumerate(person.preferences[:MAX_PREFERENCES]):
            data[f"kind_{i}"] = p.kind
            data[f"note_{i}"] = p.note or ""
        form = form_class(data=data)
    else:
        form = form_class()
    if form.validate_on_submit():
        # Rows with no way of being paid chosen are ignored; the order of rows is the order of preference.
        rows = [i for i in range(MAX_PREFERENCES) if (form[f"kind_{i}"].data or "").strip()]
        prefs = [{"kind": form[f"kind_{i}"].data.strip(), "note": form[f"note_{i}"].data} for i in rows]
        try:
            service.set_preferences(person, prefs, actor=current_user)
        except ValidationFailed as e:
            db.session.rollback()
            fields: dict[str, list[str]] = {}
            for key, messages in e.fields.items():
                parts = key.split(".")
                if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
                    row = rows[int(parts[1])]
                    fields[f"{parts[2]}_{row}"] = [f"Choice {row + 1}: {m}" for m in messages]
                else:
                    fields[key] = messages
            _put_errors(form, fields)
        else:
            db.session.commit()
            flash("How you want to be paid has been saved." if _is_self(person)
                  else "The ways of being paid have been saved.", "success")
            return redirect(url_for("people.detail", person_id=person_id))
    rows = [(i, form[f"kind_{i}"], form[f"note_{i}"]) for i in range(MAX_PREFERENCES)]
    return _render("people/preferences.html", person, form=form, rows=rows), _status(form)


# ---- consent ------------------------------------------------------------------------------

@bp.route("/<int:person_id>/consent", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def consent(person_id: int):
    person = _person(person_id, benefits=True)
    form = ConsentForm(data={"given_on": today()}) if request.method == "GET" else ConsentForm()
    if form.validate_on_submit():
        try:
            service.record_consent(person, form.given_on.data, form.notice_version.data or "",
                                   actor=current_user, today=today())
        except ValidationFailed as e:
            db.session.rollback()
            _put_errors(form, e.fields)
        else:
            db.session.commit()
            flash("Consent to hold benefit information has been recorded.", "success")
            return redirect(url_for("people.detail", person_id=person_id))
    return _render("people/consent.html", person, form=form, withdraw_form=EmptyForm()), _status(form)


# ---- benefit claims -----------------------------------------------------------------------

@bp.route("/<int:person_id>/claims/new", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def new_claim(person_id: int):
    person = _person(person_id, benefits=True)
    try:
        service.require_consent(person)
    except Conflict as e:
        return _consent_needed(person, e.message, 409 if request.method == "POST" else 200)

    code = (request.args.get("benefit") or "").strip().upper()
    if code not in CLAIMABLE_CODES:
        choose = ChooseBenefitForm(request.args)
        if code or request.method == "POST":
            choose.benefit.data = ""
            choose.benefit.errors = ["Choose a benefit from the list."]
        return _render("people/choose_benefit.html", person, form=choose), _status(choose)

    form = claim_form_class(code)()
    if form.validate_on_submit():
        try:
            service.add_claim(person, code, form.start_on.data, form.end_on.data, attributes_from(form, code),
                              actor=current_user)
        except ValidationFailed as e:
            db.session.rollback()
            _put_errors(form, e.fields)
        except Conflict as e:
            db.session.rollback()
            return _consent_needed(person, e.message, 409)
        else:
            db.session.commit()
            flash(f"{BENEFITS[code].name} has been added.", "success")
            return redirect(url_for("people.detail", person_id=person_id))
    if request.method == "POST":
        _attribute_errors_too(form, code)
    return _render("people/claim_form.html", person, form=form, benefit=BENEFITS[code], claim=None), _status(form)


@bp.route("/<int:person_id>/claims/<int:claim_id>/edit", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def edit_claim(person_id: int, claim_id: int):
    person = _person(person_id, benefits=True)
    claim = _claim_or_404(person, claim_id)
    benefit = BENEFITS[claim.benefit]
    form_class = claim_form_class(claim.benefit)
    if request.method == "GET":
        form = form_class(data=_claim_data(claim))
        service.view_benefits(person, actor=current_user, where="benefit edit page")
        db.session.commit()  # the audit event of this view
    else:
        form = form_class()
    if form.validate_on_submit():
        try:
            service.update_claim(claim, form.start_on.data, form.end_on.data,
                                 attributes_from(form, claim.benefit), actor=current_user)
        except ValidationFailed as e:
            db.session.rollback()
            _put_errors(form, e.fields)
        except Conflict as e:
            db.session.rollback()
            return _consent_needed(person, e.message, 409)
        else:
            db.session.commit()
            flash(f"{benefit.name} has been saved.", "success")
            return redirect(url_for("people.detail", person_id=person_id))
    if request.method == "POST":
        _attribute_errors_too(form, claim.benefit)
    return _render("people/claim_form.html", person, form=form, benefit=benefit, claim=claim,
                   remove_form=EmptyForm()), _status(form)


@bp.post("/<int:person_id>/claims/<int:claim_id>/remove")
@roles_required(*SELF_OR_MANAGER)
def remove_claim(person_id: int, claim_id: int):
    person = _person(person_id, benefits=True)
    if db.session.get(BenefitClaim, claim_id) is None and _was_removed(person, claim_id):
        flash("That benefit had already been removed.", "info")
        return redirect(url_for("people.detail", person_id=person_id))
    claim = _claim_or_404(person, claim_id)
    form = EmptyForm()
    if form.validate_on_submit():
        name = service.benefit_name(claim.benefit)
        service.remove_claim(claim, actor=current_user)
        db.session.commit()
        flash(f"{name} has been removed.", "success")
    return redirect(url_for("people.detail", person_id=person_id))


# Registered last: it removes every claim, so in a walk over the URL map (the role matrix test)
# the claim pages are visited first.
@bp.post("/<int:person_id>/consent/withdraw")
@roles_required(*SELF_OR_MANAGER)
def withdraw_consent(person_id: int):
    person = _person(person_id, benefits=True)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            service.withdraw_consent(person, today(), actor=current_user)
        except Conflict as e:
            db.session.rollback()
            flash(e.message, "error")
            return redirect(url_for("people.consent", person_id=person_id))
        db.session.commit()
        flash("Consent has been withdrawn, and the benefit information held has been removed.", "success")
    return redirect(url_for("people.detail", person_id=person_id))
