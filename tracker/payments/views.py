"""Payment pages: the list, creating a payment from what is owed (with the benefit check and its
suggestions), a payment's detail and moves, month end, expenses and other income.

Every view: check the role (403), load what the address names (404), let the form parse the input,
call the service, put the service's ValidationFailed messages onto the form fields (422), and on
success commit once, flash and redirect. State changes only on POST. A refusal from the payment
state machine (InvalidTransition, Conflict, Forbidden) becomes a flash message and a redirect back
to the payment, never an error page.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.auth.access import BENEFIT_INFO_ROLES, roles_required, visible_person_or_404
from tracker.auth.models import User
from tracker.contributions import service as contributions
from tracker.contributions.models import Activity, Contribution
from tracker.errors import Conflict, Forbidden, ValidationFailed
from tracker.extensions import db
from tracker.money import ZERO, MoneyError, format_money, to_decimal
from tracker.payments import bp, queries, service
from tracker.payments import expenses as expense_service
from tracker.payments.forms import (CONTEXT_LABELS, FILTER_RENAME, KIND_LABELS, MAX_ID, MAX_PAGE, STATUS_LABELS,
                                    ApproveForm, ExpenseForm, FilterForm, OtherIncomeForm, PayForm,
                                    PaymentForm, PersonSearchForm, ReasonForm, clean, is_huge, parse_id,
                                    put_errors)
from tracker.payments.models import Payment
from tracker.people import service as people_service
from tracker.people.benefits import BENEFITS
from tracker.people.forms import select_choices
from tracker.people.models import Person
from tracker.rules.checks import NOTICE
from tracker.timeutil import today, utcnow

FINANCE = ("admin", "finance")
STAFF = ("admin", "finance", "coordinator")
MAX_SUGGESTED = 6
CHANGED = ("Someone else changed this payment at the same moment, so your change was not made. "
           "The page now shows the payment as it is.")


# ---- helpers ------------------------------------------------------------------------------------

def _status(form) -> int:
    return 422 if form.errors else 200


def _merge_errors(form, fields: dict, rename: dict | None = None) -> None:
    """Like put_errors, but only for fields that have no message yet (the form's own check of a
    date, say, says it better than the service's "enter a date")."""
    rename = rename or {}
    fresh = {k: v for k, v in fields.items()
             if not (rename.get(k, k) in form and form[rename.get(k, k)].errors)}
    put_errors(form, fresh, rename)


def _or_404(model, ident: int):
    if not 1 <= ident <= MAX_ID:
        abort(404)
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _query_person() -> Person | None:
    """The person named by ?person_id= (404 when it names no one); None when not given."""
    raw = request.args.get("person_id")
    if raw in (None, ""):
        return None
    pid = parse_id(raw)
    if pid is None:
        abort(404)
    return visible_person_or_404(current_user, pid)


def people_choices(blank: str):
    rows = db.session.execute(sa.select(Person.id, Person.name).order_by(Person.name, Person.id)).all()
    return select_choices([("", blank)] + [(str(i), n) for i, n in rows])


def activity_choices(blank: str, active_only: bool = False):
    q = sa.select(Activity.id, Activity.name).order_by(Activity.name, Activity.id)
    if active_only:
        q = q.where(Activity.active.is_(True))
    return select_choices([("", blank)] + [(str(i), n) for i, n in db.session.execute(q).all()])


def list_filters(form_class=FilterForm):
    """The list filters: (form, Filters) or (form with errors, None). Parsing is the shared
    queries.parse_filters, so the list holds exactly the rows an export of it holds."""
    form = form_class(request.args)
    form.person_id.choices = people_choices("Anyone")
    form.activity_id.choices = activity_choices("Any activity")
    try:
        f = queries.parse_filters(request.args)
        errors = {}
        for name in ("person_id", "activity_id"):
            if (getattr(f, name) or 0) > MAX_ID:
                errors[name] = ["There is no such record."]
        if f.page > MAX_PAGE:
            errors["page"] = [f"Use a page number up to {MAX_PAGE:,}."]
        if errors:
            raise ValidationFailed(errors)
    except ValidationFailed as e:
        put_errors(form, e.fields, FILTER_RENAME)
        return form, None
    return form, f


def page_args(f: queries.Filters) -> dict:
    args = f.as_args()
    if f.per_page != queries.Filters.per_page:
        args["per_page"] = f.per_page
    return args


def paginate(query, f: queries.Filters | None):
    if f is None:
        return None
    return db.paginate(query, page=f.page, per_page=f.per_page, error_out=False)


def _users(*ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def benefit_name(code: str | None) -> str:
    if code == "TAX":
        return "Income tax (trading allowance)"
    b = BENEFITS.get(code or "")
    return b.name if b else (code or "")


def _day_text(raw) -> str:
    try:
        d = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        return str(raw)
    return f"{d.day} {d:%B %Y}"


def _figure(measure: str | None, raw) -> str:
    if raw is None or raw == "":
        return ""
    try:
        value = Decimal(str(raw))
    except ArithmeticError:
        return str(raw)
    if measure == "hours":
        text = f"{value.quantize(Decimal('0.01')).normalize():f}"
        return f"{text} hour" if value == 1 else f"{text} hours"
    return format_money(value)


STATUS_WORDS = {"ok": "Within the limit", "near": "Close to the limit", "over": "Over the limit",
                "info": "For information"}


def sees_benefit_names() -> bool:
    """Finance sees totals, limits and headroom, but not which benefits a person receives
    (special-category data), as in the position API."""
    return current_user.role in BENEFIT_INFO_ROLES


def verdict_rows(verdicts, *, names: bool = True) -> list[dict]:
    """Verdicts (the engine's JSON) in words for the page: never colour alone. Without ``names``
    the rule, the benefit, the notes and the source are left out."""
    rows = []
    for v in verdicts or []:
        measure = v.get("measure")
        status = v.get("status")
        period = v.get("period") or {}
        start, end = period.get("start"), period.get("end")
        headroom = v.get("headroom")
        headroom_text = ""
        if headroom not in (None, ""):
            try:
                h = Decimal(str(headroom))
            except ArithmeticError:
                h = None
            if h is not None and h < 0:
                headroom_text = f"None: {_figure(measure, -h)} over the limit"
            else:
                headroom_text = _figure(measure, headroom)
        reduction = None
        if "estimated_reduction" in v and v["estimated_reduction"] not in (None, ""):
            reduction = format_money(Decimal(str(v["estimated_reduction"])))
        source = v.get("source") if str(v.get("source") or "").startswith(("http://", "https://")) else None
        rows.append({
            "title": (v.get("title") or v.get("rule")) if names else "A benefit rule",
            "rule": v.get("rule") if names else None,
            "benefit": benefit_name(v.get("benefit")) if names else "",
            "period": (_day_text(start) if start == end else f"{_day_text(start)} to {_day_text(end)}")
            if start and end else "",
            "measure": "Hours worked" if measure == "hours" else "Earnings",
            "before": _figure(measure, v.get("total_before")),
            "after": _figure(measure, v.get("total_after", v.get("total"))),
            "limit": _figure(measure, v.get("limit")) if v.get("limit") is not None else "No limit",
            "headroom": headroom_text or "Not applicable",
            "status": status,
            "status_word": STATUS_WORDS.get(status, str(status)),
            "blocks": status == "over" and v.get("severity") == "block",
            "warns": status == "over" and v.get("severity") != "block",
            "unverified": v.get("confidence") == "unconfirmed",
            "reduction": reduction,
            "notes": [n for n in (v.get("notes") or []) if n] if names else [],
            "source": source if names else None,
        })
    return rows


def _without_names(text: str, verdicts) -> str:
    """A suggestion's explanation without the names of the rules it mentions."""
    titles = sorted({v.get("title") for v in verdicts or [] if v.get("title")}, key=len, reverse=True)
    for title in titles:
        text = text.replace(f"the {title}", "the benefit limit").replace(title, "the benefit limit")
    return text


def audit_benefit_view(person_id: int, verdicts, where: str) -> None:
    """Benefit information is special-category data: a page that shows it with names is a view."""
    if verdicts and sees_benefit_names():
        audit.record(current_user, "benefits.viewed", None, entity_type="person", entity_id=person_id,
                     person_id=person_id, after={"where": where})
        db.session.commit()


# ---- the list ----------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*STAFF)
def index():
    form, f = list_filters()
    payments = paginate(queries.payments_query(f), f) if f else None
    return render_template("payments/index.html", form=form, f=f, payments=payments,
                           args=page_args(f) if f else {}, status_labels=STATUS_LABELS, pay_kind_labels=KIND_LABELS,
                           can_record=current_user.role in FINANCE), (200 if f else 422)


# ---- a new payment -----------------------------------------------------------------------------

def _contribution_label(c: Contribution) -> str:
    what = c.activity.name if c.activity else (c.description or "Contribution")
    hours = f"{c.hours.normalize():f}"
    prep = f" and {c.preparation_hours.normalize():f} preparation" if c.preparation_hours else ""
    return f"{_day_text(c.worked_on)}: {what}, {hours} hours{prep}, {format_money(c.value_owed)} owed"


def _preferred(person: Person):
    return person.preferences[0] if person.preferences else None


def _prefill(person: Person, unpaid: list[Contribution]) -> dict:
    owed = sum((c.value_owed for c in unpaid), ZERO)
    pref = _preferred(person)
    kind = pref.kind if pref else ""
    data = {"contribution_ids": [str(c.id) for c in unpaid], "kind": kind, "paid_on": today()}
    if kind in ("certificate", "declined"):
        data["amount"] = "0.00"
        if unpaid:
            data["amount_offered"] = str(owed)
    elif unpaid:
        data["amount"] = str(owed)
    if kind == "charity" and pref.note:
        data["charity_name"] = pref.note
    return data


def _ticked(form, unpaid: list[Contribution]) -> list[int]:
    """The ticked contribution ids that are still unpaid; says so when some no longer are."""
    allowed = {c.id for c in unpaid}
    ids, dropped = [], False
    for raw in form.contribution_ids.data or []:
        i = parse_id(raw)
        if i in allowed and i not in ids:
            ids.append(i)
        else:
            dropped = True
    if dropped:
        form.contribution_ids.errors = list(form.contribution_ids.errors) + [
            "Some ticked contributions have been paid since the page was loaded, or are not this person's. "
            "They have been left out: check the amount."]
        form.contribution_ids.data = [str(i) for i in ids]
    return ids


def _payment_data(form, ids) -> dict:
    return {"kind": form.kind.data, "amount": clean(form, "amount"), "amount_offered": clean(form, "amount_offered"),
            "benefit_value": clean(form, "benefit_value"), "charity_name": form.charity_name.data,
            "paid_on": form.paid_on.data, "note": form.note.data, "override_reason": form.override_reason.data,
            "contribution_ids": ids}


def _parse(form, ids, *, recording: bool) -> service.PaymentInput | None:
    """The service's parse of the form, with every problem on its field; None when there are any."""
    parsed = None
    try:
        parsed = service.parse_payment(_payment_data(form, ids))
    except ValidationFailed as e:
        _merge_errors(form, e.fields)
    if parsed is not None:
        if parsed.amount_offered is not None and parsed.amount > parsed.amount_offered:
            form.amount_offered.errors = list(form.amount_offered.errors) + [
                "The amount offered cannot be less than the amount paid."]
        reduced = parsed.amount_offered is not None and parsed.amount < parsed.amount_offered
        if recording and not parsed.note and (parsed.kind in ("declined", "charity") or reduced):
            form.note.errors = list(form.note.errors) + [
                "Say why: for example, what the person asked for, and when they told you."]
    return None if form.errors else parsed


def _suggested_rows() -> list[dict] | None:
    """The payments of a "use this suggestion" form; None when they cannot be read."""
    rows = []
    for i in range(MAX_SUGGESTED):
        kind = request.form.get(f"s{i}_kind")
        if kind is None:
            break
        try:
            paid_on = date.fromisoformat(request.form.get(f"s{i}_paid_on") or "")
        except ValueError:
            return None
        amount = request.form.get(f"s{i}_amount") or ""
        if is_huge(amount):
            return None
        rows.append({"kind": kind, "amount": amount, "paid_on": paid_on})
    return rows or None


def _note_with(note: str | None, explanation: str) -> str:
    text = ((note or "").strip() + "\n" if (note or "").strip() else "") + "Recorded from a suggestion: " + explanation
    return text[:1000]


def _charity_for(person: Person, form) -> str | None:
    if (form.charity_name.data or "").strip():
        return form.charity_name.data
    pref = next((p for p in person.preferences if p.kind == "charity"), None)
    return pref.note if pref else None


def _use_suggestion(person: Person, form, ids):
    """Record every payment of a suggestion as a draft, all or nothing. Returns the response on
    success, else (check body or None, status) with the messages on the form."""
    rows = _suggested_rows()
    if rows is None:
        form.form_errors.append("That suggestion could not be read. Check the payment again to see new suggestions.")
        return None, 422
    explanation = (request.form.get("explanation") or "").strip()[:600] or "a suggested way to pay"
    made = []
    try:
        for row in rows:
            p = service.parse_payment({**row, "contribution_ids": ids, "note": _note_with(form.note.data, explanation),
                                       "charity_name": _charity_for(person, form) if row["kind"] == "charity" else None})
            payment, _ = service.record_payment(person, p, actor=current_user, today=today())
            made.append((payment.amount, payment.paid_on, payment.kind))
    except Conflict as e:
        db.session.rollback()
        form.form_errors.append("The suggestion no longer fits the benefit rules, because something changed since "
                                "the check. Nothing was saved. The check below is up to date.")
        return e.extra.get("check"), 409
    except ValidationFailed as e:
        db.session.rollback()
        messages = [m for ms in e.fields.values() for m in ms]
        form.form_errors.append("That suggestion could not be used: " + " ".join(messages) + " Nothing was saved.")
        return None, 422
    name = person.name
    db.session.commit()
    parts = [f"{format_money(a)} {KIND_LABELS.get(k, k).lower()} on {_day_text(d)}" for a, d, k in made]
    flash(f"Recorded {len(made)} draft payment{'s' if len(made) != 1 else ''} for {name}, as suggested: "
          f"{'; '.join(parts)}. Someone else in finance must approve "
          f"{'them' if len(made) != 1 else 'it'}.", "success")
    return redirect(url_for("payments.index", person_id=person.id, status="draft")), 302


def _suggestion_views(check: dict | None, form) -> list[dict]:
    if not check:
        return []
    base = [("kind", form.kind.data or ""), ("amount", form.amount.data or ""),
            ("amount_offered", form.amount_offered.data or ""), ("benefit_value", form.benefit_value.data or ""),
            ("charity_name", form.charity_name.data or ""), ("note", form.note.data or "")]
    if form.paid_on.raw_data:
        base.append(("paid_on", form.paid_on.raw_data[0]))
    elif form.paid_on.data:
        base.append(("paid_on", form.paid_on.data.isoformat()))
    base += [("contribution_ids", i) for i in form.contribution_ids.data or []]
    out = []
    names = sees_benefit_names()
    for n, s in enumerate(check.get("suggestions") or [], start=1):
        explanation = s.get("explanation") or ""
        if not names:
            explanation = _without_names(explanation, check.get("verdicts"))
        hidden = list(base) + [("action", "suggestion"), ("explanation", explanation)]
        payments = []
        for i, p in enumerate((s.get("payments") or [])[:MAX_SUGGESTED]):
            hidden += [(f"s{i}_kind", p["kind"]), (f"s{i}_amount", p["amount"]), (f"s{i}_paid_on", p["paid_on"])]
            payments.append({"kind": KIND_LABELS.get(p["kind"], p["kind"]),
                             "amount": format_money(Decimal(p["amount"])), "paid_on": _day_text(p["paid_on"])})
        out.append({"number": n, "kind": s.get("kind"), "explanation": explanation, "payments": payments,
                    "hidden": hidden})
    return out


def _choose_person(status: int = 200):
    form = PersonSearchForm(request.args)
    q = (form.q.data or "").strip()
    people = people_service.list_people(q or None, page=1, per_page=25)
    return render_template("payments/choose_person.html", form=form, q=q, people=people,
                           missing=status != 200), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*FINANCE)
def new():
    person = _query_person()
    if person is None:
        return _choose_person(422 if request.method == "POST" else 200)
    unpaid = contributions.unpaid_contributions(person.id)
    form = PaymentForm(data=_prefill(person, unpaid)) if request.method == "GET" else PaymentForm()
    form.contribution_ids.choices = select_choices([(str(c.id), _contribution_label(c)) for c in unpaid])
    check, status, blocked_note = None, 200, None
    action = request.form.get("action") if request.method == "POST" else None
    if request.method == "POST" and action == "total":
        # Work out the amount from the ticked contributions; nothing is checked or saved.
        ids = _ticked(form, unpaid)
        chosen = [c for c in unpaid if c.id in ids]
        form.amount.data = str(sum((c.value_owed for c in chosen), ZERO))
        if form.kind.data in ("certificate", "declined"):
            form.amount_offered.data, form.amount.data = form.amount.data, "0.00"
        status = _status(form)
    elif request.method == "POST":
        recording = action in ("record", "suggestion")
        form.validate_on_submit()
        ids = _ticked(form, unpaid)
        p = _parse(form, ids, recording=action == "record")
        if p is not None and action == "suggestion":
            done, status = _use_suggestion(person, form, ids)
            if status == 302:
                return done
            check = done
        elif p is not None and action == "record":
            try:
                payment, _ = service.record_payment(person, p, actor=current_user, today=today())
            except Conflict as e:
                db.session.rollback()
                check = e.extra.get("check")
                form.override_reason.errors = list(form.override_reason.errors) + [
                    "This payment would break a benefit rule, so it was not recorded. Use one of the suggestions, "
                    "or give a reason to override the check."]
                status = 409
            except ValidationFailed as e:
                db.session.rollback()
                put_errors(form, e.fields)
                status = 422
            else:
                payment_id, amount, name, blocked = payment.id, payment.amount, person.name, bool(payment.override_reason)
                db.session.commit()
                flash(f"A payment of {format_money(amount)} to {name} has been recorded as a draft"
                      f"{' with your reason to override the benefit check' if blocked else ''}. "
                      "Someone else in finance must approve it.", "success")
                return redirect(url_for("payments.detail", payment_id=payment_id))
        elif p is not None:
            try:
                _, _, check = service.check_payment(person, p, today=today())
            except ValidationFailed as e:
                put_errors(form, e.fields)
            db.session.rollback()  # a check writes nothing
        if status == 200:
            status = _status(form)
        if recording and status == 200:
            status = 422
    if check and check.get("blocked") and status != 409:
        blocked_note = ("This payment would break a benefit rule. Use one of the suggestions, or give a reason to "
                        "override the check before you record it.")
    show_override = bool(check and check.get("blocked")) or bool(form.override_reason.data) or bool(
        form.override_reason.errors)
    names = sees_benefit_names()
    if check:
        audit_benefit_view(person.id, check.get("verdicts"), "payment check")
    return render_template(
        "payments/new.html", person=person, form=form, unpaid=unpaid, preferred=_preferred(person),
        contribution_labels={c.id: _contribution_label(c) for c in unpaid},
        owed=sum((c.value_owed for c in unpaid), ZERO), check=check,
        verdicts=verdict_rows(check.get("verdicts"), names=names) if check else [],
        suggestions=_suggestion_views(check, form), names=names,
        notice=NOTICE, show_override=show_override, blocked_note=blocked_note, pay_kind_labels=KIND_LABELS,
    ), status


# ---- one payment -------------------------------------------------------------------------------

def _payment(payment_id: int) -> Payment:
    return _or_404(Payment, payment_id)


def _reversal_of(payment: Payment) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.reversal_of_id == payment.id))


