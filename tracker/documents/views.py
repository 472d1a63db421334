"""Document pages: statements and certificates, asked for here and made by a worker.

| method and path | endpoint | roles | person-scoped |
| --- | --- | --- | --- |
| GET /documents/ | documents.index | all signed in | contributor sees only their own |
| GET, POST /documents/new | documents.new | all signed in | ``?person_id=`` (a contributor: only their own) |
| GET /documents/<document_id> | documents.detail | all signed in | yes |
| GET /documents/<document_id>/status.json | documents.status_json | all signed in | yes |
| GET /documents/<document_id>/download | documents.download | all signed in | yes |
| GET, POST /documents/batches/new | documents.new_batch | admin, finance, coordinator | no |
| GET /documents/batches/<batch_id> | documents.batch | admin, finance, coordinator | no |
| GET /documents/batches/<batch_id>/progress.json | documents.batch_progress | admin, finance, coordinator | no |

A contributor always asks for their own documents; staff choose the person first (so the period
choices can show that person's own dates). Benefit-based periods (a Universal Credit assessment
period, a benefit week) are offered only to people who may see benefit information, and showing
them is audited. Pages work without JavaScript; tracker/static/progress.js only refreshes the
status while a document or a batch is being made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from tracker.auth.access import can_see_benefits, roles_required, visible_person, visible_person_or_404
from tracker.documents import bp, service
from tracker.documents.forms import (KIND_LABELS, ChoosePersonForm, batch_form_class, request_form_class)
from tracker.documents.models import DOCUMENT_KINDS, Document, DocumentBatch
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.people import service as people
from tracker.people.benefits import BENEFITS
from tracker.people.forms import select_choices
from tracker.people.models import Person
from tracker.engine import periods
from tracker.timeutil import today


ALL = ("admin", "finance", "coordinator", "contributor")
STAFF = ("admin", "finance", "coordinator")
WEEK_BENEFITS = ("CA", "CSP", "ESA", "JSA")
MAX_PEOPLE_IN_SELECT = 1000
MAX_ID = 2**63 - 1
RECENT = 50


# ---- helpers ------------------------------------------------------------------------------

def _d(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _span(start: date, end: date) -> str:
    return f"{_d(start)} to {_d(end)}"


def _is_staff() -> bool:
    return current_user.role in STAFF


def status_words(doc: Document) -> str:
    if doc.status == "ready":
        return "Ready"
    if doc.status == "failed":
        return "Could not be made: " + (doc.failure_reason or "no reason was recorded")
    return "Being prepared"


def _visible_document(document_id: int) -> Document:
    """The document if this user may see it: its owner or staff. Anyone else gets 404."""
    doc = db.session.get(Document, document_id) if document_id <= MAX_ID else None
    if doc is None or visible_person(current_user, doc.person_id) is None:
        abort(404)
    return doc


def _put_errors(form, fields: dict, rename: dict | None = None) -> None:
    rename = rename or {}
    for key, messages in fields.items():
        name = rename.get(key, key)
        if name in form and name != "csrf_token":
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            form.form_errors.extend(messages)


def _parse_id(raw) -> int | None:
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def _download_name(doc: Document) -> str:
    return f"{doc.kind.replace('_', '-')}-{doc.start_on.isoformat()}-to-{doc.end_on.isoformat()}.pdf"


def _ctx(**ctx) -> dict:
    return dict(kind_labels_doc=KIND_LABELS, status_words=status_words, is_staff=_is_staff(), **ctx)


# ---- period choices ----------------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    value: str
    label: str
    start: date | None
    end: date | None


def _tax_presets(on: date) -> list[Preset]:
    this = periods.window("tax_year", on)
    last = periods.window("tax_year", this[0] - timedelta(days=1))
    return [Preset("tax_this", f"This tax year (6 April to 5 April): {_span(*this)}", *this),
            Preset("tax_last", f"Last tax year: {_span(*last)}", *last)]


def benefit_presets(person: Person, on: date) -> list[Preset]:
    """Periods from the person's own benefits: their UC assessment period, their benefit week."""
    out: list[Preset] = []
    claims = [c for c in person.claims if c.active_on(on)]
    uc = next((c for c in claims if c.benefit == "UC"), None)
    if uc is not None:
        try:
            this = periods.window("uc_assessment_period", on, uc.attributes or {}, anchor=uc.start_on)
            last = periods.window("uc_assessment_period", this[0] - timedelta(days=1), uc.attributes or {},
                                  anchor=uc.start_on)
        except (periods.PeriodError, ValueError, OverflowError):
            pass
        else:
            out.append(Preset("uc_this", f"This Universal Credit assessment period: {_span(*this)}", *this))
            out.append(Preset("uc_last", f"Last assessment period: {_span(*last)}", *last))
    seen = set()
    for claim in claims:
        if claim.benefit not in WEEK_BENEFITS or claim.benefit in seen:
            continue
        seen.add(claim.benefit)
        benefit = BENEFITS[claim.benefit]
        default = next((a.default for a in benefit.attributes if a.name == "week_start"), "monday")
        try:
            start, end = periods.window("week", on, claim.attributes or {}, rule_week_start=default)
        except (periods.PeriodError, ValueError, OverflowError):
            continue
        out.append(Preset(f"week_{claim.benefit}",
                          f"This benefit week for {benefit.name} ({start:%A} to {end:%A}): {_span(start, end)}",
                          start, end))
    return out


