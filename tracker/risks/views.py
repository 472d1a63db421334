"""Risk pages for coordinators: the dashboard (who a payment would hurt, worst first), a person's
risk page (charts, flags, a manual flag), the payment planner, and the in-app notifications.

Every view: check the role (403; contributors have their own "where I stand" page), load what the
address names (404), let the form parse the input, and hand the service call to the page commit
boundary (``tracker.pages.submit``): the service's ValidationFailed messages go onto the form (422),
and on success it commits once, flashes and redirects. The words and the table rows come from
``tracker.risks.presenters``. Benefit information is special-category data: each view of it writes
one audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import pages
from tracker.audit import service as audit
from tracker.auth.access import roles_required, visible_person_or_404
from tracker.engine import planner
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import format_money
from tracker.notify.models import Notification
from tracker.pages import parse_id
from tracker.payments import service as payments
from tracker.people import service as people_service
from tracker.people.forms import select_choices
from tracker.people.models import Person
from tracker.risks import bp, service
from tracker.risks import dashboard as dash
from tracker.risks import presenters as present
from tracker.risks.forms import (
    FLAG_ACTIONS,
    PLAN_ROWS,
    DashboardFilterForm,
    FlagActionForm,
    ManualFlagForm,
    MarkReadForm,
    plan_form_class,
    posted_payments,
    read_filters,
    sessions_from,
    typed_fields,
)
from tracker.risks.models import RiskFlag, RiskNote
from tracker.rules import ledger, redaction, wording
from tracker.rules import service as rules_service
from tracker.timeutil import today, utcnow
from tracker.vocab import (
    BENEFIT_INFO_ROLES,
    FINANCE_ROLES,
    FLAG_LEVEL_WORDS,
    FLAG_STATUS_WORDS,
    MAX_ID,
    MAX_PAGE,
    STAFF_ROLES,
)

#: Who looks after people: they see and act on a person's risks.
MANAGERS = BENEFIT_INFO_ROLES


# ---- helpers ------------------------------------------------------------------------------------


def _person(person_id: int) -> Person:
    if not 1 <= person_id <= MAX_ID:
        abort(404)
    return visible_person_or_404(current_user, person_id)


def _messages(e: ValidationFailed) -> list[str]:
    return [m for ms in e.fields.values() for m in ms] or [e.message]


def _submit(
    form,
    action: Callable[[], pages.Done],
    on_error: Callable[[ValidationFailed], None],
    on_conflict: Callable[[str], Response | None],
) -> Response | None:
    """``pages.submit``, with a Conflict's message (the flag changed meanwhile, a payment a rule
    blocks) handed to ``on_conflict`` instead of the form's error summary."""
    invalid: list[ValidationFailed] = []

    def refused(e: ValidationFailed) -> None:
        invalid.append(e)
        on_error(e)

    done = pages.submit(form, action, on_error=refused)
    if done is None and not invalid:
        return on_conflict(form.form_errors.pop())
    return done


# ---- the dashboard ------------------------------------------------------------------------------


def _dashboard_page(form: DashboardFilterForm, f, rows: dash.Page | None, *, redact: bool, **more) -> str:
    """The dashboard with its filters; no rows when the filters cannot be read."""
    return render_template(
        "risks/dashboard.html",
        form=form,
        rows=rows,
        redact=redact,
        filters=f,
        redacted_title=dash.REDACTED_TITLE,
        **more,
    )


@bp.get("/")
@roles_required(*STAFF_ROLES)
def dashboard():
    redact = redaction.hides_for(current_user)
    form = DashboardFilterForm(request.args)
    form.benefit.choices = select_choices(present.benefit_choices())
    activities = dash.activity_choices()
    form.activity.choices = select_choices([("", "Any activity")] + activities)
    f = read_filters(form, activities, request.args.get("page", default=1, type=int), redact=redact)
    if form.errors:
        return _dashboard_page(form, f, None, redact=redact), 422
    on = today()
    page = dash.dashboard_rows(on, f, redact=redact)
    if not redact:
        audit.record(
            current_user,
            "benefits.viewed",
            None,
            entity_type="risk_dashboard",
            after={"where": "risk dashboard", "people": page.total, "page": f.page, "filters": f.args},
        )
    db.session.commit()  # the audit event, and any positions worked out again and kept
    rows = dash.Page(
        items=[present.dashboard_row(r, names=not redact) for r in page.items], total=page.total, page=page.page
    )
    info = present.info_notes(page.info, names=not redact)
    return _dashboard_page(form, f, rows, redact=redact, on=on, info=info)


