"""Payment pages: the list, creating a payment from what is owed (with the benefit check and its
suggestions), a payment's detail and moves, month end, expenses and other income.

Every view: check the role (403), load what the address names (404), let the form parse the input,
and hand the write to the page commit boundary (tracker.pages.submit): it commits once, flashes and
redirects, or rolls back and puts the service's messages onto the form (422). State changes only on
POST. A refusal from the payment state machine (InvalidTransition, Conflict, Forbidden) becomes a
flash message and a redirect back to the payment, never an error page. The words and table rows
come from tracker.payments.presenters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import pages
from tracker.audit import service as audit
from tracker.auth.access import roles_required
from tracker.auth.models import User
from tracker.contributions import service as contributions
from tracker.contributions.models import Contribution
from tracker.errors import Conflict, Forbidden, ValidationFailed
from tracker.extensions import db
from tracker.money import ZERO
from tracker.pages import Done
from tracker.payments import bp, forms, methods, presenters, queries, service
from tracker.payments import expenses as expense_service
from tracker.payments.forms import (
    ApproveForm,
    ExpenseForm,
    OtherIncomeForm,
    PayForm,
    PaymentForm,
    PersonSearchForm,
    ReasonForm,
)
from tracker.payments.models import Payment
from tracker.people import service as people_service
from tracker.people.forms import select_choices
from tracker.people.models import Person
from tracker.timeutil import today, utcnow, when_text
from tracker.vocab import (
    FINANCE_ROLES,
    FIRST_YEAR,
    KIND_LABELS,
    LAST_YEAR,
    PAYMENT_STATUS_LABELS,
    SERVICE_USER_CONTEXT_LABELS,
    STAFF_ROLES,
)

#: What "check" on the new payment page hands back to the page: the check's JSON and the status.
Checked = tuple[dict | None, int]


def _audit_benefit_view(person_id: int, verdicts, where: str) -> None:
    """Benefit information is special-category data: a page that shows it with names is a view,
    audited and committed (pages.keep_audit) before the page renders."""
    if verdicts and presenters.sees_benefit_names(current_user.role):
        audit.record(
            current_user,
            "benefits.viewed",
            None,
            entity_type="person",
            entity_id=person_id,
            person_id=person_id,
            after={"where": where},
        )
        pages.keep_audit()


# ---- the list ----------------------------------------------------------------------------------


def _list_page(template: str, form, f: queries.Filters | None, **context) -> tuple[str, int]:
    """A filtered list with its filter form and page links; 422 when the filters cannot be read."""
    return render_template(template, form=form, f=f, args=presenters.page_args(f), **context), (200 if f else 422)


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    form, f = forms.payment_filters(request.args)
    payments = presenters.paginate(queries.payments_query(f), f, queries.payment_order(f.sort)) if f else None
    return _list_page(
        "payments/index.html",
        form,
        f,
        payments=payments,
        status_labels=PAYMENT_STATUS_LABELS,
        pay_kind_labels=KIND_LABELS,
        sorts=presenters.sort_headers(f),
        people=presenters.people_options(form),
        approve_form=ApproveForm(formdata=None),
        can_record=current_user.role in FINANCE_ROLES,
    )


# ---- a new payment -----------------------------------------------------------------------------


def _parse(person: Person, form: PaymentForm, ids: list[int], *, recording: bool) -> service.PaymentInput | None:
    """The service's parse of the form, with every problem on its field; None when there are any."""
    parsed = None
    try:
        parsed = service.parse_payment(forms.payment_data(form, ids))
    except ValidationFailed as e:
        forms.put_fresh_errors(form, e.fields)
    if parsed is not None:
        if parsed.amount_offered is not None and parsed.amount > parsed.amount_offered:
            form.amount_offered.errors = list(form.amount_offered.errors) + [presenters.OFFERED_TOO_LOW]
        reduced = parsed.amount_offered is not None and parsed.amount < parsed.amount_offered
        if recording and not parsed.note and (parsed.kind in ("declined", "charity") or reduced):
            form.note.errors = list(form.note.errors) + [presenters.SAY_WHY]
        if recording and not service.choice_reason(parsed) and service.unchosen(person, parsed.kind):
            form.kind_reason.errors = list(form.kind_reason.errors) + [
                presenters.kind_reason_needed(person, parsed.kind)
            ]
    return None if form.errors else parsed


