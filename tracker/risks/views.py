"""Risk pages for coordinators: the dashboard (who a payment would hurt, worst first), a person's
risk page (charts, flags, a manual flag), the payment planner, and the in-app notifications.

Every view: check the role (403; contributors have their own "where I stand" page), load what the
address names (404), let the form parse the input, call the service, put the service's
ValidationFailed messages onto the form (422), and on success commit once, flash and redirect.
Benefit information is special-category data: each view of it writes one audit event.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.audit import service as audit
from tracker.auth.access import BENEFIT_INFO_ROLES, roles_required, visible_person_or_404
from tracker.errors import Conflict, DomainError, ValidationFailed
from tracker.extensions import db
from tracker.money import format_money
from tracker.notify.models import Notification
from tracker.payments import service as payments
from tracker.people import service as people_service
from tracker.people.benefits import BENEFITS, CLAIMABLE_CODES
from tracker.people.forms import select_choices
from tracker.people.models import Person
from tracker.risks import dashboard as dash
from tracker.risks import bp, service
from tracker.risks.forms import (FLAG_ACTIONS, PLAN_ROWS, STATUS_CHOICES, DashboardFilterForm, FlagActionForm,
                                 ManualFlagForm, MarkReadForm, parse_id, plan_form_class, sessions_from)
from tracker.risks.models import RiskFlag, RiskNote
from tracker.engine import planner
from tracker.rules import ledger
from tracker.rules import service as rules_service
from tracker.rules.checks import NOTICE
from tracker.timeutil import today, utcnow


STAFF = ("admin", "finance", "coordinator")
MANAGERS = ("admin", "coordinator")
LEVEL_WORDS = {"over": "Over the limit", "near": "Close to the limit", "manual": "Raised by a coordinator"}
FLAG_STATUS_WORDS = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved"}
KIND_WORDS = {"cash": "Cash", "bank_transfer": "Bank transfer", "voucher": "Vouchers", "training": "Training",
              "certificate": "A certificate", "declined": "Declined (no payment)", "charity": "Paid to a charity"}


# ---- helpers ------------------------------------------------------------------------------------

def _person(person_id: int) -> Person:
    if not 1 <= person_id <= 2**63 - 1:
        abort(404)
    return visible_person_or_404(current_user, person_id)


def _put_errors(form, fields: dict, rename: dict | None = None) -> None:
    rename = rename or {}
    for key, messages in fields.items():
        name = rename.get(key, key)
        if name in form and name != "csrf_token":
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            form.form_errors.extend(messages)


def verdict_view(v, *, names: bool = True) -> dict:
    """A verdict in words for the page: never colour alone."""
    headroom = "No limit"
    if v.headroom is not None:
        headroom = (f"None: {dash.figure(v.measure, -v.headroom)} over" if v.headroom < 0
                    else dash.figure(v.measure, v.headroom))
    return {
        "title": v.title if names else dash.REDACTED_TITLE,
        "benefit": dash.benefit_name(v.benefit) if names else "",
        "period": dash.period_text(v.period_start, v.period_end),
        "measure": v.measure,
        "before": dash.figure(v.measure, v.total_before),
        "after": dash.figure(v.measure, v.total_after),
        "limit": dash.figure(v.measure, v.limit) if v.limit is not None else "No limit",
        "headroom": headroom,
        "status": v.status,
        "status_word": dash.STATUS_WORDS.get(v.status, v.status),
        "reduction": format_money(v.estimated_reduction) if v.estimated_reduction else None,
        "notes": list(v.notes) if names else [],
        "unverified": v.confidence == "unconfirmed",
        "blocks": v.status == "over" and v.severity == "block",
    }


# ---- the dashboard ------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*STAFF)
def dashboard():
    redact = current_user.role not in BENEFIT_INFO_ROLES
    form = DashboardFilterForm(request.args)
    form.benefit.choices = select_choices([("", "Any benefit")] + [(c, BENEFITS[c].name) for c in CLAIMABLE_CODES])
    activities = dash.activity_choices()
    form.activity.choices = select_choices([("", "Any activity")] + activities)
    f = dash.Filters()
    benefit = (form.benefit.data or "").strip()
    if benefit and not redact:
        if benefit in CLAIMABLE_CODES:
            f.benefit = benefit
        else:
            form.benefit.errors = ["Choose a benefit from the list."]
    status = (form.status.data or "").strip()
    if status:
        if status in dict(STATUS_CHOICES):
            f.status = status
        else:
            form.status.errors = ["Choose a result from the list."]
    activity = (form.activity.data or "").strip()
    if activity:
        aid = parse_id(activity)
        if aid is None or str(aid) not in dict(activities):
            form.activity.errors = ["Choose an activity from the list."]
        else:
            f.activity_id = aid
    page = request.args.get("page", default=1, type=int) or 1
    f.page = min(max(page, 1), dash.MAX_PAGE)
    f.args = {k: v for k, v in (("benefit", f.benefit), ("status", f.status), ("activity", f.activity_id)) if v}
    if form.errors:
        return render_template("risks/dashboard.html", form=form, rows=None, redact=redact, filters=f,
                               notice=NOTICE), 422
    on = today()
    rows = dash.dashboard_rows(on, f, redact=redact)
    if not redact:
        audit.record(current_user, "benefits.viewed", None, entity_type="risk_dashboard",
                     after={"where": "risk dashboard", "people": rows.total, "page": f.page, "filters": f.args})
    db.session.commit()  # the audit event, and any positions worked out again and kept
    return render_template("risks/dashboard.html", form=form, rows=rows, redact=redact, filters=f, on=on,
                           notice=NOTICE)


# ---- a person's risk page -------------------------------------------------------------------------

def _flags(person_id: int) -> list[RiskFlag]:
    return list(db.session.scalars(
        sa.select(RiskFlag).where(RiskFlag.person_id == person_id, RiskFlag.status != "resolved")
        .options(so.selectinload(RiskFlag.notes).selectinload(RiskNote.author))
        .order_by(RiskFlag.period_start.desc(), RiskFlag.id.desc())))


def _flag_figure(flag: RiskFlag, measures: dict, raw: str | None) -> str:
    """A flag's stored total or limit ("185.00", "17") in words: pounds or hours."""
    if not raw:
        return ""
    try:
        value = Decimal(raw)
    except ArithmeticError:
        return raw
    return dash.figure(measures.get(flag.rule_code, "earnings"), value)