def _seen(payment: Payment, reversed_: bool | None = None) -> str:
    """What the page showed: the payment's version, and whether it had been reversed."""
    if reversed_ is None:
        reversed_ = service.is_reversed(payment)
    return f"{payment.version}:{'reversed' if reversed_ else 'open'}"


def _changed(payment: Payment, seen: str | None) -> bool:
    return bool(seen) and seen != _seen(payment)


def _default_method(payment: Payment) -> str:
    return {"cash": "cash", "bank_transfer": "bank transfer", "voucher": "voucher", "training": "training place",
            "charity": "charity donation"}.get(payment.kind, "no money (certificate or decline)")


def _render_detail(payment: Payment, status: int = 200, *, approve_form=None, pay_form=None, cancel_form=None,
                   reverse_form=None, pay_check=None):
    reversal = _reversal_of(payment)
    cancelled_by = None
    if payment.status == "cancelled":
        cancelled_by = db.session.scalar(
            sa.select(AuditEvent.actor_id).where(AuditEvent.action == "payment.cancelled",
                                                 AuditEvent.entity_type == "payment",
                                                 AuditEvent.entity_id == payment.id).order_by(AuditEvent.id.desc()))
    users = _users(payment.recorded_by_id, payment.approved_by_id, payment.paid_by_id, cancelled_by,
                   reversal.recorded_by_id if reversal else None)
    seen = _seen(payment, reversal is not None)
    moves = service.allowed_moves(payment)
    approve_form = approve_form or ApproveForm(formdata=None)
    pay_form = pay_form or PayForm(formdata=None, prefix="pay",
                                   data={"paid_on": payment.paid_on, "method": _default_method(payment)})
    cancel_form = cancel_form or ReasonForm(formdata=None, prefix="cancel")
    reverse_form = reverse_form or ReasonForm(formdata=None, prefix="reverse")
    for f in (approve_form, pay_form, cancel_form, reverse_form):
        f.seen.data = seen
    snapshot = payment.check_snapshot or {}
    names = sees_benefit_names()
    audit_benefit_view(payment.person_id, snapshot.get("verdicts") or (pay_check or {}).get("verdicts"),
                       "payment page")
    is_recorder = payment.recorded_by_id is not None and payment.recorded_by_id == current_user.id
    return render_template(
        "payments/detail.html", payment=payment, reversal=reversal, users=users, cancelled_by=cancelled_by,
        moves=moves if current_user.role in FINANCE else [], is_recorder=is_recorder,
        approve_form=approve_form, pay_form=pay_form, cancel_form=cancel_form, reverse_form=reverse_form,
        verdicts=verdict_rows(snapshot.get("verdicts"), names=names), snapshot_blocked=snapshot.get("blocked"),
        pay_verdicts=verdict_rows(pay_check.get("verdicts"), names=names) if pay_check else None, names=names,
        show_pay_override=bool(pay_check and pay_check.get("blocked")) or bool(pay_form.override_reason.data)
        or bool(pay_form.override_reason.errors),
        notice=NOTICE, status_labels=STATUS_LABELS, pay_kind_labels=KIND_LABELS, all_forms=(
            pay_form, cancel_form, reverse_form),
    ), status


