"""Document pages: statements and certificates, asked for here and made by a worker.

| method and path | endpoint | roles | person-scoped |
| --- | --- | --- | --- |
| GET /documents/ | documents.index | all signed in | contributor sees only their own |
| GET, POST /documents/new | documents.new | all signed in | ``?person_id=`` (a contributor: only their own) |
| GET /documents/<document_id> | documents.detail | all signed in | yes |
| GET /documents/<document_id>/status.json | documents.status_json | all signed in | yes |
| GET /documents/<document_id>/download | documents.download | all signed in | yes |
| GET /documents/<document_id>/page | documents.page | all signed in | yes |
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

import sqlalchemy as sa
from flask import abort, jsonify, render_template, request, url_for
from flask_login import current_user

from tracker import pages
from tracker.auth.access import can_see_benefits, roles_required, visible_person, visible_person_or_404
from tracker.documents import bp, presenters, service
from tracker.documents.forms import (
    ChoosePersonForm,
    batch_dates_from,
    batch_form_class,
    period_rename,
    request_form_class,
    request_from,
)
from tracker.documents.models import Document, DocumentBatch
from tracker.documents.pdf import StatementData
from tracker.documents.presenters import KIND_LABELS, Preset, status_words
from tracker.extensions import db
from tracker.pages import Done
from tracker.people import service as people
from tracker.people.forms import select_choices
from tracker.people.models import Person
from tracker.timeutil import today
from tracker.vocab import DOCUMENT_FORMATS, MAX_ID, ROLES, STAFF_ROLES

MAX_PEOPLE_IN_SELECT = 1000
RECENT = 50


# ---- helpers ------------------------------------------------------------------------------


def _is_staff() -> bool:
    return current_user.role in STAFF_ROLES


def _visible_document(document_id: int) -> Document:
    """The document if this user may see it: its owner or staff. Anyone else gets 404."""
    doc = db.session.get(Document, document_id) if document_id <= MAX_ID else None
    if doc is None or visible_person(current_user, doc.person_id) is None or not service.readable_by(doc, current_user):
        abort(404)
    return doc


def _parse_id(raw) -> int | None:
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def _ctx(**ctx) -> dict:
    return dict(kind_labels_doc=KIND_LABELS, status_words=status_words, is_staff=_is_staff(), **ctx)


def _choices(presets: list[Preset]) -> list[tuple[str, str]]:
    return [(p.value, p.label) for p in presets]


# ---- the list -----------------------------------------------------------------------------


@bp.get("/")
@roles_required(*ROLES)
def index():
    if current_user.role == "contributor":
        person = visible_person_or_404(current_user, current_user.person_id or 0)
        docs = db.session.scalars(
            sa.select(Document)
            .where(Document.person_id == person.id)
            .order_by(Document.created_at.desc(), Document.id.desc())
            .limit(200)
        ).all()
        return render_template("documents/index.html", **_ctx(person=person, documents=docs))
    docs = [
        d
        for d in db.session.scalars(
            sa.select(Document).order_by(Document.created_at.desc(), Document.id.desc()).limit(RECENT)
        )
        if service.readable_by(d, current_user)
    ]
    names = (
        dict(
            db.session.execute(sa.select(Person.id, Person.name).where(Person.id.in_({d.person_id for d in docs})))
            .tuples()
            .all()
        )
        if docs
        else {}
    )
    batches = db.session.scalars(
        sa.select(DocumentBatch).order_by(DocumentBatch.created_at.desc(), DocumentBatch.id.desc()).limit(20)
    ).all()
    progress = [(b, service.batch_progress(b)) for b in batches]
    return render_template("documents/index.html", **_ctx(person=None, documents=docs, names=names, batches=progress))


# ---- asking for a document ----------------------------------------------------------------


def _people_choices(selected: int | None) -> tuple[list[tuple[str, str]], bool]:
    rows: list[tuple[int, str]] = list(
        db.session.execute(
            sa.select(Person.id, Person.name).order_by(Person.name, Person.id).limit(MAX_PEOPLE_IN_SELECT + 1)
        )
        .tuples()
        .all()
    )
    more = len(rows) > MAX_PEOPLE_IN_SELECT
    rows = rows[:MAX_PEOPLE_IN_SELECT]
    if selected and selected not in {pid for pid, _ in rows}:
        extra = db.session.get(Person, selected)
        if extra is not None:
            rows.append((extra.id, extra.name))
    return presenters.person_choices(rows), more


def _choose_person(status: int = 200, error: str | None = None):
    form = ChoosePersonForm(request.args)
    choices, more = _people_choices(_parse_id(request.args.get("person_id")))
    form.person_id.choices = select_choices(choices)
    if error:
        form.person_id.errors = [error]
    return render_template("documents/choose_person.html", **_ctx(form=form, more=more)), status


def _whose() -> Person | tuple:
    """Whose document this is: a contributor's own, or the person staff chose (else the choice page)."""
    raw = request.args.get("person_id")
    if current_user.role == "contributor":
        if raw not in (None, "") and _parse_id(raw) != current_user.person_id:
            abort(404)
        return visible_person_or_404(current_user, current_user.person_id or 0)
    if raw in (None, ""):
        return _choose_person(422, presenters.CHOOSE_WHO) if request.method == "POST" else _choose_person()
    pid = _parse_id(raw)
    person = db.session.get(Person, pid) if pid else None
    return person if person is not None else _choose_person(422, presenters.CHOOSE_FROM_LIST)


