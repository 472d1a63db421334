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

from collections.abc import Callable
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker import pages
from tracker.auth.access import roles_required, visible_person_or_404
from tracker.contributions.models import Contribution
from tracker.documents.models import Document
from tracker.earnings.sources import words_for
from tracker.engine import periods
from tracker.extensions import db
from tracker.me import bp, export
from tracker.me.forms import PositionDateForm
from tracker.me.presenters import answers, categories, contribution_row, group_verdicts, payment_story
from tracker.money import sum_column
from tracker.payments.models import Payment
from tracker.people import service as people
from tracker.people.models import Person
from tracker.rules import checks
from tracker.timeutil import today, utcnow
from tracker.vocab import BENEFIT_INFO, BENEFIT_INFO_ROLES, MAX_ID, MAX_PAGE

PER_PAGE = 25
#: Payments planned (approved or draft, not paid yet); an import waiting for approval is not a plan.
PLANNED = sa.and_(Payment.status.in_(("draft", "approved")), Payment.import_batch_id.is_(None))


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
    pages.keep_audit()
    return person


def _view_own_benefits(person: Person, where: str) -> None:
    people.view_benefits(person, actor=current_user, where=where)
    pages.keep_audit()


def _links(person: Person, preview: bool):
    def me_url(name: str, **kwargs) -> str:
        if preview:
            endpoint = "me.preview" if name == "index" else f"me.preview_{name}"
            return url_for(endpoint, person_id=person.id, **kwargs)
        return url_for(f"me.{name}", **kwargs)

    return me_url


def _render(template: str, person: Person, preview: bool, **ctx):
    return render_template(
        template, person=person, preview=preview, me_url=_links(person, preview), today=today(), **ctx
    )


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)
    return min(max(page or 1, 1), MAX_PAGE)


def _planned_count(person: Person) -> int:
    return db.session.execute(
        sa.select(sa.func.count(Payment.id)).where(Payment.person_id == person.id, PLANNED)
    ).scalar_one()


def _pages(name: str, build: Callable[[Person, bool], ResponseReturnValue], where: str) -> None:
    """Add a contributor's own page (GET /me/<name>, endpoint me.<name>) and the staff preview of it
    (GET /me/preview/<person_id>/<name>, endpoint me.preview_<name>). The summary is "index"."""
    path, preview_endpoint = ("", "preview") if name == "index" else (f"/{name}", f"preview_{name}")

    def own() -> ResponseReturnValue:
        return build(_own_person(), False)

    def preview(person_id: int) -> ResponseReturnValue:
        return build(_preview_person(person_id, where), True)

    bp.add_url_rule(path or "/", name, roles_required("contributor")(own), methods=["GET"])
    # The preview shows benefit information, so only those who look after people may use it.
    bp.add_url_rule(
        f"/preview/<int:person_id>{path}",
        preview_endpoint,
        roles_required(*BENEFIT_INFO_ROLES)(preview),
        methods=["GET"],
    )


# ---- the summary ---------------------------------------------------------------------------


def _tax_year_total(person: Person, start, end, which) -> Decimal:
    total = db.session.scalar(
        sa.select(sum_column(Payment.amount)).where(
            Payment.person_id == person.id, which, Payment.paid_on.between(start, end)
        )
    )
    return total or Decimal("0")


def _answers(person: Person, on, preview: bool, where: str) -> tuple[list, list[dict]]:
    """The position on ``on`` and one sentence per benefit, planned payments included; the view of
    benefit information is audited (the preview audits its own)."""
    if not preview:
        _view_own_benefits(person, where)
    verdicts, paid = checks.position_and_paid(person.id, on)
    return verdicts, answers(verdicts, paid)


def _summary(person: Person, preview: bool):
    on = today()
    start, end = periods.window("tax_year", on)
    paid = _tax_year_total(person, start, end, Payment.status == "paid")
    planned = _tax_year_total(person, start, end, PLANNED)
    _, said = _answers(person, on, preview, "summary page")
    contributions = db.session.scalar(
        sa.select(sa.func.count(Contribution.id)).where(Contribution.person_id == person.id)
    )
    ready = db.session.scalar(
        sa.select(sa.func.count(Document.id)).where(Document.person_id == person.id, Document.status == "ready")
    )
    return _render(
        "me/index.html",
        person,
        preview,
        tax_year=(start, end),
        paid_this_year=paid,
        planned_this_year=planned,
        answers=said,
        first_choice=person.preferences[0] if person.preferences else None,
        contribution_count=contributions,
        planned_count=_planned_count(person),
        ready_count=ready,
    )