def _check(person: Person, form: PaymentForm, p: service.PaymentInput) -> Checked:
    """The what-if check (it writes nothing)."""
    try:
        _, _, check = service.check_payment(person, p, today=today())
    except ValidationFailed as e:
        pages.put_errors(form, e.fields)
        return None, 200
    return check, 200


def _record(person: Person, form: PaymentForm, p: service.PaymentInput) -> Response | Checked:
    """Record the payment as a draft; a broken benefit rule without a reason shows the check (409)."""
    blocked: list[dict | None] = []

    def action() -> Done:
        try:
            payment, _ = service.record_payment(person, p, actor=current_user, today=today())
        except Conflict as e:
            blocked.append(e.extra.get("check"))
            raise ValidationFailed({"override_reason": [presenters.RECORD_BLOCKED]}) from e
        return Done(
            url_for("payments.detail", payment_id=payment.id), presenters.recorded_message(payment, person.name)
        )

    done = pages.submit(form, action)
    if done is not None:
        return done
    return (blocked[0], 409) if blocked else (None, 422)


def _record_suggestion(person: Person, form: PaymentForm, ids: list[int], rows: list[dict]) -> list[Payment]:
    note = presenters.note_with(form.note.data, forms.suggestion_explanation(request.form))
    made = []
    for row in rows:
        charity = forms.charity_for(form, person) if row["kind"] == "charity" else None
        cover = {"covers_from": form.covers_from.data, "covers_to": form.covers_to.data}
        chosen = {"note": note, "charity_name": charity, "kind_reason": form.kind_reason.data}
        p = service.parse_payment({**row, **cover, "contribution_ids": ids, **chosen})
        payment, _ = service.record_payment(person, p, actor=current_user, today=today())
        made.append(payment)
    return made


def _use_suggestion(person: Person, form: PaymentForm, ids: list[int]) -> Response | Checked:
    """Record every payment of a suggestion as a draft, all or nothing."""
    rows = forms.suggested_rows(request.form)
    if rows is None:
        form.form_errors.append(presenters.SUGGESTION_UNREADABLE)
        return None, 422
    stale: list[dict | None] = []

    def action() -> Done:
        try:
            made = _record_suggestion(person, form, ids, rows)
        except Conflict as e:
            stale.append(e.extra.get("check"))
            raise Conflict(presenters.SUGGESTION_STALE) from e
        return Done(
            url_for("payments.index", person_id=person.id, status="draft"),
            presenters.suggestion_recorded_message(made, person.name),
        )

    def refused(e: ValidationFailed) -> None:
        form.form_errors.append(presenters.suggestion_refused(m for ms in e.fields.values() for m in ms))

    done = pages.submit(form, action, on_error=refused)
    if done is not None:
        return done
    return (stale[0], 409) if stale else (None, 422)


def _post_new(person: Person, form: PaymentForm, unpaid: list[Contribution], action: str | None) -> Response | Checked:
    """Check the payment, record it, or record a suggestion."""
    form.validate_on_submit()
    ids = forms.ticked(form, {c.id for c in unpaid})
    p = _parse(person, form, ids, recording=action == "record")
    outcome: Response | Checked = (None, 200)
    if p is not None and action == "suggestion":
        outcome = _use_suggestion(person, form, ids)
    elif p is not None and action == "record":
        outcome = _record(person, form, p)
    elif p is not None:
        outcome = _check(person, form, p)
    if isinstance(outcome, Response):
        return outcome
    check, status = outcome
    if status == 200:
        status = pages.status(form)
    if action in ("record", "suggestion") and status == 200:
        status = 422
    return check, status


def _choose_person(status: int = 200):
    form = PersonSearchForm(request.args)
    q = (form.q.data or "").strip()
    people = people_service.list_people(q or None, page=1, per_page=25)
    return render_template("payments/choose_person.html", form=form, q=q, people=people, missing=status != 200), status