@bp.get("/<int:payment_id>")
@roles_required(*STAFF)
def detail(payment_id: int):
    return _render_detail(_payment(payment_id))


def _back(payment_id: int, message: str, category: str = "error"):
    flash(message, category)
    return redirect(url_for("payments.detail", payment_id=payment_id))


def _cannot(payment: Payment, move: str) -> str | None:
    """A plain refusal when the move is not allowed from the payment's state; None when it is."""
    if move in service.allowed_moves(payment):
        return None
    if payment.reversal_of_id is not None:
        return "This is a reversal entry: it cannot be changed."
    if move == "reverse" and payment.status == "paid":
        return "This payment has already been reversed."
    words = {"approve": "approved", "pay": "paid", "cancel": "cancelled", "reverse": "reversed"}
    state = {"draft": "still a draft", "approved": "already approved", "paid": "already paid",
             "cancelled": "cancelled"}.get(payment.status, payment.status)
    extra = {("paid", "cancel"): " To correct it, reverse it instead.",
             ("draft", "pay"): " It must be approved first."}.get((payment.status, move), "")
    return f"This payment is {state}, so it cannot be {words[move]}.{extra}"


@bp.post("/<int:payment_id>/approve")
@roles_required(*FINANCE)
def approve(payment_id: int):
    payment = _payment(payment_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _back(payment_id, "This form has expired. Please try again.")
    if _changed(payment, form.seen.data):
        return _back(payment_id, CHANGED)
    refusal = _cannot(payment, "approve")
    if refusal:
        return _back(payment_id, refusal)
    try:
        service.approve(payment, actor=current_user, now=utcnow())
    except Forbidden as e:
        db.session.rollback()
        if e.code == "approver_is_recorder":
            return _back(payment_id, "You recorded this payment, so you cannot approve it. "
                                     "Someone else in finance must approve it.")
        return _back(payment_id, e.message)
    except Conflict as e:  # InvalidTransition, or someone else at the same moment
        db.session.rollback()
        return _back(payment_id, CHANGED if e.code == "payment_changed" else e.message)
    db.session.commit()
    return _back(payment_id, "The payment has been approved. It can now be paid.", "success")


@bp.post("/<int:payment_id>/pay")
@roles_required(*FINANCE)
def pay(payment_id: int):
    payment = _payment(payment_id)
    form = PayForm(prefix="pay")
    if _changed(payment, form.seen.data):
        return _back(payment_id, CHANGED)
    refusal = _cannot(payment, "pay")
    if refusal:
        return _back(payment_id, refusal)
    if not form.validate_on_submit():
        return _render_detail(payment, 422, pay_form=form)
    try:
        service.pay(payment, actor=current_user, paid_on=form.paid_on.data, method=form.method.data,
                    reference=form.reference.data, now=utcnow(), today=today(),
                    override_reason=form.override_reason.data)
    except ValidationFailed as e:
        db.session.rollback()
        put_errors(form, e.fields)
        return _render_detail(_payment(payment_id), 422, pay_form=form)
    except Conflict as e:
        db.session.rollback()
        if e.code == "benefit_rule_block":
            form.override_reason.errors = list(form.override_reason.errors) + [
                "Paid on this date, the payment would break a benefit rule, so it was not marked as paid. "
                "Pick another date, or give a reason to override the check."]
            return _render_detail(_payment(payment_id), 409, pay_form=form, pay_check=e.extra.get("check"))
        return _back(payment_id, CHANGED if e.code == "payment_changed" else e.message)
    db.session.commit()
    return _back(payment_id, "The payment has been marked as paid.", "success")


def _reason_move(payment_id: int, move: str):
    payment = _payment(payment_id)
    form = ReasonForm(prefix=move)
    if not form.validate_on_submit():
        return _back(payment_id, "This form has expired. Please try again.")
    if _changed(payment, form.seen.data):
        return _back(payment_id, CHANGED)
    refusal = _cannot(payment, move)
    if refusal:
        return _back(payment_id, refusal)
    try:
        if move == "cancel":
            service.cancel(payment, actor=current_user, reason=form.reason.data, now=utcnow())
        else:
            service.reverse(payment, actor=current_user, reason=form.reason.data, now=utcnow())
    except ValidationFailed as e:
        db.session.rollback()
        put_errors(form, e.fields)
        return _render_detail(_payment(payment_id), 422, **{f"{move}_form": form})
    except Conflict as e:
        db.session.rollback()
        return _back(payment_id, CHANGED if e.code == "payment_changed" else e.message)
    db.session.commit()
    return _back(payment_id, "The payment has been cancelled." if move == "cancel" else
                 "The payment has been reversed: a reversal entry now nets it out.", "success")


@bp.post("/<int:payment_id>/cancel")
@roles_required(*FINANCE)
def cancel(payment_id: int):
    return _reason_move(payment_id, "cancel")


@bp.post("/<int:payment_id>/reverse")
@roles_required(*FINANCE)
def reverse(payment_id: int):
    return _reason_move(payment_id, "reverse")


# ---- month end ---------------------------------------------------------------------------------

def _month(raw: str | None) -> tuple[date, str | None]:
    """The first day of ?month=YYYY-MM (this month when not given), and an error message."""
    this = today().replace(day=1)
    if raw in (None, ""):
        return this, None
    raw = raw.strip()
    if len(raw) == 7 and raw[4] == "-" and raw[:4].isdigit() and raw[5:].isdigit():
        year, month = int(raw[:4]), int(raw[5:])
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return date(year, month, 1), None
    return this, "Enter the month as a year and month between 2000 and 2100, like 2025-04."


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


@bp.get("/month-end")
@roles_required(*FINANCE)
def month_end():
    start, error = _month(request.args.get("month"))
    end = _next_month(start) - timedelta(days=1)
    to_pay = list(db.session.scalars(sa.select(Payment).options(so.joinedload(Payment.person))
                                     .where(Payment.status == "approved")
                                     .order_by(Payment.paid_on, Payment.id)))
    paid = list(db.session.scalars(sa.select(Payment).options(so.joinedload(Payment.person))
                                   .where(Payment.status == "paid", Payment.paid_on >= start, Payment.paid_on <= end)
                                   .order_by(Payment.method, Payment.paid_on, Payment.id)))
    groups: dict[str, dict] = {}
    for p in paid:
        g = groups.setdefault(p.method or "not recorded", {"method": p.method or "not recorded", "rows": [],
                                                          "total": ZERO})
        g["rows"].append(p)
        g["total"] += p.amount
    drafts = db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.status == "draft"))
    prev = (start - timedelta(days=1)).replace(day=1)
    nxt = _next_month(start)
    return render_template(
        "payments/month_end.html", start=start, end=end, error=error, to_pay=to_pay,
        to_pay_total=sum((p.amount for p in to_pay), ZERO), groups=list(groups.values()),
        paid_total=sum((p.amount for p in paid), ZERO), paid_count=len(paid), drafts=drafts,
        prev=prev if prev.year >= 2000 else None, nxt=nxt if nxt.year <= 2100 else None,
        pay_kind_labels=KIND_LABELS,
    ), (422 if error else 200)