# ---- a person's risk page -------------------------------------------------------------------------


def _flags(person_id: int) -> list[RiskFlag]:
    return list(
        db.session.scalars(
            sa.select(RiskFlag)
            .where(RiskFlag.person_id == person_id, RiskFlag.status != "resolved")
            .options(so.selectinload(RiskFlag.notes).selectinload(RiskNote.author))
            .order_by(RiskFlag.period_start.desc(), RiskFlag.id.desc())
        )
    )


def _manual_form(verdicts, form: ManualFlagForm | None = None) -> ManualFlagForm:
    form = form or ManualFlagForm(formdata=None)
    form.rule_family.choices = select_choices(
        [("", "No particular rule (a general concern)")] + present.family_choices(verdicts)
    )
    return form


def _render_person(
    person: Person,
    *,
    status: int = 200,
    manual_form: ManualFlagForm | None = None,
    flag_errors: dict | None = None,
    flag_notes: dict | None = None,
):
    on = today()
    verdicts, charts, info = dash.person_overview(person.id, on)
    people_service.view_benefits(person, actor=current_user, where="risk page")
    flags = _flags(person.id)
    prefs = [(p.kind, p.note) for p in person.preferences]
    manual = _manual_form(verdicts, manual_form)
    measures = {rule.code: rule.measure for _, rule in rules_service.active_rules()}
    html = render_template(
        "risks/person.html",
        person_id=person.id,
        name=person.name,
        prefs=prefs,
        # information-only rules (PIP, ADP) once, in their own section, not in the table
        verdicts=[present.verdict_view(v) for v in verdicts if v.effect != "info"],
        charts=[present.chart_view(c) for c in charts],
        info=[present.verdict_view(v) for v in info],
        flags=flags,
        manual_form=manual,
        flag_errors=flag_errors or {},
        flag_notes=flag_notes or {},
        level_words=FLAG_LEVEL_WORDS,
        flag_status_words=FLAG_STATUS_WORDS,
        on=on,
        fig=present.figure,
        period_text=present.period_text,
        flag_figure=lambda f, raw: present.flag_figure(measures.get(f.rule_code, "earnings"), raw),
    )
    db.session.commit()  # the audit event of this view (after rendering, so the flags stay loaded)
    return html, status


@bp.get("/people/<int:person_id>")
@roles_required(*MANAGERS)
def person(person_id: int):
    return _render_person(_person(person_id))


def _act_on_flag(flag: RiskFlag, action: str, note: str | None, to: str) -> pages.Done:
    what = flag.title or "general concern"
    if action == "note":
        service.add_note(flag, note or "", actor=current_user)
    else:
        service.move(flag, action, actor=current_user, note=note)
    return pages.Done(to, present.flag_done(action, what))


@bp.post("/people/<int:person_id>/flags")
@roles_required(*MANAGERS)
def flag_action(person_id: int):
    person_ = _person(person_id)
    form = FlagActionForm()
    form.validate_on_submit()
    flag_id = parse_id(form.flag_id.data)
    action = (form.action.data or "").strip()
    if flag_id is None or action not in FLAG_ACTIONS:
        flash("Choose a flag, and whether to acknowledge it, resolve it or add a note.", "error")
        return redirect(url_for("risks.person", person_id=person_id))
    flag = db.session.get(RiskFlag, flag_id)
    if flag is None or flag.person_id != person_.id:
        abort(404)
    back = url_for("risks.person", person_id=person_id, _anchor="flags-heading")
    refused: list[str] = []

    def conflict(message: str) -> Response:
        flash(message, "error")
        return redirect(back)

    done = _submit(
        form, lambda: _act_on_flag(flag, action, form.note.data, back), lambda e: refused.extend(_messages(e)), conflict
    )
    if done:
        return done
    return _render_person(
        person_, status=422, flag_errors={flag_id: refused}, flag_notes={flag_id: form.note.data or ""}
    )


