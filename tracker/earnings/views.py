"""Earnings record pages.

| method and path | endpoint | roles |
| --- | --- | --- |
| GET /people/ID/earnings-record | earnings.record | the person, and every staff role |
| GET, POST /people/ID/earnings-records/import | earnings.import_record | admin, coordinator |
| GET, POST /admin/trusted-issuers | earnings.issuers | admin |
| POST /admin/trusted-issuers/ID/revoke | earnings.revoke_issuer | admin |
| GET /.well-known/tracker-earnings-key.json | earnings.well_known_key | anyone |
"""

from __future__ import annotations

from flask import abort, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from tracker import pages
from tracker.auth.access import person_for_benefit_staff, roles_required, visible_person_or_404
from tracker.earnings import bp, presenters, service
from tracker.earnings.files import record_response
from tracker.earnings.forms import ImportRecordForm, IssuerForm, RecordForm
from tracker.earnings.models import TrustedIssuer
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.pages import Done
from tracker.timeutil import utcnow


@bp.get("/people/<int:person_id>/earnings-record")
@login_required
def record(person_id: int):
    person = visible_person_or_404(current_user, person_id)
    form = RecordForm(request.args)
    fmt = request.args.get("format")
    problem = None
    if fmt in ("json", "pdf") and form.validate():
        try:
            issued = service.issue(person, form.start_on.data, form.end_on.data, actor=current_user, now=utcnow())
        except ValidationFailed as e:
            pages.put_errors(form, e.fields)
        except Conflict as e:
            db.session.rollback()
            problem = e.message
        else:
            pages.keep_audit()
            return record_response(issued, fmt)
    status = 422 if form.errors else (409 if problem else 200)
    return render_template("earnings/record.html", form=form, person=person, problem=problem), status


@bp.route("/people/<int:person_id>/earnings-records/import", methods=["GET", "POST"])
@login_required
def import_record(person_id: int):
    person = person_for_benefit_staff(current_user, person_id)
    form = ImportRecordForm()
    form.consent.label.text = f"{person.name} agreed to add these earnings"

    def action() -> Done:
        data = service.parse_upload(form.file.data.read())
        outcome = service.import_record(person, data, consent=form.consent.data, actor=current_user, now=utcnow())
        message = presenters.outcome_message(
            outcome.status, person.name, outcome.row.issuer_name, outcome.added, outcome.removed
        )
        return Done(url_for("earnings.import_record", person_id=person.id), message)

    if done := pages.posted(form, action, rename={"record": "file"}):
        return done
    rows = presenters.import_rows(service.imports_for(person.id))
    return render_template("earnings/import.html", form=form, person=person, rows=rows), pages.status(form)


@bp.route("/admin/trusted-issuers", methods=["GET", "POST"])
@roles_required("admin")
def issuers():
    form = IssuerForm()

    def action() -> Done:
        issuer = service.add_issuer(
            {"name": form.name.data, "public_key": form.public_key.data}, actor=current_user, now=utcnow()
        )
        return Done(url_for("earnings.issuers"), f"Earnings records signed by {issuer.name} are now accepted.")

    if done := pages.posted(form, action):
        return done
    try:
        own = service.published_key()
    except Conflict as e:
        own = {"problem": e.message}
    rows = presenters.issuer_rows(service.trusted_issuers())
    return render_template("earnings/issuers.html", form=form, rows=rows, own=own), pages.status(form)


@bp.post("/admin/trusted-issuers/<int:issuer_id>/revoke")
@roles_required("admin")
def revoke_issuer(issuer_id: int):
    issuer = db.session.get(TrustedIssuer, issuer_id)
    if issuer is None:
        abort(404)
    changed = service.revoke_issuer(issuer, actor=current_user, now=utcnow())
    message = f"Records signed by {issuer.name} are no longer accepted." if changed else None
    return pages.commit(Done(url_for("earnings.issuers"), message))


@bp.get("/.well-known/tracker-earnings-key.json")
def well_known_key():
    try:
        body = service.published_key()
    except Conflict as e:
        resp = jsonify({"error": {"code": e.code, "message": e.message}})
        resp.status_code = 503
        return resp
    resp = jsonify(body)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cache-Control"] = "max-age=300"
    return resp