def statement_presets(person: Person, on: date, *, with_benefits: bool) -> list[Preset]:
    presets = benefit_presets(person, on) if with_benefits else []
    presets += _tax_presets(on)
    presets.append(Preset("custom", "Other dates (enter them below)", None, None))
    return presets


def batch_presets(on: date) -> list[Preset]:
    first = on.replace(day=1)
    last_month_end = first - timedelta(days=1)
    last_month = (last_month_end.replace(day=1), last_month_end)
    this_month = periods.window("calendar_month", on)
    return [Preset("last_month", f"Last month: {_span(*last_month)}", *last_month),
            Preset("this_month", f"This month: {_span(*this_month)}", *this_month),
            *_tax_presets(on),
            Preset("custom", "Other dates (enter them below)", None, None)]


def _dates_from(form, presets: list[Preset], errors: dict) -> tuple[date | None, date | None]:
    chosen = next((p for p in presets if p.value == form.period.data), None) if form.period.raw_data else None
    if chosen is None:
        errors["period"] = ["Choose which dates it should cover."]
        return None, None
    if chosen.value != "custom":
        return chosen.start, chosen.end
    start, end = form.start_on.data, form.end_on.data
    if start is None and not form.start_on.errors:
        errors["start_on"] = ["Enter the start date, like 2025-04-06."]
    if end is None and not form.end_on.errors:
        errors["end_on"] = ["Enter the end date, like 2025-05-05."]
    return start, end


# ---- the list -----------------------------------------------------------------------------

@bp.get("/")
@roles_required(*ALL)
def index():
    if current_user.role == "contributor":
        person = visible_person_or_404(current_user, current_user.person_id or 0)
        docs = db.session.scalars(sa.select(Document).where(Document.person_id == person.id)
                                  .order_by(Document.created_at.desc(), Document.id.desc()).limit(200)).all()
        return render_template("documents/index.html", **_ctx(person=person, documents=docs))
    docs = db.session.scalars(sa.select(Document).order_by(Document.created_at.desc(), Document.id.desc())
                              .limit(RECENT)).all()
    names = dict(db.session.execute(sa.select(Person.id, Person.name).where(
        Person.id.in_({d.person_id for d in docs}))).all()) if docs else {}
    batches = db.session.scalars(sa.select(DocumentBatch).order_by(DocumentBatch.created_at.desc(),
                                                                   DocumentBatch.id.desc()).limit(20)).all()
    progress = [(b, service.batch_progress(b)) for b in batches]
    return render_template("documents/index.html", **_ctx(person=None, documents=docs, names=names,
                                                          batches=progress))


# ---- asking for a document ----------------------------------------------------------------

def _people_choices(selected: int | None) -> tuple[list[tuple[str, str]], bool]:
    rows = db.session.execute(sa.select(Person.id, Person.name).order_by(Person.name, Person.id)
                              .limit(MAX_PEOPLE_IN_SELECT + 1)).all()
    more = len(rows) > MAX_PEOPLE_IN_SELECT
    rows = rows[:MAX_PEOPLE_IN_SELECT]
    if selected and selected not in {r.id for r in rows}:
        extra = db.session.get(Person, selected)
        if extra is not None:
            rows.append((extra.id, extra.name))
    return [("", "Choose a person")] + [(str(pid), f"{name} (number {pid})") for pid, name in rows], more


def _choose_person(status: int = 200, error: str | None = None):
    form = ChoosePersonForm(request.args)
    choices, more = _people_choices(_parse_id(request.args.get("person_id")))
    form.person_id.choices = select_choices(choices)
    if error:
        form.person_id.errors = [error]
    return render_template("documents/choose_person.html", **_ctx(form=form, more=more)), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ALL)
