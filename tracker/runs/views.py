"""Payment run pages: the list, a new run from approved bank transfers, a run's page with its
printable summary for the signatory, the bank files, mark paid and cancel; and a person's bank
details for finance. Every write goes through tracker.pages."""

from __future__ import annotations

from datetime import date
from typing import cast

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker import pages
from tracker.auth.access import roles_required, visible_person_or_404
from tracker.auth.forms import EmptyForm
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.payments.models import Payment
from tracker.runs import accounts, bp, files, service
from tracker.runs import presenters as present
from tracker.runs.forms import BankDetailsForm, MarkPaidForm, NewRunForm
from tracker.runs.models import BankAccount, PaymentRun, PaymentRunItem
from tracker.timeutil import today, utcnow
from tracker.vocab import FINANCE_ROLES, RUN_STATUS_WORDS

FINANCE = FINANCE_ROLES
LIST_SIZE = 100


@bp.get("/")
@roles_required(*FINANCE)
def index():
    runs = list(
        db.session.scalars(
            sa.select(PaymentRun)
            .order_by(PaymentRun.id.desc())
            .limit(LIST_SIZE)
            .options(so.selectinload(PaymentRun.items))
        )
    )
    return render_template("runs/index.html", runs=runs, service=service, words=RUN_STATUS_WORDS)


def _candidates() -> tuple[list[Payment], set[int]]:
    """Approved bank transfers in no open run, and the people with bank details."""
    in_runs = sa.select(PaymentRunItem.open_payment_id).where(PaymentRunItem.open_payment_id.is_not(None))
    payments = list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.status == "approved", Payment.kind == "bank_transfer", Payment.id.not_in(in_runs))
            .options(so.joinedload(Payment.person))
            .order_by(Payment.paid_on, Payment.id)
            .limit(service.MAX_RUN)
        )
    )
    people = {p.person_id for p in payments}
    banked = set(db.session.scalars(sa.select(BankAccount.person_id).where(BankAccount.person_id.in_(people))))
    return payments, banked


def _create(form: NewRunForm) -> pages.Done:
    ids = [i for i in (pages.parse_id(raw) for raw in form.payment_ids.data or []) if i is not None]
    run = service.create_run(ids, cast(date, form.pay_on.data), actor=current_user, today=today())
    return pages.Done(
        url_for("runs.detail", run_id=run.id), present.created(run, service.count_of(run), service.total_of(run))
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*FINANCE)
def new():
    form = NewRunForm()
    payments, banked = _candidates()
    form.payment_ids.choices = [(str(p.id), present.candidate_label(p)) for p in payments]
    if done := pages.posted(form, lambda: _create(form)):
        return done
    return render_template(
        "runs/new.html", form=form, payments=payments, banked=banked, label=present.candidate_label
    ), pages.status(form)


def _render_run(run: PaymentRun, paid_form: MarkPaidForm | None = None, status: int = 200, problems=None):
    """The run's page; ``problems`` is the form whose errors the summary shows (the paid form by default)."""
    items = service.items_in(run)
    removed = service.removed_items(run)
    details = accounts.details_for([i.payment.person_id for i in items + removed])
    paid_form = paid_form or MarkPaidForm()
    return render_template(
        "runs/detail.html",
        run=run,
        rows=present.item_rows(items, details),
        removed=present.item_rows(removed, details),
        total=service.total_of(run),
        paid_form=paid_form,
        problems=problems or paid_form,
        formats=present.FORMAT_WORDS,
        title=present.run_title(run),
        words=RUN_STATUS_WORDS,
    ), status


@bp.get("/<int:run_id>")
@roles_required(*FINANCE)
def detail(run_id: int):
    return _render_run(db.get_or_404(PaymentRun, run_id))


@bp.get("/<int:run_id>/print")
@roles_required(*FINANCE)
def print_summary(run_id: int):
    run = db.get_or_404(PaymentRun, run_id)
    items = service.items_in(run)
    details = accounts.details_for([i.payment.person_id for i in items])
    return render_template(
        "runs/print.html",
        run=run,
        rows=present.item_rows(items, details),
        total=service.total_of(run),
        title=present.run_title(run),
        today=today(),
    )


@bp.get("/<int:run_id>/file")
@roles_required(*FINANCE)
def download(run_id: int):
    run = db.get_or_404(PaymentRun, run_id)
    file_format = request.args.get("format", "csv")
    try:
        if file_format not in files.FORMATS:
            raise Conflict("Choose the CSV, Excel or Bacs file.")
        rows = service.file_rows(run, actor=current_user, file_format=file_format)
        content, mimetype, name = files.render(run, rows, file_format, today=today())
    except Conflict as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("runs.detail", run_id=run.id))
    db.session.commit()  # the audit event of the download
    resp = Response(content, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _mark_paid(run: PaymentRun, form: MarkPaidForm) -> pages.Done:
    paid_on = cast(date, form.paid_on.data)  # the form was validated
    left = service.mark_paid(run, actor=current_user, paid_on=paid_on, now=utcnow(), today=today())
    return pages.Done(url_for("runs.detail", run_id=run.id), present.paid(run, len(left)))


@bp.post("/<int:run_id>/paid")
@roles_required(*FINANCE)
def mark_paid(run_id: int):
    run = db.get_or_404(PaymentRun, run_id)
    form = MarkPaidForm()
    if done := pages.posted(form, lambda: _mark_paid(run, form)):
        return done
        run = db.get_or_404(PaymentRun, run_id)
    return _render_run(run, form, 422)


def _cancel(run: PaymentRun) -> pages.Done:
    service.cancel_run(run, actor=current_user, now=utcnow())
    return pages.Done(url_for("runs.detail", run_id=run.id), present.cancelled(run))


@bp.post("/<int:run_id>/cancel")
@roles_required(*FINANCE)
def cancel(run_id: int):
    run = db.get_or_404(PaymentRun, run_id)
    form = EmptyForm()
    if done := pages.posted(form, lambda: _cancel(run)):
        return done
        run = db.get_or_404(PaymentRun, run_id)
    return _render_run(run, status=422, problems=form)


# ---- a person's bank details, for finance ----------------------------------------------------


def _save(person, form: BankDetailsForm) -> pages.Done:
    details = accounts.parse_bank_details(form.data)
    accounts.save_bank_details(person, details, actor=current_user, now=utcnow())
    return pages.Done(url_for("people.detail", person_id=person.id), present.saved_details(person.name))


@bp.route("/bank-details/<int:person_id>", methods=["GET", "POST"])
@roles_required(*FINANCE)
def bank_details(person_id: int):
    person = visible_person_or_404(current_user, person_id)
    form = BankDetailsForm()
    if done := pages.posted(form, lambda: _save(person, form)):
        return done
    held, problem = held_details(person, "bank details page")
    return render_template(
        "runs/bank_details.html",
        form=form,
        person=person,
        problem=problem,
        masked=present.masked_text(held) if held else None,
    ), pages.status(form)


def held_details(person, where: str) -> tuple[accounts.BankDetails | None, str | None]:
    """The person's details (a staff view is audited and committed), or the reason they cannot be read."""
    try:
        held = accounts.view_bank_details(person, actor=current_user, where=where)
    except Conflict as e:
        db.session.rollback()
        return None, e.message
    db.session.commit()
    return held, None