def _render_new(person: Person, form: PaymentForm, unpaid: list[Contribution], check: dict | None, status: int):
    names = presenters.sees_benefit_names(current_user.role)
    blocked = bool(check and check.get("blocked"))
    return render_template(
        "payments/new.html",
        person=person,
        form=form,
        unpaid=unpaid,
        preferred=presenters.preferred(person),
        offers_decline=presenters.first_choice_declines(person),
        unoffered=presenters.unoffered_choices(person, form.kind.data, check) if blocked else [],
        contribution_labels={c.id: presenters.contribution_label(c) for c in unpaid},
        owed=presenters.owed(unpaid),
        check=check,
        verdicts=presenters.verdict_rows(check.get("verdicts"), names=names) if check else [],
        suggestions=presenters.suggestion_views(check, form, names),
        names=names,
        show_override=blocked or bool(form.override_reason.data) or bool(form.override_reason.errors),
        blocked_note=presenters.BLOCKED_NOTE if blocked and status != 409 else None,
        pay_kind_labels=KIND_LABELS,
    ), status


def _new_form(person: Person, unpaid: list[Contribution], action: str | None) -> PaymentForm:
    """The new payment form: as first shown (paid the way the person prefers), as posted, or what
    "Record a decline" records."""
    if request.method == "GET":
        form = PaymentForm(data=presenters.prefill(person, unpaid, today()))
    elif action == "decline":
        note = presenters.declined_note(person)
        form = PaymentForm(formdata=forms.decline_formdata(request.form, unpaid, today(), note))
    else:
        form = PaymentForm()
    form.contribution_ids.choices = select_choices([(str(c.id), presenters.contribution_label(c)) for c in unpaid])
    form.kind.choices = presenters.kind_choices_for(person)
    return form


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*FINANCE_ROLES)
def new():
    person = presenters.query_person()
    if person is None:
        return _choose_person(422 if request.method == "POST" else 200)
    unpaid = contributions.unpaid_contributions(person.id)
    action = request.form.get("action") if request.method == "POST" else None
    form = _new_form(person, unpaid, action)
    if action == "decline":
        action = "record"
    check, status = None, 200
    if request.method == "POST" and action == "total":
        forms.fill_total(form, unpaid)
        status = pages.status(form)
    elif request.method == "POST":
        outcome = _post_new(person, form, unpaid, action)
        if isinstance(outcome, Response):
            return outcome
        check, status = outcome
    if check:
        _audit_benefit_view(person.id, check.get("verdicts"), "payment check")
    return _render_new(person, form, unpaid, check, status)


# ---- one payment -------------------------------------------------------------------------------


def _payment(payment_id: int) -> Payment:
    return db.get_or_404(Payment, payment_id)


def _reversal_of(payment: Payment) -> Payment | None:
    return service.reversal_entry(payment)


def _cancelled_by(payment: Payment) -> int | None:
    if payment.status != "cancelled":
        return None
    action = "payment.reversal_cancelled" if payment.reversal_of_id is not None else "payment.cancelled"
    return service.last_actor(payment, action)


def _users(*ids: int | None) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


def _seen(payment: Payment, reversed_: bool | None = None) -> str:
    """What the page showed: the payment's version, and whether it had been reversed."""
    if reversed_ is None:
        reversed_ = service.is_reversed(payment)
    return f"{payment.version}:{'reversed' if reversed_ else 'open'}"


def _detail_forms(payment: Payment, seen: str, given: dict) -> dict:
    """The forms of the payment's moves: those given (with what was typed and its errors), else empty."""
    made = {
        "approve_form": given.get("approve_form") or ApproveForm(formdata=None),
        "pay_form": given.get("pay_form")
        or PayForm(
            formdata=None, prefix="pay", data={"paid_on": payment.paid_on, "method": presenters.default_method(payment)}
        ),
    }
    for f in made.values():
        f.seen.data = seen
    return made