_pages("index", _summary, "summary")


# ---- what you did --------------------------------------------------------------------------


def _contributions(person: Person, preview: bool):
    q = (
        sa.select(Contribution)
        .options(so.selectinload(Contribution.activity))
        .where(Contribution.person_id == person.id)
        .order_by(Contribution.worked_on.desc(), Contribution.id.desc())
    )
    pagination = db.paginate(q, page=_page_number(), per_page=PER_PAGE, error_out=False, count=True)
    rows = [contribution_row(c) for c in pagination.items]
    return _render("me/contributions.html", person, preview, rows=rows, pagination=pagination)


_pages("contributions", _contributions, "contributions")


# ---- what you were paid --------------------------------------------------------------------


def _by_id(ids: list[int], column) -> dict:
    """The payments whose ``column`` is one of ``ids``, keyed by that column."""
    if not ids:
        return {}
    return {getattr(p, column.key): p for p in db.session.scalars(sa.select(Payment).where(column.in_(ids)))}


def _payments(person: Person, preview: bool):
    # A reversal entry shows (and corrects its payment) only once a second person has approved it,
    # and so does a payment imported from a file.
    approved = sa.or_(
        sa.and_(Payment.reversal_of_id.is_(None), Payment.import_batch_id.is_(None)), Payment.status == "paid"
    )
    q = (
        sa.select(Payment)
        .where(Payment.person_id == person.id, approved)
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
    )
    pagination = db.paginate(q, page=_page_number(), per_page=PER_PAGE, error_out=False, count=True)
    items = list(pagination.items)
    reversals = {k: r for k, r in _by_id([p.id for p in items], Payment.reversal_of_id).items() if r.status == "paid"}
    originals = _by_id([p.reversal_of_id for p in items if p.reversal_of_id], Payment.id)
    stories = [payment_story(p, reversals.get(p.id), originals.get(p.reversal_of_id)) for p in items]
    return _render("me/payments.html", person, preview, stories=stories, pagination=pagination)


_pages("payments", _payments, "payments")


# ---- where you stand -----------------------------------------------------------------------


def _position(person: Person, preview: bool):
    form = PositionDateForm(request.args)
    status = 200
    on = today()
    if form.on.given and not form.validate():
        status = 422
    elif form.on.data is not None:
        on = form.on.data
    verdicts, said = _answers(person, on, preview, "where you stand page")
    groups = group_verdicts(verdicts)
    from_others = words_for(person.id, verdicts)  # "£120.00 of this came from Northfield Council."
    for v in (v for g in groups for v in g["verdicts"]):
        v["from_others"] = from_others.get((v["title"], v["period_start"], v["period_end"]), [])
    has_claims = any(g["code"] != "TAX" for g in groups)
    return _render(
        "me/position.html",
        person,
        preview,
        form=form,
        on=on,
        answers=said,
        groups=groups,
        has_claims=has_claims,
        planned_count=_planned_count(person),
        has_consent=person.consent is not None,
    ), status


_pages("position", _position, "where you stand")


# ---- what we hold about you ----------------------------------------------------------------


def _data(person: Person, preview: bool):
    if not preview:
        _view_own_benefits(person, "what we hold about you page")
    return _render(
        "me/data.html",
        person,
        preview,
        categories=categories(export.counts(person), export.CATEGORIES),
        claims=list(person.claims),
        benefits=BENEFIT_INFO,
    )


_pages("data", _data, "what we hold")


@bp.get("/data.zip")
@roles_required("contributor")
def data_zip():
    person = _own_person()
    now = utcnow()
    body = export.build_zip(person, exported_at=now, organisation=current_app.config["ORGANISATION_NAME"])
    people.view_benefits(person, actor=current_user, where="data download")
    export.downloaded(person, current_user, len(body))
    pages.keep_audit()
    resp = current_app.response_class(body, mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="your-data-{now.date().isoformat()}.zip"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


from tracker.me import bank  # noqa: E402,F401  (adds the bank details page to this blueprint)
