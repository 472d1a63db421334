"""Import pages: upload a CSV or XLSX of historical contributions or payments, check it, import it,
and have someone else approve it.

| method and path | endpoint | roles |
| --- | --- | --- |
| GET, POST /imports/ | imports.index | admin |
| GET /imports/template/contributions.csv, /imports/template/payments.csv | imports.template | admin |
| GET /imports/ID | imports.batch | admin |
| POST /imports/ID/approve, /imports/ID/reject | imports.approve, imports.reject | admin (approve: not the importer) |

The form posts the file each time: "Check the file" (the default button) reads every row and writes
nothing; "Import" checks again and, only when no row has a problem, writes every row into an import
batch in one transaction. Every file is measured first (``measure``): a file too big to read safely
is refused, and a large one is not read here at all but handed to the worker, whose progress the
batch's page shows. Imported payments are drafts until another admin approves the whole file.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Response, abort, render_template, request, url_for
from flask_login import current_user

from tracker import pages
from tracker.auth.access import roles_required
from tracker.auth.forms import EmptyForm
from tracker.auth.models import User
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.imports import batches, bp, measure, presenters, service
from tracker.imports.forms import ImportForm
from tracker.imports.models import ImportBatch
from tracker.jobs import enqueue_after_commit
from tracker.pages import Done
from tracker.payments.models import Payment
from tracker.timeutil import today, utcnow

ADMIN = ("admin",)


class Upload:
    """The uploaded file, measured before anything reads it."""

    def __init__(self, form: ImportForm):
        upload = form.file.data
        self.kind = form.kind.data
        self.filename = service.clean_filename(upload.filename)
        self.data = upload.read()
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        self.size = measure.measure(self.filename, self.data)


def _upload(form: ImportForm) -> Upload | None:
    """The file, measured, and not one imported before; None (with the reason on the form) otherwise."""
    try:
        up = Upload(form)
        batches.refuse_repeat(up.sha256)
    except service.FileProblem as e:
        pages.put_errors(form, {"file": [e.message]})
        return None
    except ValidationFailed as e:
        pages.put_errors(form, e.fields)
        return None
    return up


def _check(form: ImportForm, up: Upload) -> service.CheckResult | None:
    """Read and check every row of a small file (writes nothing); None when it cannot be read."""
    try:
        return service.check_file(up.kind, up.filename, up.data, today=today())
    except service.FileProblem as e:
        pages.put_errors(form, {"file": [e.message]})
        return None


def _import(up: Upload, report: service.CheckResult) -> Done:
    batch = batches.start(up.kind, up.filename, up.sha256, report.data_rows, actor=current_user)
    try:
        done = batches.write(batch, report, actor=current_user, now=utcnow())
    except sa.exc.IntegrityError:
        raise ValidationFailed({"file": [presenters.CHANGED_WHILE_IMPORTING]}) from None
    return Done(url_for("imports.batch", batch_id=batch.id), service.describe(done))


def _in_background(up: Upload) -> Done:
    batch = batches.start(up.kind, up.filename, up.sha256, up.size.rows, actor=current_user, content=up.data)
    enqueue_after_commit(batches.RUN_TASK, batch.id)
    return Done(url_for("imports.batch", batch_id=batch.id), presenters.IN_BACKGROUND)


def _another_file(form: ImportForm, sha256: str) -> bool:
    """True when "Import" was pressed with another file than the one checked."""
    return bool(form.checked.data) and form.checked.data != sha256


def _page_status(form: ImportForm, report: service.CheckResult | None) -> int:
    return 422 if form.errors or (report is not None and not report.ok) else 200


def _post(form: ImportForm, wants_import: bool):
    """(a redirect after an import, or None; the small file's check report; the large file)."""
    up = _upload(form)
    if up is None:
        return None, None, None
    if wants_import and _another_file(form, up.sha256):
        pages.put_errors(form, {"file": [presenters.NOT_THE_FILE]})
        return None, None, None
    if up.size.large:
        done = pages.submit(form, lambda: _in_background(up)) if wants_import else None
        return done, None, up
    report = _check(form, up)
    if report is not None and wants_import and report.ok:
        return pages.submit(form, lambda: _import(up, report)), report, None
    return None, report, None


@bp.route("/", methods=["GET", "POST"])
@roles_required(*ADMIN)
def index():
    form = ImportForm()
    wants_import = request.method == "POST" and request.form.get("action") == "import"
    done, report, large = _post(form, wants_import) if form.validate_on_submit() else (None, None, None)
    if done:
        return done
    if report is not None and report.ok:
        form.checked.data = report.sha256
    else:
        form.checked.data = large.sha256 if large is not None and not form.errors else ""
    large = large if not form.errors else None
    return render_template(
        "imports/index.html",
        form=form,
        report=report,
        large=large,
        large_message=presenters.LARGE.format(rows=large.size.rows) if large is not None else "",
        blocked_rules=presenters.blocked_rules,
        specs=service.SPECS,
        max_rows=service.MAX_ROWS,
        inline_rows=measure.INLINE_ROWS,
        tried_import=wants_import,
        recent=db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc()).limit(20)).all(),
        labels=presenters.STATUS_LABELS,
    ), _page_status(form, report)


@bp.get("/template/contributions.csv", defaults={"kind": "contributions"})
@bp.get("/template/payments.csv", defaults={"kind": "payments"})
@roles_required(*ADMIN)
def template(kind: str):
    resp = Response(service.template_csv(kind), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _batch(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


def _show(batch: ImportBatch, status: int = 200, form: EmptyForm | None = None):
    overridden = db.session.scalars(
        sa.select(Payment)
        .where(Payment.import_batch_id == batch.id, Payment.override_reason.is_not(None))
        .order_by(Payment.paid_on, Payment.id)
        .limit(500)
    ).all()
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(presenters.user_ids(batch))))}
    return render_template(
        "imports/batch.html",
        batch=batch,
        form=form or EmptyForm(formdata=None),
        overridden=overridden,
        users=people,
        labels=presenters.STATUS_LABELS,
        refusal=batches.approver_refusal(batch, current_user) if batch.status == "waiting_approval" else None,
        blocked_rules=presenters.blocked_rules,
    ), status


@bp.get("/<int:batch_id>")
@roles_required(*ADMIN)
def batch(batch_id: int):
    return _show(_batch(batch_id))


def _settle(batch_id: int, action, message: str):
    item = _batch(batch_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return _show(item, 400, form)

    def run() -> Done:
        action(item, actor=current_user, now=utcnow())
        return Done(url_for("imports.batch", batch_id=batch_id), message)

    return pages.submit(form, run) or _show(_batch(batch_id), 409, form)


@bp.post("/<int:batch_id>/approve")
@roles_required(*ADMIN)
def approve(batch_id: int):
    return _settle(batch_id, batches.approve, presenters.APPROVED)


@bp.post("/<int:batch_id>/reject")
@roles_required(*ADMIN)
def reject(batch_id: int):
    return _settle(batch_id, batches.reject, presenters.REJECTED)