def _fresh_check(payment: Payment, moves: list[str]) -> dict | None:
    """Before approving a payment: the benefit check run again on today's ledger (the recording-time
    check may be out of date). None when there is nothing to approve, or it is a reversal."""
    if "approve" not in moves or payment.reversal_of_id is not None:
        return None
    return service.check_again(payment, today=today())[1]


def _render_detail(payment: Payment, status: int, pay_check: dict | None, fresh: dict | None, **given):
    reversal = _reversal_of(payment)
    cancelled_by = _cancelled_by(payment)
    users = _users(
        payment.recorded_by_id,
        payment.approved_by_id,
        payment.paid_by_id,
        cancelled_by,
        reversal.recorded_by_id if reversal else None,
    )
    made = _detail_forms(payment, _seen(payment, reversal is not None and reversal.status != "cancelled"), given)
    pay_form = made["pay_form"]
    snapshot = payment.check_snapshot or {}
    names = presenters.sees_benefit_names(current_user.role)
    moves = service.allowed_moves(payment) if current_user.role in FINANCE_ROLES else []
    return render_template(
        "payments/detail.html",
        payment=payment,
        reversal=reversal,
        users=users,
        cancelled_by=cancelled_by,
        moves=moves,
        fresh_verdicts=presenters.verdict_rows(fresh.get("verdicts"), names=names) if fresh else None,
        fresh_blocked=bool(fresh and fresh.get("blocked")),
        approve_refusal=presenters.approve_refusal(payment, current_user),
        verdicts=presenters.verdict_rows(snapshot.get("verdicts"), names=names),
        snapshot_blocked=snapshot.get("blocked"),
        pay_verdicts=presenters.verdict_rows(pay_check.get("verdicts"), names=names) if pay_check else None,
        names=names,
        when=when_text,
        show_pay_override=bool(pay_check and pay_check.get("blocked"))
        or bool(pay_form.override_reason.data)
        or bool(pay_form.override_reason.errors),
        status_labels=PAYMENT_STATUS_LABELS,
        pay_kind_labels=KIND_LABELS,
        all_forms=(pay_form,),
        **made,
    ), status


def _show_detail(payment: Payment, status: int = 200, pay_check: dict | None = None, **given):
    """Run today's check before approval, audit the view of the benefit checks (when the page names
    the rules), then render the page."""
    fresh = _fresh_check(payment, service.allowed_moves(payment) if current_user.role in FINANCE_ROLES else [])
    shown = (payment.check_snapshot or {}, pay_check or {}, fresh or {})
    _audit_benefit_view(payment.person_id, [v for c in shown for v in c.get("verdicts") or []], "payment page")
    return _render_detail(payment, status, pay_check, fresh, **given)


@bp.get("/<int:payment_id>")
@roles_required(*STAFF_ROLES)
def detail(payment_id: int):
    return _show_detail(_payment(payment_id))


def _back(payment_id: int, message: str, category: str = "error"):
    flash(message, category)
    return redirect(url_for("payments.detail", payment_id=payment_id))


def _why_not(payment: Payment, form, move: str, *, valid: bool = True) -> str | None:
    """Why a move is not even tried: the form expired, the page was out of date, or the payment's
    state does not allow it."""
    if not valid:
        return presenters.EXPIRED
    if form.seen.data and form.seen.data != _seen(payment):
        return presenters.CHANGED
    return presenters.refusal(payment, move)


def _run_move(payment_id: int, form, move: str, run: Callable[[], object]) -> Response | None:
    """Run a move inside the page boundary. A refusal from the state machine becomes a flash and a
    redirect back to the payment; a ValidationFailed leaves its messages on the form (None: show the
    page again)."""
    refused: list[str] = []

    def action() -> Done:
        try:
            run()
        except (Forbidden, Conflict) as e:
            refused.append(presenters.refused_move(e))
            raise Conflict(refused[-1]) from e
        moved = db.session.get(Payment, payment_id)
        assert moved is not None  # loaded by the view before the move
        return Done(url_for("payments.detail", payment_id=payment_id), presenters.move_done(move, moved))

    done = pages.submit(form, action)
    return _back(payment_id, refused[0]) if refused else done


