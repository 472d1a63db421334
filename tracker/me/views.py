"""The contributor's own pages, and the staff preview of them.

| method and path | endpoint | roles | person-scoped |
| --- | --- | --- | --- |
| GET /me/ | me.index | contributor | own person only |
| GET /me/contributions | me.contributions | contributor | own person only |
| GET /me/payments | me.payments | contributor | own person only |
| GET /me/position | me.position | contributor | own person only |
| GET /me/data | me.data | contributor | own person only |
| GET /me/data.zip | me.data_zip | contributor | own person only |
| GET /me/preview/<person_id> | me.preview | admin, coordinator | yes |
| GET /me/preview/<person_id>/contributions | me.preview_contributions | admin, coordinator | yes |
| GET /me/preview/<person_id>/payments | me.preview_payments | admin, coordinator | yes |
| GET /me/preview/<person_id>/position | me.preview_position | admin, coordinator | yes |
| GET /me/preview/<person_id>/data | me.preview_data | admin, coordinator | yes |

A contributor's pages always show their own person (there is no person id to change). The
preview renders exactly what that contributor sees, with a banner and no way to change anything;
finance may not use it because it shows benefit information. Every preview page, the "Where you
stand" page, the "What we hold about you" page and the download write a ``benefits.viewed`` audit
event; the download also writes ``data.exported``. Nothing here changes anything else.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user

from tracker.audit import service as audit
from tracker.auth.access import roles_required, visible_person_or_404
from tracker.contributions.models import Contribution
from tracker.documents.models import Document
from tracker.extensions import db
from tracker.me import bp, export
from tracker.me.forms import PositionDateForm
from tracker.money import format_money, sum_column
from tracker.payments.models import Payment
from tracker.people import service as people
from tracker.people.benefits import BENEFITS
from tracker.people.models import Person
from tracker.engine import periods
from tracker.rules import checks
from tracker.timeutil import today, utcnow

try:
    from zoneinfo import ZoneInfo

    LOCAL = ZoneInfo("Europe/London")
except Exception:  # pragma: no cover - a system without time zone data
    LOCAL = timezone.utc

PREVIEW_ROLES = ("admin", "coordinator")
PER_PAGE = 25
MAX_PAGE = 100_000
MAX_ID = 2**63 - 1

STATUS_WORDS = {"ok": "Within the limit", "near": "Close to the limit", "over": "Over the limit",
                "info": "For information"}
BENEFIT_HEADINGS = {"TAX": "Income tax: the £1,000 trading allowance"}
KIND_WORDS = {
    "cash": "Cash",
    "bank_transfer": "Bank transfer",
    "voucher": "Vouchers",
    "training": "Training",
    "certificate": "A certificate (no money)",
    "declined": "You chose not to be paid",
    "charity": "Paid to a charity you chose",
}
METHOD_WORDS = {
    "cash": "in cash",
    "voucher": "in vouchers",
    "bank transfer": "by bank transfer",
    "cheque": "by cheque",
    "training place": "as a training place",
    "charity donation": "as a donation to a charity",
}
KIND_METHODS = {"cash": "in cash", "bank_transfer": "by bank transfer", "voucher": "in vouchers",
                "training": "as training", "charity": "as a donation to a charity"}


# ---- whose pages ---------------------------------------------------------------------------

def _own_person() -> Person:
    person = db.session.get(Person, current_user.person_id) if current_user.person_id else None
    if person is None:
        abort(404)
    return person


def _preview_person(person_id: int, page: str) -> Person:
    """The person whose pages staff are previewing. The preview shows benefit information, so
    each view is audited."""
    if person_id > MAX_ID:
        abort(404)
    person = visible_person_or_404(current_user, person_id)
    people.view_benefits(person, actor=current_user, where=f"contributor preview: {page}")
    db.session.commit()
    return person


def _view_own_benefits(person: Person, where: str) -> None:
    people.view_benefits(person, actor=current_user, where=where)
    db.session.commit()


def _links(person: Person, preview: bool):
    def me_url(name: str, **kwargs) -> str:
        if preview:
            endpoint = "me.preview" if name == "index" else f"me.preview_{name}"
            return url_for(endpoint, person_id=person.id, **kwargs)
        return url_for(f"me.{name}", **kwargs)

    return me_url


def _render(template: str, person: Person, preview: bool, **ctx):
    return render_template(template, person=person, preview=preview, me_url=_links(person, preview),
                           today=today(), **ctx)


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)
    return min(max(page or 1, 1), MAX_PAGE)


def _d(day) -> str:
    """A date in words; a stored time (UTC) is first turned into the UK date."""
    if not day:
        return ""
    if isinstance(day, datetime):
        day = day.replace(tzinfo=timezone.utc).astimezone(LOCAL).date()
    return f"{day.day} {day:%B %Y}"


# ---- the summary ---------------------------------------------------------------------------

def _summary(person: Person, preview: bool):
    on = today()
    start, end = periods.window("tax_year", on)
    paid = db.session.scalar(sa.select(sum_column(Payment.amount)).where(
        Payment.person_id == person.id, Payment.status == "paid", Payment.paid_on.between(start, end)))
    contributions = db.session.scalar(sa.select(sa.func.count(Contribution.id))
                                      .where(Contribution.person_id == person.id))
    planned = db.session.scalar(sa.select(sa.func.count(Payment.id)).where(
        Payment.person_id == person.id, Payment.status.in_(("draft", "approved"))))
    ready = db.session.scalar(sa.select(sa.func.count(Document.id)).where(
        Document.person_id == person.id, Document.status == "ready"))
    return _render("me/index.html", person, preview, tax_year=(start, end), paid_this_year=paid or Decimal("0"),
                   first_choice=person.preferences[0] if person.preferences else None,
                   contribution_count=contributions, planned_count=planned, ready_count=ready)


@bp.get("/")
@roles_required("contributor")
def index():
    return _summary(_own_person(), False)


@bp.get("/preview/<int:person_id>")
@roles_required(*PREVIEW_ROLES)
def preview(person_id: int):
    return _summary(_preview_person(person_id, "summary"), True)


# ---- what you did --------------------------------------------------------------------------

def _contributions(person: Person, preview: bool):
    q = (sa.select(Contribution).options(so.selectinload(Contribution.activity))
         .where(Contribution.person_id == person.id)
         .order_by(Contribution.worked_on.desc(), Contribution.id.desc()))
    pagination = db.paginate(q, page=_page_number(), per_page=PER_PAGE, error_out=False, count=True)
    rows = []
    for c in pagination.items:
        name = c.activity.name if c.activity else None
        rows.append({"worked_on": c.worked_on, "what": name or c.description or "Other work",
                     "detail": c.description if name and c.description else None, "role": c.role,
                     "hours": _hours(c.hours),
                     "preparation": _hours(c.preparation_hours) if c.preparation_hours else None,
                     "value": format_money(c.value_owed)})
    return _render("me/contributions.html", person, preview, rows=rows, pagination=pagination)


def _hours(value) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():f}"
    return f"{text} hour" if Decimal(value) == 1 else f"{text} hours"


@bp.get("/contributions")
@roles_required("contributor")
def contributions():
    return _contributions(_own_person(), False)


@bp.get("/preview/<int:person_id>/contributions")
@roles_required(*PREVIEW_ROLES)
def preview_contributions(person_id: int):
    return _contributions(_preview_person(person_id, "contributions"), True)


# ---- what you were paid --------------------------------------------------------------------

def _paid_how(p: Payment) -> str:
    method = (p.method or "").strip().lower()
    if method in METHOD_WORDS:
        return METHOD_WORDS[method]
    if method and not method.startswith("no money"):
        return f"by {method}"
    return KIND_METHODS.get(p.kind, "")


def payment_story(p: Payment, reversal: Payment | None, original: Payment | None) -> dict:
    """One payment in plain words: what it was, its status, and what happened to it when."""
    what = KIND_WORDS.get(p.kind, p.kind)
    if p.kind == "charity" and p.charity_name:
        what = f"Paid to a charity you chose: {p.charity_name}"
    if p.kind in ("certificate",):
        amount = "No money"
    elif p.kind == "declined":
        amount = format_money(Decimal("0"))
    else:
        amount = format_money(p.amount)
    extra = []
    if p.kind == "declined" and p.amount_offered:
        extra.append(f"You were offered {format_money(p.amount_offered)} and chose not to take it.")
    elif p.kind == "charity" and p.amount_offered and p.amount_offered != p.amount:
        extra.append(f"You were offered {format_money(p.amount_offered)}.")
    elif (p.amount_offered is not None and p.reversal_of_id is None and p.amount_offered > p.amount
          and p.kind not in ("declined", "certificate")):
        extra.append(f"You were offered {format_money(p.amount_offered)} and chose to take less.")
    if p.kind == "training" and p.benefit_value is not None and p.benefit_value != p.amount:
        extra.append(f"The training is worth {format_money(p.benefit_value)}.")

    steps = []
    if p.reversal_of_id:
        status = "Correction"
        steps.append(f"Recorded on {_d(p.created_at)}.")
        if original is not None:
            steps.append(f"This is a correction. It cancels out the payment of {format_money(original.amount)} "
                         f"that reached you on {_d(original.paid_on)}, so the two together count as nothing.")
        else:
            steps.append("This is a correction. It cancels out an earlier payment, so the two together count "
                         "as nothing.")
        if p.reason:
            steps.append(f"Reason given: {p.reason}")
        return {"id": p.id, "what": what, "amount": amount, "status": status, "steps": steps, "extra": extra,
                "paid_on": p.paid_on, "counts": True, "kind": p.kind}

    steps.append(f"Recorded on {_d(p.created_at)}.")
    if p.approved_at:
        steps.append(f"Approved on {_d(p.approved_at)}.")
    counts = True
    if p.status == "draft":
        status = "Planned"
        steps.append(f"Waiting to be approved. Planned to reach you on {_d(p.paid_on)}.")
    elif p.status == "approved":
        status = "Approved, not paid yet"
        steps.append(f"Planned to reach you on {_d(p.paid_on)}.")
    elif p.status == "paid":
        status = "Paid"
        if p.kind == "certificate":
            steps.append(f"Certificate given on {_d(p.paid_on)}.")
        elif p.kind == "declined":
            steps.append(f"Closed on {_d(p.paid_on)}: you chose not to be paid.")
        else:
            how = _paid_how(p)
            line = f"Paid on {_d(p.paid_on)}" + (f" {how}" if how else "")
            if p.reference:
                line += f" (reference {p.reference})"
            steps.append(line + ".")
    else:  # cancelled
        status = "Cancelled"
        counts = False
        when = f" on {_d(p.cancelled_at)}" if p.cancelled_at else ""
        steps.append(f"Cancelled{when}. This payment will not be made, and it does not count towards any "
                     f"benefit limit.")
        if p.reason:
            steps.append(f"Reason given: {p.reason}")
    if reversal is not None:
        status = "Paid, then corrected"
        counts = False
        steps.append(f"Corrected on {_d(reversal.created_at)}. A matching correction of "
                     f"{format_money(reversal.amount)} cancels it out in our records, so it no longer counts "
                     f"towards any benefit limit.")
        if reversal.reason:
            steps.append(f"Reason given: {reversal.reason}")
    return {"id": p.id, "what": what, "amount": amount, "status": status, "steps": steps, "extra": extra,
            "paid_on": p.paid_on, "counts": counts, "kind": p.kind}


def _payments(person: Person, preview: bool):
    q = (sa.select(Payment).where(Payment.person_id == person.id)
         .order_by(Payment.paid_on.desc(), Payment.id.desc()))
    pagination = db.paginate(q, page=_page_number(), per_page=PER_PAGE, error_out=False, count=True)
    items = list(pagination.items)
    ids = [p.id for p in items]
    reversals = {r.reversal_of_id: r for r in db.session.scalars(
        sa.select(Payment).where(Payment.reversal_of_id.in_(ids)))} if ids else {}
    original_ids = [p.reversal_of_id for p in items if p.reversal_of_id]
    originals = {o.id: o for o in db.session.scalars(
        sa.select(Payment).where(Payment.id.in_(original_ids)))} if original_ids else {}
    stories = [payment_story(p, reversals.get(p.id), originals.get(p.reversal_of_id)) for p in items]
    return _render("me/payments.html", person, preview, stories=stories, pagination=pagination)


@bp.get("/payments")
@roles_required("contributor")
def payments():
    return _payments(_own_person(), False)


@bp.get("/preview/<int:person_id>/payments")
@roles_required(*PREVIEW_ROLES)
def preview_payments(person_id: int):
    return _payments(_preview_person(person_id, "payments"), True)


# ---- where you stand -----------------------------------------------------------------------

def _figure(measure: str, value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format_money(value) if measure == "earnings" else _hours(value)


def verdict_view(v) -> dict:
    """One verdict in plain words for the contributor."""
    over_by = None
    headroom = None
    if v.headroom is not None and not v.is_taper:
        if v.headroom < 0:
            over_by = _figure(v.measure, -v.headroom)
        else:
            headroom = _figure(v.measure, v.headroom)
    return {
        "title": v.title,
        "benefit": v.benefit,
        "period": f"{_d(v.period_start)} to {_d(v.period_end)}",
        "period_start": v.period_start,
        "period_end": v.period_end,
        "measure": v.measure,
        "total": _figure(v.measure, v.total_after),
        "limit": _figure(v.measure, v.limit),
        "headroom": headroom,
        "over_by": over_by,
        "status": v.status,
        "status_word": STATUS_WORDS.get(v.status, v.status),
        "unverified": v.confidence == "unconfirmed",
        "derived": v.confidence == "derived",
        "is_taper": v.is_taper,
        "reduction": format_money(v.estimated_reduction) if v.is_taper and v.estimated_reduction else None,
        "notes": list(v.notes),
        "source": v.source if (v.source or "").startswith(("https://", "http://")) else None,
    }


def group_verdicts(verdicts) -> list[dict]:
    groups: OrderedDict = OrderedDict()
    order = {code: i for i, code in enumerate(("UC", "ESA", "CA", "CSP", "JSA", "HB", "PC", "PIP", "ADP", "TAX"))}
    for v in sorted(verdicts, key=lambda v: (order.get(v.benefit, 99), v.title)):
        if v.benefit not in groups:
            name = BENEFIT_HEADINGS.get(v.benefit) or (BENEFITS[v.benefit].name if v.benefit in BENEFITS
                                                       else v.benefit)
            groups[v.benefit] = {"code": v.benefit, "name": name, "verdicts": []}
        groups[v.benefit]["verdicts"].append(verdict_view(v))
    return list(groups.values())


def _position(person: Person, preview: bool):
    form = PositionDateForm(request.args)
    status = 200
    on = today()
    if request.args.get("on") is not None and not form.validate():
        status = 422
    elif form.on.data is not None:
        on = form.on.data
    if not preview:
        _view_own_benefits(person, "where you stand page")
    groups = group_verdicts(checks.position(person.id, on))
    has_claims = any(g["code"] != "TAX" for g in groups)
    planned = db.session.scalar(sa.select(sa.func.count(Payment.id)).where(
        Payment.person_id == person.id, Payment.status.in_(("draft", "approved"))))
    return _render("me/position.html", person, preview, form=form, on=on, groups=groups, has_claims=has_claims,
                   planned_count=planned, notice=checks.NOTICE,
                   has_consent=person.consent is not None), status


@bp.get("/position")
@roles_required("contributor")
def position():
    return _position(_own_person(), False)


@bp.get("/preview/<int:person_id>/position")
@roles_required(*PREVIEW_ROLES)
def preview_position(person_id: int):
    return _position(_preview_person(person_id, "where you stand"), True)


# ---- what we hold about you ----------------------------------------------------------------

def _data(person: Person, preview: bool):
    if not preview:
        _view_own_benefits(person, "what we hold about you page")
    held = export.counts(person)
    categories = [{"key": key, "title": title, "description": description, "count": held.get(key, 0)}
                  for key, title, description in export.CATEGORIES]
    return _render("me/data.html", person, preview, categories=categories, claims=list(person.claims),
                   benefits=BENEFITS)


@bp.get("/data")
@roles_required("contributor")
def data():
    return _data(_own_person(), False)


@bp.get("/preview/<int:person_id>/data")
@roles_required(*PREVIEW_ROLES)
def preview_data(person_id: int):
    return _data(_preview_person(person_id, "what we hold"), True)


@bp.get("/data.zip")
@roles_required("contributor")
def data_zip():
    person = _own_person()
    now = utcnow()
    body = export.build_zip(person, exported_at=now, organisation=current_app.config["ORGANISATION_NAME"])
    people.view_benefits(person, actor=current_user, where="data download")
    audit.record(current_user, "data.exported", person, person_id=person.id,
                 after={"format_version": export.FORMAT_VERSION, "size_bytes": len(body)})
    db.session.commit()
    resp = current_app.response_class(body, mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="your-data-{now.date().isoformat()}.zip"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