@bp.post("/people/<int:person_id>/flags/new")
@roles_required(*MANAGERS)
def raise_flag(person_id: int):
    person_ = _person(person_id)
    form = ManualFlagForm()
    form.rule_family.choices = select_choices([("", "")])
    if form.validate_on_submit():
        family = (form.rule_family.data or "").strip() or None
        name = person_.name

        def raise_it() -> pages.Done:
            service.raise_manual(person_, form.note.data, actor=current_user, today=today(), rule_family=family)
            return pages.Done(
                url_for("risks.person", person_id=person_id, _anchor="flags-heading"),
                f"A flag has been raised for {name}.",
            )

        def on_conflict(message: str) -> None:  # already a flag for this rule and period
            form.rule_family.errors = list(form.rule_family.errors) + [message]

        done = _submit(form, raise_it, lambda e: pages.put_errors(form, e.fields, {"rule": "rule_family"}), on_conflict)
        if done:
            return done
    return _render_person(person_, status=422, manual_form=form)


# ---- the planner --------------------------------------------------------------------------------


def _run_plan(person_id: int, rows, on):
    sessions = [planner.Session(worked_on=d, amount=amount, hours=hours) for _, d, hours, amount in rows]
    rules = [rule for _, rule in rules_service.active_rules()]
    first = min([on] + [s.worked_on for s in sessions])
    last = max([on] + [s.worked_on for s in sessions]) + timedelta(weeks=planner.HORIZON_WEEKS)
    led = ledger.ledger_for(person_id, (first, last))
    return sessions, wording.plan(
        planner.plan(ledger.claims_for(person_id), rules, led, sessions, ledger.preferences_for(person_id), on)
    )


def _chosen(plan_result: planner.Plan, proposal_key: str, form) -> planner.Proposal | None:
    """The proposal the coordinator chose, if it is still the one shown and keeps every rule; else
    None, with the reason on the form."""
    proposal = next((p for p in plan_result.proposals if p.key == proposal_key), None)
    if proposal is None or posted_payments(request.form) != present.payment_fields(proposal.payments):
        form.form_errors.append(present.PLAN_CHANGED)
        return None
    if not proposal.clean:
        form.form_errors.append(present.PLAN_NOT_CLEAN)
        return None
    return proposal


def _record_plan(person_: Person, proposal: planner.Proposal) -> pages.Done:
    """Record every payment of the proposal as a draft (the commit boundary makes it all or nothing)."""
    charity = next((p.note for p in person_.preferences if p.kind == "charity"), None)
    note = present.planner_note(proposal)
    made = []
    for p in sorted(proposal.payments, key=lambda p: (p.paid_on, p.session)):
        data = {
            "kind": p.kind,
            "amount": p.amount,
            "paid_on": p.paid_on,
            "note": note,
            "amount_offered": p.offered,
            "charity_name": charity if p.kind == "charity" else None,
        }
        payment, _ = payments.record_payment(person_, payments.parse_payment(data), actor=current_user, today=today())
        made.append((payment.amount, payment.kind, payment.paid_on))
    return pages.Done(url_for("risks.person", person_id=person_.id), present.plan_recorded(person_.name, made))


def _use_plan(person_: Person, proposal_key: str, plan_result: planner.Plan, form) -> Response | int:
    """Record every payment of the chosen proposal as a draft, all or nothing.
    Returns a redirect on success, else the status, with the reason on the form."""
    proposal = _chosen(plan_result, proposal_key, form)
    if proposal is None:
        return 409

    status = 409  # a payment the rules block, or one changed meanwhile (a Conflict)

    def refused(e: ValidationFailed) -> None:
        nonlocal status
        status = 422
        form.form_errors.append(present.plan_refused(" ".join(_messages(e))))

    def conflict(message: str) -> None:
        form.form_errors.append(present.plan_refused(message))

    return _submit(form, lambda: _record_plan(person_, proposal), refused, conflict) or status