def _ask(person: Person, form, presets: list[Preset]) -> Done:
    kind, start, end, options = request_from(form, presets)
    doc, created = service.request_document(person, kind, start, end, actor=current_user, options=options)
    message, category = presenters.requested(kind, created)
    return Done(url_for("documents.detail", document_id=doc.id), message, category)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ROLES)
def new():
    person = _whose()
    if not isinstance(person, Person):
        return person
    presets = presenters.statement_presets(person, today(), with_benefits=can_see_benefits(current_user, person))
    form = request_form_class(_choices(presets), staff=_is_staff())()
    if done := pages.posted(
        form, lambda: _ask(person, form, presets), rename=period_rename(form, "start_on", "end_on")
    ):
        return done
    has_benefit_periods = presenters.has_benefit_periods(presets)
    if has_benefit_periods:
        # The choices name the person's benefits: special-category data, so the view is recorded.
        people.view_benefits(person, actor=current_user, where="document request page")
        pages.keep_audit()
    return render_template(
        "documents/new.html",
        **_ctx(
            form=form,
            person=person,
            has_benefit_periods=has_benefit_periods,
            is_self=current_user.role == "contributor",
        ),
    ), pages.status(form)


# ---- one document -------------------------------------------------------------------------


@bp.get("/<int:document_id>")
@roles_required(*ROLES)
def detail(document_id: int):
    doc = _visible_document(document_id)
    person = db.session.get(Person, doc.person_id)
    return render_template(
        "documents/detail.html",
        **_ctx(doc=doc, person=person, is_self=current_user.role == "contributor", easy_read=service.is_easy_read(doc)),
    )


@bp.get("/<int:document_id>/status.json")
@roles_required(*ROLES)
def status_json(document_id: int):
    doc = _visible_document(document_id)
    body = {"id": doc.id, "status": doc.status, "ready": doc.status == "ready", "message": status_words(doc)}
    if doc.status == "ready":
        body["download_url"] = url_for("documents.download", document_id=doc.id)
        body["page_url"] = url_for("documents.page", document_id=doc.id)
    return jsonify(body)


@bp.get("/<int:document_id>/download")
@roles_required(*ROLES)
def download(document_id: int):
    doc = _visible_document(document_id)
    person = db.session.get(Person, doc.person_id)
    ctx = _ctx(doc=doc, person=person, is_self=current_user.role == "contributor")
    if doc.status != "ready" or not doc.file_name:
        return render_template("documents/not_ready.html", **ctx), 409
    body = service.open_file(doc)  # checked against its SHA-256; None when missing or altered
    if body is None:
        return render_template("documents/missing.html", **ctx), 404
    return presenters.file_response(body, doc, presenters.download_name(doc))


def _as_easy_read(doc: Document) -> bool:
    """The page shows the document as it was made (standard or easy read), unless ``?format=`` asks
    for the other one: either can be read by anyone who may read the document."""
    asked = request.args.get("format")
    return asked == "easy_read" if asked in DOCUMENT_FORMATS else service.is_easy_read(doc)


@bp.get("/<int:document_id>/page")
@roles_required(*ROLES)
def page(document_id: int):
    """The document as a web page with the same content as its PDF (issue 16, item 5): headings, real
    tables with captions, and the easy-read words with their pictures. Who may read it is exactly who
    may download the PDF."""
    doc = _visible_document(document_id)
    person = db.session.get_one(Person, doc.person_id)
    ctx = _ctx(doc=doc, person=person, is_self=current_user.role == "contributor")
    if doc.status != "ready":
        return render_template("documents/not_ready.html", **ctx), 409
    shown = service.document_data(doc, doc.created_at.date(), person.name)
    easy = _as_easy_read(doc)
    return render_template(
        "documents/page.html",
        **ctx,
        shown=shown,
        easy=service.easy_read(doc, shown) if easy else None,
        sections=presenters.statement_sections(shown) if isinstance(shown, StatementData) else [],
        changed=bool(doc.figures_key) and service.figures_key(shown) != doc.figures_key,
        title=presenters.page_title(doc, easy),
    )


# ---- batches ------------------------------------------------------------------------------


def _ask_batch(form, presets: list[Preset]) -> Done:
    start, end = batch_dates_from(form, presets)
    batch = service.request_batch("statement", start, end, actor=current_user)
    message, category = presenters.batch_requested(batch.total)
    return Done(url_for("documents.batch", batch_id=batch.id), message, category)


@bp.route("/batches/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new_batch():
    presets = presenters.batch_presets(today())
    form = batch_form_class(_choices(presets))()
    if form.validate_on_submit():
        done = pages.submit(
            form,
            lambda: _ask_batch(form, presets),
            rename={"kind": "period", **period_rename(form, "start_on", "end_on")},
        )
        if done:
            return done
    return render_template("documents/new_batch.html", **_ctx(form=form)), pages.status(form)


def _batch_or_404(batch_id: int) -> DocumentBatch:
    batch = db.session.get(DocumentBatch, batch_id) if batch_id <= MAX_ID else None
    if batch is None:
        abort(404)
    return batch


@bp.get("/batches/<int:batch_id>")
@roles_required(*STAFF_ROLES)
def batch(batch_id: int):
    b = _batch_or_404(batch_id)
    return render_template("documents/batch.html", **_ctx(batch=b, progress=service.batch_progress(b)))


@bp.get("/batches/<int:batch_id>/progress.json")
@roles_required(*STAFF_ROLES)
def batch_progress(batch_id: int):
    return jsonify(service.batch_progress(_batch_or_404(batch_id)))
