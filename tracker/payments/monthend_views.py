"""Month-end pages: the owed queue (drafts for many people in one step), bulk approval from the
payments list, and reconciliation of a bank statement.

Same shape as tracker.payments.views: check the role, let the form parse, hand writes to the page
commit boundary (tracker.pages), words from tracker.payments.presenters.

| method and path | endpoint | roles |
| --- | --- | --- |
| GET, POST /payments/owed | payments.owed_queue | admin, finance |
| POST /payments/approve-selected | payments.approve_selected | admin, finance |
| GET, POST /payments/reconcile | payments.reconcile | admin, finance |
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as Redirect

from tracker import pages
from tracker.audit import service as audit
from tracker.auth.access import roles_required
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.pages import Done
from tracker.payments import approvals, bp, forms, owed, presenters
from tracker.payments import reconcile as reconciliation
from tracker.payments.forms import ApproveForm, OwedForm, ReconcileForm
from tracker.payments.models import Payment
from tracker.timeutil import in_day_range, parse_day, today, utcnow
from tracker.vocab import FINANCE_ROLES, KIND_LABELS, MAX_PAGE


def _flash_all(messages: list[tuple[str, str]]) -> None:
    for category, message in messages:
        flash(message, category)


# ---- the owed queue ------------------------------------------------------------------------------


def _queue_page() -> int:
    page = pages.parse_id(request.args.get("page")) or 1
    return min(page, MAX_PAGE)


def _audit_queue_view(rows: list[owed.OwedPerson], names: bool) -> None:
    """A queue that names the benefit rules shows benefit information: one audit event for the page."""
    if names and any((r.check or {}).get("verdicts") for r in rows):
        audit.record(
            current_user,
            "benefits.viewed",
            None,
            entity_type="owed_queue",
            after={"where": "owed queue", "people": [r.person_id for r in rows]},
        )
        pages.keep_audit()


def _record_chosen(form: OwedForm) -> Redirect | None:
    ids = forms.chosen_ids(form)
    if not ids:
        form.person_ids.errors = [presenters.OWED_NONE_CHOSEN]
        return None
    on = cast(date, form.on.data)  # the form was validated: the date is there
    outcome = owed.record(ids, on, forms.override_reasons(request.form, ids), actor=current_user, today=today())
    _flash_all(presenters.owed_recorded_messages(outcome))
    return pages.commit(Done(url_for("payments.owed_queue", on=on.isoformat())))


@bp.route("/owed", methods=["GET", "POST"])
@roles_required(*FINANCE_ROLES)
def owed_queue():
    on_default = today()
    look = forms.OwedCheckForm(request.args, prefix="check")
    look.on.errors = list(look.on.process_errors)  # a typed date that is no date is said beside it
    if request.method == "POST":
        form = OwedForm()
        if form.validate_on_submit():
            done = _record_chosen(form)
            if done is not None:
                return done
    else:
        typed = look.on.data if isinstance(look.on.data, date) and in_day_range(look.on.data) else None
        form = OwedForm(formdata=None, data={"on": typed or _query_day("on") or on_default})
    on = form.on.data if isinstance(form.on.data, date) else on_default
    if not look.on.errors:
        look.on.process(None, on)  # the boxes show the date checked
    queue = owed.queue(on, today=on_default, page=_queue_page())
    names = presenters.sees_benefit_names(current_user.role)
    _audit_queue_view(queue.rows, names)
    return render_template(
        "payments/owed.html",
        form=form,
        look=look,
        queue=queue,
        on=on,
        names=names,
        summary=presenters.check_summary,
        preference=presenters.preference_text,
        suggestions=lambda r: presenters.owed_suggestions(r.check, names),
        pay_kind_labels=KIND_LABELS,
    ), pages.status(form)


def _query_day(name: str) -> date | None:
    try:
        return parse_day(request.args.get(name))
    except ValueError:
        return None


# ---- bulk approval -------------------------------------------------------------------------------


@bp.post("/approve-selected")
@roles_required(*FINANCE_ROLES)
def approve_selected():
    form = ApproveForm()
    back = url_for("payments.index", **_list_args(request.form))
    if not form.validate_on_submit():
        flash(presenters.EXPIRED, "error")
        return redirect(back)
    ids = approvals.unique(i for i in (pages.parse_id(raw) for raw in request.form.getlist("ids")) if i)
    if not ids:
        flash(presenters.APPROVE_NONE_CHOSEN, "error")
        return redirect(back)
    outcomes = approvals.approve_many(ids[:500], actor=current_user, now=utcnow(), today=today())
    names = {p.id: p.person.name for p in _payments([o.id for o in outcomes if o.status != "approved"])}
    _flash_all(presenters.approval_messages(outcomes, names))
    return pages.commit(Done(back))


#: The list's query arguments the approval sends back to it (``back-NAME``), so the list comes back as it was.
_LIST_ARGS = ("person_id", "activity_id", "status", "kind", "from", "to", "sort", "page", "per_page")


def _list_args(formdata) -> dict[str, Any]:
    """The filters the list had; a draft list when there were none."""
    args = {k: formdata[f"back-{k}"][:40] for k in _LIST_ARGS if formdata.get(f"back-{k}")}
    return args or {"status": "draft"}


def _payments(ids: list[int]) -> list[Payment]:
    return list(db.session.scalars(sa.select(Payment).where(Payment.id.in_(ids)))) if ids else []


# ---- reconciliation ------------------------------------------------------------------------------


def _period(form: ReconcileForm) -> tuple[date, date]:
    """The statement's period, from a validated form (both dates are required)."""
    return cast(date, form.start.data), cast(date, form.end.data)


def _reconcile(form: ReconcileForm) -> reconciliation.Result | None:
    raw = form.statement.data.read(reconciliation.MAX_BYTES + 1)
    try:
        result = reconciliation.run(raw, *_period(form), actor=current_user)
    except ValidationFailed as e:
        pages.put_errors(form, e.fields)
        return None
    pages.keep_audit()
    return result


def _csv(result: reconciliation.Result, start: date, end: date) -> Response:
    from tracker.exports.writers import CSV_MIME

    # Written out now: the rows name people, read in this request's session.
    resp = Response("".join(reconciliation.mismatches_csv(result)), mimetype=CSV_MIME)
    resp.headers["Content-Disposition"] = f'attachment; filename="reconciliation-{start}-{end}.csv"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/reconcile", methods=["GET", "POST"])
@roles_required(*FINANCE_ROLES)
def reconcile():
    form = ReconcileForm() if request.method == "POST" else ReconcileForm(formdata=None)
    result = None
    if request.method == "POST" and form.validate_on_submit():
        result = _reconcile(form)
        if result is not None and form.output.data == "csv":
            return _csv(result, *_period(form))
    status = 422 if request.method == "POST" and result is None else 200
    return render_template("payments/reconcile.html", form=form, result=result, pay_kind_labels=KIND_LABELS), status