def _family_choices(verdicts) -> list[tuple[str, str]]:
    out, seen = [], set()
    for v in verdicts:
        if v.family not in seen:
            seen.add(v.family)
            out.append((v.family, f"{v.title} ({dash.period_text(v.period_start, v.period_end)})"))
    return out


def _manual_form(verdicts, form: ManualFlagForm | None = None) -> ManualFlagForm:
    form = form or ManualFlagForm(formdata=None)
    form.rule_family.choices = select_choices([("", "No particular rule (a general concern)")]
                                              + _family_choices(verdicts))
    return form


def _render_person(person: Person, *, status: int = 200, manual_form: ManualFlagForm | None = None,
                   flag_errors: dict | None = None, flag_notes: dict | None = None):
    on = today()
    verdicts, charts, info = dash.person_overview(person.id, on)
    people_service.view_benefits(person, actor=current_user, where="risk page")
    flags = _flags(person.id)
    prefs = [(p.kind, p.note) for p in person.preferences]
    manual = _manual_form(verdicts, manual_form)
    measures = {rule.code: rule.measure for _, rule in rules_service.active_rules()}
    html = render_template(
        "risks/person.html", person_id=person.id, name=person.name, prefs=prefs,
        verdicts=[verdict_view(v) for v in verdicts], charts=charts, info=[verdict_view(v) for v in info],
        flags=flags, manual_form=manual, flag_errors=flag_errors or {}, flag_notes=flag_notes or {},
        level_words=LEVEL_WORDS, flag_status_words=FLAG_STATUS_WORDS, notice=NOTICE, on=on, fig=dash.figure,
        period_text=dash.period_text, flag_figure=lambda f, raw: _flag_figure(f, measures, raw))
    db.session.commit()  # the audit event of this view (after rendering, so the flags stay loaded)
    return html, status


@bp.get("/people/<int:person_id>")
@roles_required(*MANAGERS)
def person(person_id: int):
    return _render_person(_person(person_id))


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
    what = flag.title or "general concern"
    try:
        if action == "note":
            service.add_note(flag, form.note.data, actor=current_user)
        else:
            service.move(flag, action, actor=current_user, note=form.note.data)
    except ValidationFailed as e:
        db.session.rollback()
        messages = [m for ms in e.fields.values() for m in ms] or [e.message]
        return _render_person(person_, status=422, flag_errors={flag_id: messages},
                              flag_notes={flag_id: form.note.data or ""})
    except Conflict as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("risks.person", person_id=person_id, _anchor="flags-heading"))
    db.session.commit()
    done = {"acknowledge": "acknowledged", "resolve": "resolved", "note": "noted"}[action]
    flash(f"The flag ({what}) has been {done}." if action != "note" else f"Your note on the flag ({what}) has been added.",
          "success")
    return redirect(url_for("risks.person", person_id=person_id, _anchor="flags-heading"))