def new():
    raw = request.args.get("person_id")
    if current_user.role == "contributor":
        if raw not in (None, "") and _parse_id(raw) != current_user.person_id:
            abort(404)
        person = visible_person_or_404(current_user, current_user.person_id or 0)
    else:
        if raw in (None, ""):
            if request.method == "POST":
                return _choose_person(422, "Choose who the document is for.")
            return _choose_person()
        pid = _parse_id(raw)
        person = db.session.get(Person, pid) if pid else None
        if person is None:
            return _choose_person(422, "Choose a person from the list.")

    on = today()
    with_benefits = can_see_benefits(current_user, person)
    presets = statement_presets(person, on, with_benefits=with_benefits)
    form_class = request_form_class([(p.value, p.label) for p in presets], staff=_is_staff())
    form = form_class()
    if form.validate_on_submit():
        errors: dict[str, list[str]] = {}
        start, end = _dates_from(form, presets, errors)
        kind = form.kind.data if form.kind.raw_data else None
        if kind not in DOCUMENT_KINDS:
            errors["kind"] = ["Choose what you need from the list."]
        training = (form.training.data or "").strip()
        if kind == "training_certificate" and not training:
            errors["training"] = ["Enter the name of the training, like “First aid at work”."]
        if errors:
            _put_errors(form, errors)
        else:
            options: dict = {}
            if kind == "statement" and form.cover_letter.data:
                options["cover_letter"] = True
            if kind == "training_certificate":
                options["training"] = training
            signatory = (form.signatory.data or "").strip() if "signatory" in form else ""
            if signatory:
                options["signatory"] = signatory
            try:
                doc, created = service.request_document(person, kind, start, end, actor=current_user,
                                                        options=options)
            except ValidationFailed as e:
                db.session.rollback()
                rename = {} if form.period.data == "custom" else {"start_on": "period", "end_on": "period"}
                _put_errors(form, e.fields, rename)
            else:
                doc_id, label = doc.id, KIND_LABELS[kind].lower()
                db.session.commit()
                if created:
                    flash(f"Thank you. We are making the {label} now.", "success")
                else:
                    flash(f"This {label} had already been asked for, so here it is. It uses the choices made "
                          f"the first time.", "info")
                return redirect(url_for("documents.detail", document_id=doc_id))
    has_benefit_periods = any(p.value.startswith(("uc_", "week_")) for p in presets)
    if has_benefit_periods:
        # The choices name the person's benefits: special-category data, so the view is recorded.
        people.view_benefits(person, actor=current_user, where="document request page")
        db.session.commit()
    return render_template("documents/new.html", **_ctx(
        form=form, person=person, has_benefit_periods=has_benefit_periods,
        is_self=current_user.role == "contributor")), (422 if form.errors else 200)


# ---- one document -------------------------------------------------------------------------

@bp.get("/<int:document_id>")
@roles_required(*ALL)
def detail(document_id: int):
    doc = _visible_document(document_id)
    person = db.session.get(Person, doc.person_id)
    return render_template("documents/detail.html", **_ctx(doc=doc, person=person,
                                                           is_self=current_user.role == "contributor"))


@bp.get("/<int:document_id>/status.json")
@roles_required(*ALL)
def status_json(document_id: int):
    doc = _visible_document(document_id)
    body = {"id": doc.id, "status": doc.status, "ready": doc.status == "ready", "message": status_words(doc)}
    if doc.status == "ready":
        body["download_url"] = url_for("documents.download", document_id=doc.id)
    return jsonify(body)


@bp.get("/<int:document_id>/download")
@roles_required(*ALL)
def download(document_id: int):
    doc = _visible_document(document_id)
    person = db.session.get(Person, doc.person_id)
    ctx = _ctx(doc=doc, person=person, is_self=current_user.role == "contributor")
    if doc.status != "ready" or not doc.file_name:
        return render_template("documents/not_ready.html", **ctx), 409
    try:
        path = service.storage().path_for(doc.file_name)
    except ValueError:
        path = None
    if path is None or not path.is_file():
        return render_template("documents/missing.html", **ctx), 404
    resp = send_file(path, mimetype="application/pdf", as_attachment=True, download_name=_download_name(doc),
                     max_age=0)
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ---- batches ------------------------------------------------------------------------------

@bp.route("/batches/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_batch():
    presets = batch_presets(today())
    form = batch_form_class([(p.value, p.label) for p in presets])()
    if form.validate_on_submit():
        errors: dict[str, list[str]] = {}
        start, end = _dates_from(form, presets, errors)
        if errors:
            _put_errors(form, errors)
        else:
            try:
                batch = service.request_batch("statement", start, end, actor=current_user)
            except ValidationFailed as e:
                db.session.rollback()
                rename = {"kind": "period"} if form.period.data == "custom" else {
                    "start_on": "period", "end_on": "period", "kind": "period"}
                _put_errors(form, e.fields, rename)
            else:
                batch_id, total = batch.id, batch.total
                db.session.commit()
                flash(f"Statements asked for {total} {'person' if total == 1 else 'people'}." if total else
                      "Nobody took part or was paid in that period, so there are no statements to make.",
                      "success" if total else "info")
                return redirect(url_for("documents.batch", batch_id=batch_id))
    return render_template("documents/new_batch.html", **_ctx(form=form)), (422 if form.errors else 200)


def _batch_or_404(batch_id: int) -> DocumentBatch:
    batch = db.session.get(DocumentBatch, batch_id) if batch_id <= MAX_ID else None
    if batch is None:
        abort(404)
    return batch


@bp.get("/batches/<int:batch_id>")
@roles_required(*STAFF)
def batch(batch_id: int):
    b = _batch_or_404(batch_id)
    return render_template("documents/batch.html", **_ctx(batch=b, progress=service.batch_progress(b)))


@bp.get("/batches/<int:batch_id>/progress.json")
@roles_required(*STAFF)
def batch_progress(batch_id: int):
    return jsonify(service.batch_progress(_batch_or_404(batch_id)))