@bp.post("/<int:payment_id>/approve")
@roles_required(*FINANCE_ROLES)
def approve(payment_id: int):
    payment = _payment(payment_id)
    form = ApproveForm()
    why_not = _why_not(payment, form, "approve", valid=form.validate_on_submit())
    if why_not:
        return _back(payment_id, why_not)
    done = _run_move(payment_id, form, "approve", lambda: service.approve(payment, actor=current_user, now=utcnow()))
    return done or _show_detail(_payment(payment_id), 422, approve_form=form)


@bp.post("/<int:payment_id>/pay")
@roles_required(*FINANCE_ROLES)
def pay(payment_id: int):
    payment = _payment(payment_id)
    form = PayForm(prefix="pay")
    why_not = _why_not(payment, form, "pay")
    if why_not:
        return _back(payment_id, why_not)
    if not form.validate_on_submit():
        return _show_detail(payment, 422, pay_form=form)
    blocked: list[dict | None] = []

    def run() -> None:
        assert form.paid_on.data is not None  # the form requires it and has been validated
        try:
            methods.pay(
                payment,
                actor=current_user,
                paid_on=form.paid_on.data,
                method=form.method.data,
                method_note=form.method_note.data,
                reference=form.reference.data,
                now=utcnow(),
                today=today(),
                override_reason=form.override_reason.data,
            )
        except Conflict as e:
            if e.code != "benefit_rule_block":
                raise
            blocked.append(e.extra.get("check"))
            raise ValidationFailed({"override_reason": [presenters.PAY_BLOCKED]}) from e

    done = _run_move(payment_id, form, "pay", run)
    if done is not None:
        return done
    if blocked:
        return _show_detail(_payment(payment_id), 409, pay_check=blocked[0], pay_form=form)
    return _show_detail(_payment(payment_id), 422, pay_form=form)


def _confirm_page(payment: Payment, move: str, form: ReasonForm, status: int = 200):
    """The page before cancelling or reversing: what will happen, the reason, and a way back."""
    form.seen.data = _seen(payment)
    words = presenters.confirm_words(payment, move)
    page = render_template(
        "payments/confirm.html", payment=payment, move=move, form=form, words=words, pay_kind_labels=KIND_LABELS
    )
    return page, status


def _reason_move(payment_id: int, move: str):
    """GET: the confirm page. POST: the move, with the reason given there (422 shows the page again)."""
    payment = _payment(payment_id)
    if request.method == "GET":
        refused = presenters.refusal(payment, move)
        if refused:
            return _back(payment_id, refused)
        return _confirm_page(payment, move, ReasonForm(formdata=None, prefix=move))
    form = ReasonForm(prefix=move)
    why_not = _why_not(payment, form, move, valid=form.validate_on_submit())
    if why_not:
        return _back(payment_id, why_not)
    mover = service.cancel if move == "cancel" else service.reverse
    done = _run_move(
        payment_id, form, move, lambda: mover(payment, actor=current_user, reason=form.reason.data, now=utcnow())
    )
    return done or _confirm_page(_payment(payment_id), move, form, 422)


@bp.route("/<int:payment_id>/cancel", methods=["GET", "POST"])
@roles_required(*FINANCE_ROLES)
def cancel(payment_id: int):
    return _reason_move(payment_id, "cancel")


@bp.route("/<int:payment_id>/reverse", methods=["GET", "POST"])
@roles_required(*FINANCE_ROLES)
def reverse(payment_id: int):
    return _reason_move(payment_id, "reverse")


# ---- month end ---------------------------------------------------------------------------------


def _next_month(d):
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


