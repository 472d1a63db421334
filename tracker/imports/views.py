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
from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.auth.access import roles_required
from tracker.extensions import db
from tracker.imports import bp, service
from tracker.imports.forms import ImportForm
from tracker.timeutil import today, utcnow

ROLES = ("admin", "finance")


def _put_errors(form, fields: dict) -> None:
    """Put messages onto the form's fields (as the people pages do); others go to the form itself."""
    for name, messages in fields.items():
        if name in form and name != "csrf_token":
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            form.form_errors.extend(messages)


@bp.route("/", methods=["GET", "POST"])
@roles_required(*ROLES)
def index():
    form = ImportForm()
    report = None
    wants_import = request.method == "POST" and request.form.get("action") == "import"
    if form.validate_on_submit():
        upload = form.file.data
        name = service.clean_filename(upload.filename)
        data = upload.read()
        try:
            report = service.check_file(form.kind.data, name, data, today=today())
        except service.FileProblem as e:
            _put_errors(form, {"file": [e.message]})
        else:
            if wants_import and form.checked.data and form.checked.data != report.sha256:
                report = None
                _put_errors(form, {"file": ["This is not the file you checked. Choose the file you checked, "
                                            "or select “Check the file” to check this one."]})
            elif wants_import and report.ok:
                try:
                    done = service.import_checked(report, actor=current_user, now=utcnow())
                except sa.exc.IntegrityError:
                    db.session.rollback()
                    _put_errors(form, {"file": ["Nothing was imported: the tracker changed while the file was "
                                                "being imported. Check the file again."]})
                else:
                    db.session.commit()
                    flash(service.describe(done), "success")
                    return redirect(url_for("imports.index"))
    form.checked.data = report.sha256 if report is not None and report.ok else ""
    status = 422 if form.errors or (report is not None and not report.ok) else 200
    return render_template("imports/index.html", form=form, report=report, specs=service.SPECS,
                           max_rows=service.MAX_ROWS, tried_import=wants_import), status


@bp.get("/template/contributions.csv", defaults={"kind": "contributions"})
@bp.get("/template/payments.csv", defaults={"kind": "payments"})
@roles_required(*ROLES)
def template(kind: str):
    resp = Response(service.template_csv(kind), mimetype="text/csv; charset=utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
