"""Import pages: upload a CSV or XLSX of historical contributions or payments, check it, import it.

| method and path | endpoint | roles |
| --- | --- | --- |
| GET, POST /imports/ | imports.index | admin, finance |
| GET /imports/template/contributions.csv, /imports/template/payments.csv | imports.template | admin, finance |

The form posts the file each time: "Check the file" (the default button) reads every row and writes
nothing; "Import" checks again and, only when no row has a problem, inserts every row in one
transaction. The upload is never stored: after a check the person chooses the same file again.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, render_template, request, url_for
from flask_login import current_user

from tracker import pages
from tracker.auth.access import roles_required
from tracker.errors import ValidationFailed
from tracker.imports import bp, presenters, service
from tracker.imports.forms import ImportForm
from tracker.pages import Done
from tracker.timeutil import today, utcnow
from tracker.vocab import FINANCE_ROLES


def _check(form: ImportForm) -> service.CheckResult | None:
    """Read and check every row of the uploaded file (writes nothing); None when it cannot be read."""
    upload = form.file.data
    try:
        return service.check_file(form.kind.data, service.clean_filename(upload.filename), upload.read(), today=today())
    except service.FileProblem as e:
        pages.put_errors(form, {"file": [e.message]})
        return None


def _import(report: service.CheckResult) -> Done:
    try:
        done = service.import_checked(report, actor=current_user, now=utcnow())
    except sa.exc.IntegrityError:
        raise ValidationFailed({"file": [presenters.CHANGED_WHILE_IMPORTING]}) from None
    return Done(url_for("imports.index"), service.describe(done))


def _another_file(form: ImportForm, report: service.CheckResult) -> bool:
    """True when "Import" was pressed with another file than the one checked."""
    return bool(form.checked.data) and form.checked.data != report.sha256


def _page_status(form: ImportForm, report: service.CheckResult | None) -> int:
    return 422 if form.errors or (report is not None and not report.ok) else 200


@bp.route("/", methods=["GET", "POST"])
@roles_required(*FINANCE_ROLES)
def index():
    form = ImportForm()
    wants_import = request.method == "POST" and request.form.get("action") == "import"
    report = _check(form) if form.validate_on_submit() else None
    if report is not None and wants_import:
        if _another_file(form, report):
            report = None
            pages.put_errors(form, {"file": [presenters.NOT_THE_FILE]})
        elif report.ok:
            done = pages.submit(form, lambda: _import(report))
            if done:
                return done
    form.checked.data = report.sha256 if report is not None and report.ok else ""
    return render_template(
        "imports/index.html",
        form=form,
        report=report,
        specs=service.SPECS,
        max_rows=service.MAX_ROWS,
        tried_import=wants_import,
    ), _page_status(form, report)


@bp.get("/template/contributions.csv", defaults={"kind": "contributions"})
@bp.get("/template/payments.csv", defaults={"kind": "payments"})
@roles_required(*FINANCE_ROLES)
def template(kind: str):
    resp = Response(service.template_csv(kind), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