def _planned(person_: Person, form, on) -> tuple[list, planner.Plan | None, int | Response]:
    """The sessions typed, the plans for them, and the status (or the redirect after a plan is used)."""
    form.validate_on_submit()  # parses the dates; the rows are checked together below
    rows = sessions_from(form, on)
    if not rows or form.errors:
        return rows, None, 422
    _, plan_result = _run_plan(person_.id, rows, on)
    if request.form.get("action") != "use":
        return rows, plan_result, 200
    if not _may_record_plans():
        abort(403)  # a coordinator plans; finance (or an admin) records the drafts
    outcome = _use_plan(person_, request.form.get("proposal") or "", plan_result, form)
    if isinstance(outcome, Response):
        return rows, plan_result, outcome
    _, plan_result = _run_plan(person_.id, rows, on)  # what is true now, after a refusal
    return rows, plan_result, outcome


def _may_record_plans() -> bool:
    """Recording a plan's payments (as drafts) is finance's work: admin or finance only."""
    return current_user.role in FINANCE_ROLES


@bp.route("/people/<int:person_id>/plan", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def plan(person_id: int):
    person_ = _person(person_id)
    form = plan_form_class()()
    on = today()
    rows, plan_result, status = _planned(person_, form, on) if request.method == "POST" else ([], None, 200)
    if isinstance(status, Response):
        return status
    people_service.view_benefits(person_, actor=current_user, where="payment planner")
    name, pid = person_.name, person_.id
    prefs = [(p.kind, p.note) for p in person_.preferences]
    db.session.commit()  # the audit event of this view
    plan_rows = [
        (i, form[f"date_{i}"], form[f"hours_{i}"], form[f"amount_{i}"], form[f"rate_{i}"]) for i in range(PLAN_ROWS)
    ]
    total = sum((amount for _, _, _, amount in rows), Decimal("0.00")) if rows else None
    proposals = present.proposal_views(plan_result, typed_fields(form)) if plan_result else []
    return render_template(
        "risks/plan.html",
        form=form,
        plan_rows=plan_rows,
        person_id=pid,
        name=name,
        prefs=prefs,
        result=plan_result,
        proposals=proposals,
        total=format_money(total) if total is not None else None,
        on=on,
        horizon_weeks=planner.HORIZON_WEEKS,
        may_record=_may_record_plans(),
    ), status


# ---- notifications ------------------------------------------------------------------------------


@bp.get("/notifications")
@roles_required(*STAFF_ROLES)
def notifications():
    page = min(max(request.args.get("page", default=1, type=int) or 1, 1), MAX_PAGE)
    q = (
        sa.select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    items = db.paginate(q, page=page, per_page=dash.PER_PAGE, error_out=False)
    unread = db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)
        )
    )
    return render_template("risks/notifications.html", items=items, unread=unread, form=MarkReadForm(formdata=None))


@bp.post("/notifications/read")
@roles_required(*STAFF_ROLES)
def mark_read():
    form = MarkReadForm()
    form.validate_on_submit()
    now = utcnow()
    back = url_for("risks.notifications")
    if (form.action.data or "") == "all":
        count = dash.mark_notifications_read(current_user.id, None, now)
        return pages.commit(pages.Done(back, present.marked_read(count)))
    nid = parse_id(form.notification_id.data)
    if nid is None:
        flash("Choose a notification to mark as read.", "error")
        return redirect(back)
    n = db.session.get(Notification, nid)
    if n is None or n.user_id != current_user.id:
        abort(404)
    subject = n.subject
    dash.mark_notifications_read(current_user.id, [nid], now)
    return pages.commit(pages.Done(back, f"“{subject}” has been marked as read."))
