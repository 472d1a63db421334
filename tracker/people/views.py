"""People pages: the list, a person's details, how they want to be paid, consent and benefit claims.

Every view: load the person with visible_person_or_404 (a contributor reaching anyone else gets 404),
check the role (403), let the form parse the input, and hand the service call to the page commit
boundary (tracker.pages.submit), which puts the service's ValidationFailed messages onto the form
fields (422) or commits once, flashes and redirects (post/redirect/get). The words live in
tracker.people.presenters.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import keyset, pages
from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.auth.access import can_edit_person, can_see_benefits, roles_required, visible_person_or_404
from tracker.auth.forms import EmptyForm
from tracker.contributions.service import unpaid_contributions
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.pages import Done
from tracker.payments.forms import PartnerEarningForm
from tracker.payments.queries import Filters, payments_query
from tracker.people import bp, household, presenters, service
from tracker.people.benefits import BENEFITS, CLAIMABLE_CODES, normalise_attributes
from tracker.people.forms import (
    ATTR_PREFIX,
    ChooseBenefitForm,
    ChooseWaysForm,
    ConsentForm,
    DocumentFormatForm,
    PersonForm,
    SearchForm,
    attribute_fields,
    attributes_from,
    claim_form_class,
    order_form_class,
)
from tracker.people.models import BenefitClaim, Person
from tracker.timeutil import today
from tracker.vocab import (
    BENEFIT_INFO_ROLES,
    DOCUMENT_FORMAT_HINTS,
    DOCUMENT_FORMAT_LABELS,
    FINANCE_ROLES,
    KIND_LABELS,
    KIND_LABELS_FOR_YOU,
    MAX_PAGE,
    PAYMENT_KINDS,
    PAYMENT_STATUS_LABELS,
    ROLES,
    STAFF_ROLES,
)

#: How many of a person's latest payments their page lists (the payments list has the rest).
RECENT_PAYMENTS = 5

#: The person themself, or someone who looks after people.
SELF_OR_MANAGER = (*BENEFIT_INFO_ROLES, "contributor")
PER_PAGE = 25


# ---- helpers ------------------------------------------------------------------------------


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


def _was_removed(person: Person, row_id: int, entity_type: str = "benefit_claim") -> bool:
    """True when this person's claim (or other row) with this id was removed (so a repeated "Remove"
    is harmless)."""
    action = {"benefit_claim": "claim.removed", "partner_earning": "partner_earning.removed"}[entity_type]
    return (
        db.session.execute(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == action,
                AuditEvent.entity_type == entity_type,
                AuditEvent.entity_id == row_id,
                AuditEvent.person_id == person.id,
            )
        ).scalar_one()
        > 0
    )


def _is_self(person: Person) -> bool:
    return current_user.role == "contributor" and current_user.person_id == person.id


def _render(template: str, person: Person | None = None, **ctx):
    return render_template(
        template,
        person=person,
        is_self=bool(person and _is_self(person)),
        describe_attributes=presenters.describe_attributes,
        benefits=BENEFITS,
        pay_kinds=KIND_LABELS,
        pay_statuses=PAYMENT_STATUS_LABELS,
        **ctx,
    )


def _to_person(person: Person, message: str | None) -> Done:
    return Done(url_for("people.detail", person_id=person.id), message)


def _attribute_errors_too(form, code: str) -> None:
    """When the form itself has errors (a date, say), also show what is wrong with the benefit's
    answers, so that every problem is listed at once rather than one round at a time."""
    if not form.errors:
        return
    try:
        normalise_attributes(code, attributes_from(form, code))
    except ValidationFailed as e:
        fields = {
            k: v
            for k, v in e.fields.items()
            if k.startswith("attributes.") and not form[ATTR_PREFIX + k.split(".", 1)[1]].errors
        }
        pages.put_errors(form, fields, attribute_fields(code))


def _details(form) -> dict:
    return {k: form[k].data for k in ("name", "email", "phone", "notes")}


def _consent_needed(person: Person, message: str, status: int):
    return _render("people/consent_needed.html", person, message=message), status


def _consent_missing(person: Person) -> str | None:
    """What to say when the person has not given consent to hold benefit information; None when they have."""
    try:
        service.require_consent(person)
    except Conflict as e:
        return e.message
    return None


# ---- the list and a new person --------------------------------------------------------------


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    form = SearchForm(request.args)
    q = (form.q.data or "").strip()
    page = min(max(request.args.get("page", default=1, type=int) or 1, 1), MAX_PAGE)
    # A page read from the name index after the cursor of the page before ("Next page"), or by number.
    args = keyset.Args(page=page, per_page=PER_PAGE, cursor=request.args.get("cursor") or None)
    people = keyset.list_page(service.people_query(q or None), service.PEOPLE_ORDER, args)
    return render_template(
        "people/index.html", form=form, q=q, people=people, can_add=current_user.role in BENEFIT_INFO_ROLES
    )


@bp.get("/answers-to-confirm")
@roles_required(*BENEFIT_INFO_ROLES)
def answers_to_confirm():
    """Claims whose answers that decide a rule hold a default the tracker once filled in."""
    claims = service.claims_to_confirm()
    for person_id in sorted({c.person_id for c in claims}):  # every view of benefit information is audited
        audit.record(
            current_user,
            "benefits.viewed",
            None,
            person_id=person_id,
            entity_type="person",
            entity_id=person_id,
            after={"where": "answers to confirm"},
        )
    pages.keep_audit()
    return render_template("people/answers_to_confirm.html", claims=claims, rows=presenters.to_confirm_rows(claims))


def _create(form) -> Done:
    person = service.create_person(_details(form), actor=current_user)
    return _to_person(person, presenters.person_added(person.name))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*BENEFIT_INFO_ROLES)
def new():
    form = PersonForm()
    if done := pages.posted(form, lambda: _create(form)):
        return done
    return _render("people/person_form.html", None, form=form), pages.status(form)


# ---- one person ---------------------------------------------------------------------------


@bp.get("/<int:person_id>")
@roles_required(*ROLES)
def detail(person_id: int):
    person = visible_person_or_404(current_user, person_id)
    show_benefits = can_see_benefits(current_user, person)
    claims = None
    if show_benefits:
        claims = service.view_benefits(person, actor=current_user, where="person page")
        pages.keep_audit()
    return _render(
        "people/detail.html",
        person,
        claims=claims,
        show_benefits=show_benefits,
        can_edit=can_edit_person(current_user, person),
        money=None if _is_self(person) else _money(person),
        can_pay=current_user.role in FINANCE_ROLES,
        can_plan=current_user.role in BENEFIT_INFO_ROLES,
        doc_formats=DOCUMENT_FORMAT_LABELS,
    )


def _money(person: Person) -> dict:
    """For staff: what the person is owed and not yet paid, and their latest payments."""
    unpaid = unpaid_contributions(person.id)
    recent = db.session.scalars(payments_query(Filters(person_id=person.id)).limit(RECENT_PAYMENTS)).unique().all()
    return {"owed": sum((c.value_owed for c in unpaid), Decimal(0)), "sessions": len(unpaid), "recent": recent}


def _update(person: Person, form) -> Done:
    service.update_person(person, _details(form), actor=current_user)
    return _to_person(person, presenters.details_saved(_is_self(person)))


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def edit(person_id: int):
    person = _person(person_id, edit=True)
    form = PersonForm(obj=person) if request.method == "GET" else PersonForm()
    if done := pages.posted(form, lambda: _update(person, form)):
        return done
    return _render("people/person_form.html", person, form=form), pages.status(form)


def _set_preferences(person: Person, prefs: list[dict]) -> Done:
    service.set_preferences(person, prefs, actor=current_user)
    return _to_person(person, presenters.preferences_saved(_is_self(person)))


def _preferences_page(person: Person, form, kinds: list[str] | None = None):
    """Step 1 (``kinds`` None: which ways) or step 2 (their order and notes)."""
    labels = KIND_LABELS_FOR_YOU if _is_self(person) else KIND_LABELS
    rows = presenters.way_rows(kinds if kinds is not None else list(PAYMENT_KINDS), labels)
    page = _render("people/preferences.html", person, form=form, ways=rows, step="order" if kinds else "choose")
    return page, pages.status(form)


@bp.route("/<int:person_id>/preferences", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def preferences(person_id: int):
    """How the person wants to be paid, GOV.UK style: tick the ways (each with what it usually means
    for benefits), then put the ticked ones in order. Nothing ticked saves "not said"."""
    person = _person(person_id, edit=True)
    if request.method == "POST" and request.form.get("step") == "order":
        kinds = presenters.chosen_kinds(person, request.form.getlist("kinds"))
        form = order_form_class(kinds)()

        def on_error(e: ValidationFailed) -> None:
            pages.put_errors(form, presenters.preference_errors(e.fields, kinds))

        # ordered_preferences runs inside the boundary: two ways in one place are form errors.
        ordered = lambda: _set_preferences(person, presenters.ordered_preferences(form, kinds))  # noqa: E731
        if done := pages.posted(form, ordered, on_error=on_error):
            return done
        return _preferences_page(person, form, kinds)
    choose = ChooseWaysForm(data={"kinds": [p.kind for p in person.preferences]} if request.method == "GET" else None)
    if not choose.validate_on_submit():
        return _preferences_page(person, choose)
    kinds = presenters.chosen_kinds(person, choose.kinds.data or [])
    if not kinds:
        done = pages.submit(choose, lambda: _set_preferences(person, []))
        return done or _preferences_page(person, choose)
    order = order_form_class(kinds)(formdata=None, data=presenters.order_form_data(person, kinds))
    return _preferences_page(person, order, kinds)


def _set_document_format(person: Person, form) -> Done:
    service.set_document_format(person, form.document_format.data or "", actor=current_user)
    return _to_person(person, presenters.document_format_saved(_is_self(person)))


@bp.route("/<int:person_id>/document-format", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def document_format(person_id: int):
    """Standard or easy read: how the person's statements and certificates are made (issue 16)."""
    person = _person(person_id, edit=True)
    form = DocumentFormatForm(data={"document_format": person.document_format} if request.method == "GET" else None)
    if done := pages.posted(form, lambda: _set_document_format(person, form)):
        return done
    page = _render("people/document_format.html", person, form=form, hints=DOCUMENT_FORMAT_HINTS)
    return page, pages.status(form)