@bp.post("/people/<int:person_id>/flags/new")
@roles_required(*MANAGERS)
def raise_flag(person_id: int):
    person_ = _person(person_id)
    form = ManualFlagForm()
    form.rule_family.choices = select_choices([("", "")])
    if form.validate_on_submit():
        family = (form.rule_family.data or "").strip() or None
        try:
            service.raise_manual(person_, form.note.data, actor=current_user, today=today(), rule_family=family)
        except ValidationFailed as e:
            db.session.rollback()
            _put_errors(form, e.fields, {"rule": "rule_family"})
        except Conflict as e:
            db.session.rollback()
            form.rule_family.errors = list(form.rule_family.errors) + [e.message]
        else:
            name = person_.name
            db.session.commit()
            flash(f"A flag has been raised for {name}.", "success")
            return redirect(url_for("risks.person", person_id=person_id, _anchor="flags-heading"))
    return _render_person(person_, status=422, manual_form=form)


# ---- the planner --------------------------------------------------------------------------------

def _run_plan(person_id: int, rows, on):
    sessions = [planner.Session(worked_on=d, amount=amount, hours=hours) for _, d, hours, amount in rows]
    rules = [rule for _, rule in rules_service.active_rules()]
    first = min([on] + [s.worked_on for s in sessions])
    last = max([on] + [s.worked_on for s in sessions]) + timedelta(weeks=planner.HORIZON_WEEKS)
    led = ledger.ledger_for(person_id, (first, last))
    return sessions, planner.plan(ledger.claims_for(person_id), rules, led, sessions,
                                  ledger.preferences_for(person_id), on)


def _posted_payments() -> list[dict] | None:
    out = []
    for i in range(200):
        kind = request.form.get(f"p{i}_kind")
        if kind is None:
            break
        out.append({"kind": kind, "amount": request.form.get(f"p{i}_amount") or "",
                    "paid_on": request.form.get(f"p{i}_paid_on") or ""})
    return out or None


def _use_plan(person_: Person, proposal_key: str, plan_result, form):
    """Record every payment of the chosen proposal as a draft, all or nothing.
    Returns a redirect on success, else the status, with the reason on the form."""
    proposal = next((p for p in plan_result.proposals if p.key == proposal_key), None)
    posted = _posted_payments()
    shown = [{"kind": p.kind, "amount": str(p.amount.quantize(Decimal("0.01"))), "paid_on": p.paid_on.isoformat()}
             for p in proposal.payments] if proposal else None
    if proposal is None or posted != shown:
        form.form_errors.append("The plan is not the one shown before, because something changed in the meantime "
                                "(a payment, a rule or a preference). Nothing was saved. The plans below are up to "
                                "date: check them and choose again.")
        return 409
    if not proposal.clean:
        form.form_errors.append("This plan breaks a benefit rule, so it cannot be used from here. Nothing was saved. "
                                "Talk to the person and a benefits adviser, then record a payment with a reason to "
                                "override the check if you still need to.")
        return 409
    charity = next((note for kind, note in ((p.kind, p.note) for p in person_.preferences) if kind == "charity"), None)
    note = f"From the payment planner ({proposal.title}): {proposal.explanation}"[:1000]
    made = []
    try:
        for p in sorted(proposal.payments, key=lambda p: (p.paid_on, p.session)):
            data = {"kind": p.kind, "amount": p.amount, "paid_on": p.paid_on, "note": note,
                    "amount_offered": p.offered, "charity_name": charity if p.kind == "charity" else None}
            parsed = payments.parse_payment(data)
            payment, _ = payments.record_payment(person_, parsed, actor=current_user, today=today())
            made.append((payment.amount, payment.kind, payment.paid_on))
    except ValidationFailed as e:
        db.session.rollback()
        messages = [m for ms in e.fields.values() for m in ms] or [e.message]
        form.form_errors.append("This plan could not be used: " + " ".join(messages) + " Nothing was saved.")
        return 422
    except DomainError as e:
        db.session.rollback()
        form.form_errors.append(f"This plan could not be used: {e.message} Nothing was saved.")
        return e.status if e.status in (403, 409) else 409
    name, pid = person_.name, person_.id
    db.session.commit()
    parts = [f"{format_money(a)} {KIND_WORDS.get(k, k).lower()} on {dash.day_text(d)}" for a, k, d in made]
    n = len(made)
    flash(f"Recorded {n} draft payment{'s' if n != 1 else ''} for {name} from the plan: {'; '.join(parts)}. "
          f"Someone in finance must approve {'them' if n != 1 else 'it'} before {'they are' if n != 1 else 'it is'} "
          "paid.", "success")
    return redirect(url_for("risks.person", person_id=pid))