@bp.get("/month-end")
@roles_required(*FINANCE_ROLES)
def month_end():
    start, error = forms.parse_month(request.args, today().replace(day=1))
    end = _next_month(start) - timedelta(days=1)
    to_pay = list(
        db.session.scalars(
            sa.select(Payment)
            .options(so.joinedload(Payment.person))
            .where(Payment.status == "approved")
            .order_by(Payment.paid_on, Payment.id)
        )
    )
    paid = list(
        db.session.scalars(
            sa.select(Payment)
            .options(so.joinedload(Payment.person))
            .where(Payment.status == "paid", Payment.paid_on >= start, Payment.paid_on <= end)
            .order_by(Payment.method, Payment.paid_on, Payment.id)
        )
    )
    drafts = db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.status == "draft"))
    prev = (start - timedelta(days=1)).replace(day=1)
    nxt = _next_month(start)
    return render_template(
        "payments/month_end.html",
        start=start,
        end=end,
        error=error,
        to_pay=to_pay,
        to_pay_total=sum((p.amount for p in to_pay), ZERO),
        groups=presenters.method_groups(paid),
        paid_total=sum((p.amount for p in paid), ZERO),
        paid_count=len(paid),
        drafts=drafts,
        prev=prev if prev.year >= FIRST_YEAR else None,
        nxt=nxt if nxt.year <= LAST_YEAR else None,
        pay_kind_labels=KIND_LABELS,
    ), (422 if error else 200)


# ---- expenses and other income -----------------------------------------------------------------


@bp.get("/expenses")
@roles_required(*STAFF_ROLES)
def expenses():
    form, f, rows = presenters.list_page(queries.expenses_query, queries.EXPENSE_ORDER)
    return _list_page("payments/expenses.html", form, f, expenses=rows, context_labels=SERVICE_USER_CONTEXT_LABELS)


def _chosen_person(form) -> Person | None:
    """The person picked in the form; a message on the field when there is none."""
    pid = pages.parse_id(form.person_id.data)
    person = db.session.get(Person, pid) if pid else None
    if person is None and not form.person_id.errors:
        form.person_id.errors = list(form.person_id.errors) + ["Choose the person."]
    return person


def _person_form(form_class, **defaults):
    """A form about one person, that ?person_id= may choose in advance: (the chosen person, the form)."""
    chosen = presenters.query_person()
    form = (
        form_class(data={"person_id": str(chosen.id) if chosen else "", **defaults})
        if request.method == "GET"
        else form_class()
    )
    form.person_id.choices = forms.people_choices("Choose a person")
    return chosen, form


def _save_for_person(form, write: Callable[[Person], Done]) -> Response | None:
    """On POST, hand the chosen person to ``write`` inside the page boundary; None: show the form again."""
    if request.method != "POST":
        return None
    valid = form.validate_on_submit()
    person = _chosen_person(form)
    if valid and person is not None:
        return pages.submit(form, lambda: write(person))
    forms.money_errors(form, "amount")
    return None


@bp.route("/expenses/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new_expense():
    chosen, form = _person_form(ExpenseForm, service_user_context="unknown")

    def write(person: Person) -> Done:
        expense_service.record_expense(
            person,
            {
                "amount": form.amount.data,
                "incurred_on": form.incurred_on.data,
                "paid_on": form.paid_on.data,
                "description": form.description.data,
                "receipt_ref": form.receipt_ref.data,
                "service_user_context": form.service_user_context.data,
            },
            actor=current_user,
        )
        return Done(
            url_for("payments.expenses", person_id=person.id), f"The expense for {person.name} has been recorded."
        )

    done = _save_for_person(form, write)
    return done or (render_template("payments/expense_form.html", form=form, chosen=chosen), pages.status(form))


@bp.route("/other-income/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new_other_income():
    chosen, form = _person_form(OtherIncomeForm)

    def write(person: Person) -> Done:
        expense_service.record_other_income(
            person,
            {"amount": form.amount.data, "received_on": form.received_on.data, "source": form.source.data},
            actor=current_user,
        )
        return Done(
            url_for("people.detail", person_id=person.id),
            f"The income {person.name} declared has been recorded. Benefit checks now count it.",
        )

    done = _save_for_person(form, write)
    return done or (render_template("payments/other_income_form.html", form=form, chosen=chosen), pages.status(form))


# The month-end pages (the owed queue, bulk approval, reconciliation) add their routes to ``bp`` too.
from tracker.payments import monthend_views  # noqa: E402,F401