# ---- consent ------------------------------------------------------------------------------


def _record_consent(person: Person, form) -> Done:
    service.record_consent(
        person, form.given_on.data, form.notice_version.data or "", actor=current_user, today=today()
    )
    return _to_person(person, presenters.CONSENT_RECORDED)


@bp.route("/<int:person_id>/consent", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def consent(person_id: int):
    person = _person(person_id, benefits=True)
    form = ConsentForm(data={"given_on": today()}) if request.method == "GET" else ConsentForm()
    if done := pages.posted(form, lambda: _record_consent(person, form)):
        return done
    return _render("people/consent.html", person, form=form, withdraw_form=EmptyForm()), pages.status(form)


# ---- benefit claims -----------------------------------------------------------------------


def _choose_benefit(person: Person, code: str):
    choose = ChooseBenefitForm(request.args)
    if code or request.method == "POST":
        choose.benefit.data = ""
        choose.benefit.errors = [presenters.CHOOSE_BENEFIT]
    return _render("people/choose_benefit.html", person, form=choose), pages.status(choose)


def _save_claim(person: Person, claim: BenefitClaim | None, code: str, form) -> Done:
    start_on, end_on, attributes = form.start_on.data, form.end_on.data, attributes_from(form, code)
    if claim is None:
        service.add_claim(person, code, start_on, end_on, attributes, actor=current_user)
        return _to_person(person, presenters.claim_added(code))
    service.update_claim(claim, start_on, end_on, attributes, actor=current_user)
    return _to_person(person, presenters.claim_saved(code))


def _claim_page(person: Person, claim: BenefitClaim | None, code: str, form, **ctx):
    """The claim form posted or shown: saved through the commit boundary, or shown again with every problem."""
    if form.validate_on_submit():
        missing = _consent_missing(person)
        if missing:
            return _consent_needed(person, missing, 409)
        done = pages.submit(form, lambda: _save_claim(person, claim, code, form), rename=attribute_fields(code))
        if done:
            return done
    if request.method == "POST":
        _attribute_errors_too(form, code)
    return _render(
        "people/claim_form.html", person, form=form, benefit=BENEFITS[code], claim=claim, **ctx
    ), pages.status(form)


@bp.route("/<int:person_id>/claims/new", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def new_claim(person_id: int):
    person = _person(person_id, benefits=True)
    missing = _consent_missing(person)
    if missing:
        return _consent_needed(person, missing, 409 if request.method == "POST" else 200)
    code = (request.args.get("benefit") or "").strip().upper()
    if code not in CLAIMABLE_CODES:
        return _choose_benefit(person, code)
    return _claim_page(person, None, code, claim_form_class(code)())


@bp.route("/<int:person_id>/claims/<int:claim_id>/edit", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def edit_claim(person_id: int, claim_id: int):
    person = _person(person_id, benefits=True)
    claim = _claim_or_404(person, claim_id)
    form_class = claim_form_class(claim.benefit)
    if request.method == "GET":
        form = form_class(data=presenters.claim_form_data(claim))
        service.view_benefits(person, actor=current_user, where="benefit edit page")
        pages.keep_audit()
    else:
        form = form_class()
    return _claim_page(person, claim, claim.benefit, form, remove_form=EmptyForm())


@bp.post("/<int:person_id>/claims/<int:claim_id>/remove")
@roles_required(*SELF_OR_MANAGER)
def remove_claim(person_id: int, claim_id: int):
    person = _person(person_id, benefits=True)
    if db.session.get(BenefitClaim, claim_id) is None and _was_removed(person, claim_id):
        flash(presenters.ALREADY_REMOVED, "info")
        return redirect(url_for("people.detail", person_id=person_id))
    claim = _claim_or_404(person, claim_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("people.detail", person_id=person_id))
    name = presenters.claim_name(claim.benefit)
    service.remove_claim(claim, actor=current_user)
    return pages.commit(_to_person(person, presenters.claim_removed(name)))


# ---- a partner's earnings (household rules) -----------------------------------------------------


def _partner_url(person: Person) -> str:
    return url_for("people.partner_earnings", person_id=person.id)


def _record_partner_earning(person: Person, form) -> Done:
    fields = ("amount", "received_on", "due_on", "note")
    household.record(person, {name: form[name].data for name in fields}, actor=current_user)
    return Done(_partner_url(person), presenters.PARTNER_EARNING_RECORDED)


@bp.route("/<int:person_id>/partner-earnings", methods=["GET", "POST"])
@roles_required(*SELF_OR_MANAGER)
def partner_earnings(person_id: int):
    """The partner's earnings: listed for whoever sees the person's benefits (each view audited),
    recorded by the people who look after them."""
    person = _person(person_id, benefits=True)
    can_record = current_user.role in BENEFIT_INFO_ROLES
    if request.method == "POST" and not can_record:
        abort(403)
    missing = _consent_missing(person)
    if missing and request.method == "POST":
        return _consent_needed(person, missing, 409)
    form = PartnerEarningForm()
    if done := pages.posted(form, lambda: _record_partner_earning(person, form)):
        return done
    rows = household.listed(person, actor=current_user, where="partner earnings page")
    pages.keep_audit()
    ctx = {"rows": rows, "form": form, "can_record": can_record and not missing, "remove_form": EmptyForm()}
    return _render("people/partner_earnings.html", person, **ctx), pages.status(form)


@bp.post("/<int:person_id>/partner-earnings/<int:entry_id>/remove")
@roles_required(*SELF_OR_MANAGER)
def remove_partner_earning(person_id: int, entry_id: int):
    person = _person(person_id, benefits=True)  # anyone else's: 404
    if current_user.role not in BENEFIT_INFO_ROLES:
        abort(403)
    row = household.entry_of(person, entry_id)
    if row is None and _was_removed(person, entry_id, "partner_earning"):
        flash(presenters.PARTNER_EARNING_ALREADY_REMOVED, "info")
        return redirect(_partner_url(person))
    if row is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        return redirect(_partner_url(person))
    household.remove(row, actor=current_user)
    return pages.commit(Done(_partner_url(person), presenters.PARTNER_EARNING_REMOVED))


def _withdraw(person: Person) -> Done:
    service.withdraw_consent(person, today(), actor=current_user)
    return _to_person(person, presenters.CONSENT_WITHDRAWN)


# Registered last: it removes every claim, so in a walk over the URL map (the role matrix test)
# the claim pages are visited first.
@bp.post("/<int:person_id>/consent/withdraw")
@roles_required(*SELF_OR_MANAGER)
def withdraw_consent(person_id: int):
    person = _person(person_id, benefits=True)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("people.detail", person_id=person_id))
    done = pages.submit(form, lambda: _withdraw(person))
    if done:
        return done
    for message in form.form_errors:  # nothing to withdraw: said on the consent page
        flash(message, "error")
    return redirect(url_for("people.consent", person_id=person_id))