# ---- expenses and other income -----------------------------------------------------------------

@bp.get("/expenses")
@roles_required(*STAFF)
def expenses():
    form, f = list_filters()
    rows = paginate(queries.expenses_query(f), f) if f else None
    return render_template("payments/expenses.html", form=form, f=f, expenses=rows, args=page_args(f) if f else {},
                           context_labels=CONTEXT_LABELS), (200 if f else 422)


def _chosen_person(form) -> Person | None:
    """The person picked in the form; a message on the field when there is none."""
    pid = parse_id(form.person_id.data)
    person = db.session.get(Person, pid) if pid else None
    if person is None and not form.person_id.errors:
        form.person_id.errors = list(form.person_id.errors) + ["Choose the person."]
    return person


def _money_errors(form, *names) -> None:
    """When the form already has a problem, also say what is wrong with the amounts."""
    for name in names:
        if form[name].errors or not (form[name].data or "").strip():
            continue
        try:
            to_decimal(form[name].data)
        except MoneyError as e:
            form[name].errors = list(form[name].errors) + [str(e)]


@bp.route("/expenses/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_expense():
    chosen = _query_person()
    form = ExpenseForm(data={"person_id": str(chosen.id) if chosen else "", "service_user_context": "unknown"}) \
        if request.method == "GET" else ExpenseForm()
    form.person_id.choices = people_choices("Choose a person")
    if request.method == "POST":
        valid = form.validate_on_submit()
        person = _chosen_person(form)
        if valid and person is not None:
            try:
                expense_service.record_expense(person, {
                    "amount": form.amount.data, "incurred_on": form.incurred_on.data, "paid_on": form.paid_on.data,
                    "description": form.description.data, "receipt_ref": form.receipt_ref.data,
                    "service_user_context": form.service_user_context.data}, actor=current_user)
            except ValidationFailed as e:
                db.session.rollback()
                put_errors(form, e.fields)
            else:
                person_id, name = person.id, person.name
                db.session.commit()
                flash(f"The expense for {name} has been recorded.", "success")
                return redirect(url_for("payments.expenses", person_id=person_id))
        else:
            _money_errors(form, "amount")
    return render_template("payments/expense_form.html", form=form, chosen=chosen), _status(form)


@bp.route("/other-income/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_other_income():
    chosen = _query_person()
    form = OtherIncomeForm(data={"person_id": str(chosen.id) if chosen else ""}) \
        if request.method == "GET" else OtherIncomeForm()
    form.person_id.choices = people_choices("Choose a person")
    if request.method == "POST":
        valid = form.validate_on_submit()
        person = _chosen_person(form)
        if valid and person is not None:
            try:
                expense_service.record_other_income(person, {"amount": form.amount.data,
                                                      "received_on": form.received_on.data,
                                                      "source": form.source.data}, actor=current_user)
            except ValidationFailed as e:
                db.session.rollback()
                put_errors(form, e.fields)
            else:
                person_id, name = person.id, person.name
                db.session.commit()
                flash(f"The income {name} declared has been recorded. Benefit checks now count it.", "success")
                return redirect(url_for("people.detail", person_id=person_id))
        else:
            _money_errors(form, "amount")
    return render_template("payments/other_income_form.html", form=form, chosen=chosen), _status(form)