def _proposal_views(plan_result, form, rows) -> list[dict]:
    base = []
    for i in range(PLAN_ROWS):
        for name in ("date", "hours", "amount", "rate"):
            f = form[f"{name}_{i}"]
            raw = f.raw_data[0] if f.raw_data else (f.data.isoformat() if hasattr(f.data, "isoformat") else f.data)
            if raw:
                base.append((f"{name}_{i}", raw))
    out = []
    for n, p in enumerate(plan_result.proposals, start=1):
        hidden = list(base) + [("action", "use"), ("proposal", p.key)]
        for i, pay in enumerate(p.payments):
            hidden += [(f"p{i}_kind", pay.kind), (f"p{i}_amount", str(pay.amount.quantize(Decimal("0.01")))),
                       (f"p{i}_paid_on", pay.paid_on.isoformat())]
        out.append({
            "number": n, "key": p.key, "title": p.title, "clean": p.clean, "explanation": p.explanation,
            "payments": [{"kind": KIND_WORDS.get(pay.kind, pay.kind), "amount": format_money(pay.amount),
                          "offered": format_money(pay.offered) if pay.offered is not None else None,
                          "paid_on": dash.day_text(pay.paid_on), "for": dash.day_text(pay.worked_on)}
                         for pay in sorted(p.payments, key=lambda x: (x.paid_on, x.session))],
            "verdicts": [verdict_view(v) for v in p.verdicts],
            "reduction": format_money(p.harm.reduction) if p.harm.reduction else None,
            "hidden": hidden,
        })
    return out


@bp.route("/people/<int:person_id>/plan", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def plan(person_id: int):
    person_ = _person(person_id)
    form = plan_form_class()()
    on = today()
    status = 200
    plan_result = sessions = None
    rows = []
    if request.method == "POST":
        status = 422
        form.validate_on_submit()  # parses the dates; the rows are checked together below
        rows = sessions_from(form, on)
        if rows and not form.errors:
            status = 200
            sessions, plan_result = _run_plan(person_.id, rows, on)
            if request.form.get("action") == "use":
                outcome = _use_plan(person_, request.form.get("proposal") or "", plan_result, form)
                if not isinstance(outcome, int):
                    return outcome
                status = outcome
                sessions, plan_result = _run_plan(person_.id, rows, on)
    people_service.view_benefits(person_, actor=current_user, where="payment planner")
    name, pid = person_.name, person_.id
    prefs = [(p.kind, p.note) for p in person_.preferences]
    db.session.commit()  # the audit event of this view
    plan_rows = [(i, form[f"date_{i}"], form[f"hours_{i}"], form[f"amount_{i}"], form[f"rate_{i}"])
                 for i in range(PLAN_ROWS)]
    total = sum((amount for _, _, _, amount in rows), Decimal("0.00")) if rows else None
    return render_template("risks/plan.html", form=form, plan_rows=plan_rows, person_id=pid, name=name, prefs=prefs,
                           result=plan_result, proposals=_proposal_views(plan_result, form, rows) if plan_result else [],
                           total=format_money(total) if total is not None else None, notice=NOTICE, on=on,
                           horizon_weeks=planner.HORIZON_WEEKS), status


# ---- notifications ------------------------------------------------------------------------------

@bp.get("/notifications")
@roles_required(*STAFF)
def notifications():
    page = min(max(request.args.get("page", default=1, type=int) or 1, 1), dash.MAX_PAGE)
    q = (sa.select(Notification).where(Notification.user_id == current_user.id)
         .order_by(Notification.created_at.desc(), Notification.id.desc()))
    items = db.paginate(q, page=page, per_page=dash.PER_PAGE, error_out=False)
    unread = db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == current_user.id, Notification.read_at.is_(None)))
    return render_template("risks/notifications.html", items=items, unread=unread, form=MarkReadForm(formdata=None))


@bp.post("/notifications/read")
@roles_required(*STAFF)
def mark_read():
    form = MarkReadForm()
    form.validate_on_submit()
    now = utcnow()
    if (form.action.data or "") == "all":
        count = dash.mark_notifications_read(current_user.id, None, now)
        db.session.commit()
        flash(f"{count} notification{'s' if count != 1 else ''} marked as read." if count
              else "There was nothing unread.", "success")
        return redirect(url_for("risks.notifications"))
    nid = parse_id(form.notification_id.data)
    if nid is None:
        flash("Choose a notification to mark as read.", "error")
        return redirect(url_for("risks.notifications"))
    n = db.session.get(Notification, nid)
    if n is None or n.user_id != current_user.id:
        abort(404)
    subject = n.subject
    dash.mark_notifications_read(current_user.id, [nid], now)
    db.session.commit()
    flash(f"“{subject}” has been marked as read.", "success")
    return redirect(url_for("risks.notifications"))
