"""A coordinator's journey in a real browser (issue 6): the risk dashboard, a person's risk page,
the payment planner, and "Use this plan". axe-core must report no serious or critical violation
on any of these pages.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tests.browser.conftest import assert_accessible, fill_date, sign_in
from tests.builders import payment

EMAIL = "coordinator.journey@example.org"
ADMIN_EMAIL = "admin.journey@example.org"


def _find_a_plan(page, session_on: date) -> None:
    session = page.get_by_role("group", name="Session 1", exact=True)
    fill_date(session, "Date of the session", session_on)
    session.get_by_label("Hours", exact=True).fill("2")
    session.get_by_label("Amount owed, in pounds").fill("50.00")
    page.get_by_role("button", name="Find a plan").click()


NEAR, SOME, NONE = "Nadia Near", "Sam Some", "Olu None"
HEADROOM = Decimal("16.00")
CA = [{"benefit": "CA", "start_on": date(2024, 1, 1), "attributes": {}}]


def _ca_limit(app, person_id: int, on: date) -> Decimal:
    """The Carer's Allowance weekly earnings limit in force on ``on`` (£196 in 2025-26, £204 from
    April 2026), read from the loaded rule pack so the test follows the calendar."""
    from tracker.rules import checks

    with app.app_context():
        verdicts = [v for v in checks.position(person_id, on) if v.family == "CA_EARN"]
    assert verdicts, "no Carer's Allowance earnings rule is in force today"
    return verdicts[0].limit


def _people(app, make_person) -> dict:
    """Three carers: one £16 short of this week's limit (£180 when the limit is £196), one with a
    little paid, one with nothing. Payments are received today, so they count this week."""
    from tracker.extensions import db

    on = date.today()
    near = make_person(NEAR, claims=CA, preferences=[{"kind": "cash", "note": ""}])
    some = make_person(SOME, claims=CA)
    make_person(NONE, claims=CA)
    limit = _ca_limit(app, near, on)
    paid = limit - HEADROOM
    assert paid >= limit * Decimal("0.9"), "the near person would not be close to the limit"
    with app.app_context():
        payment(near, paid - Decimal("60.00"), on)
        payment(near, "60.00", on, kind="bank_transfer")
        payment(some, "40.00", on)
        db.session.commit()
    return {"near": near, "some": some, "limit": limit, "paid": paid, "on": on}


def _drafts(app, person_id: int) -> list:
    from tracker.extensions import db
    from tracker.payments.models import Payment

    with app.app_context():
        rows = db.session.scalars(
            sa.select(Payment).where(Payment.person_id == person_id, Payment.status == "draft")
        ).all()
        out = [(p.kind, p.amount, p.paid_on) for p in rows]
        db.session.remove()
        return out


def test_coordinator_dashboard_person_plan_and_use_it(page, live_app, rules, make_person, make_user):
    from tracker.money import format_money
    from tracker.rules.checks import NOTICE

    app, base = live_app
    s = _people(app, make_person)
    make_user("coordinator", email=EMAIL)

    # ---- the dashboard: the near person first, with the rule and the room left -----------------
    sign_in(page, base, EMAIL)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Risks").click()
    page.wait_for_url(re.compile(r"/risks/?$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Benefit rule risks"
    table = page.get_by_role("table", name=re.compile(r"least room left first"))
    rows = table.locator("tbody tr[data-person-id]")
    assert rows.count() == 3, table.inner_text()
    first = rows.first
    assert first.get_by_role("rowheader").inner_text().startswith(NEAR), table.inner_text()
    cells = {c.get_attribute("data-label"): " ".join(c.inner_text().split()) for c in first.get_by_role("cell").all()}
    assert cells["Closest benefit rule"].startswith("Carer's Allowance earnings limit"), cells
    assert cells["Room left"].startswith(format_money(HEADROOM)), cells
    assert "of the limit left" in cells["Room left"], cells
    assert cells["What it costs"] == "Close to the limit", cells
    # under the row: what it means, with the total against the limit and what was paid
    explanation = " ".join(table.locator("tr.row-explanation").first.inner_text().split())
    assert f"against a limit of {format_money(s['limit'])} ({format_money(s['paid'])} paid" in explanation
    order = [" ".join(r.get_by_role("rowheader").text_content().split()) for r in rows.all()]
    assert order == [f"{n}, risk page" for n in (NEAR, SOME, NONE)], order
    assert_accessible(page, "the risk dashboard")

    # ---- the person's risk page: an SVG chart with a title, and the same figures as a table ----
    first.get_by_role("link", name=re.compile(rf"^{NEAR}\s*, risk page$")).click()
    page.wait_for_url(f"**/risks/people/{s['near']}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Benefit rule risks for {NEAR}"
    svg = page.locator("svg.chart-svg").first
    assert svg.get_attribute("role") == "img"
    title = svg.locator("title")
    assert title.count() == 1
    assert title.text_content().startswith("Carer's Allowance earnings limit"), title.text_content()
    assert svg.get_attribute("aria-labelledby").split()[0] == title.get_attribute("id")
    chart_table = page.get_by_role("table", name=re.compile(r"^Figures for the chart: Carer's Allowance"))
    assert chart_table.is_visible()
    assert "(this week)" in chart_table.inner_text()
    today_table = page.get_by_role("table", name=re.compile(rf"^Each benefit rule for {NEAR}"))
    assert "Close to the limit" in today_table.inner_text()
    assert_accessible(page, f"{NEAR}'s risk page")

    # ---- the planner: one session next week -------------------------------------------------------
    page.get_by_role("link", name="Plan payments for upcoming sessions").click()
    page.wait_for_url(f"**/risks/people/{s['near']}/plan")
    assert page.get_by_role("heading", level=1).inner_text() == f"Plan payments for {NEAR}"
    assert_accessible(page, "the planner, before a plan")
    _find_a_plan(page, s["on"] + timedelta(days=7))

    plans = page.get_by_role("region", name="Plans that keep every rule within its limit")
    plans.wait_for()
    assert plans.locator("p.notice").inner_text().strip(), "the planner's message is missing"
    assert "Total owed for the sessions: £50.00." in plans.inner_text()
    proposal = plans.get_by_role("group", name=re.compile(r"^Plan 1: ")).first
    explanation = proposal.locator("h3 + p")
    assert explanation.inner_text().strip(), "the plan has no explanation"
    assert proposal.get_by_role("table", name="Payments in plan 1").is_visible()
    assert " ".join(page.locator("main p.notice.safeguard").inner_text().split()) == NOTICE
    assert_accessible(page, "the planner with its proposals")

    # ---- the coordinator plans; recording the plan's payments is finance's (an admin here) ----------
    assert proposal.get_by_role("button", name=re.compile(r"^Use this plan")).count() == 0
    assert "Recording payments is finance" in proposal.inner_text()
    make_user("admin", email=ADMIN_EMAIL)
    page.context.clear_cookies()
    sign_in(page, base, ADMIN_EMAIL)
    page.goto(f"{base}/risks/people/{s['near']}/plan")
    _find_a_plan(page, s["on"] + timedelta(days=7))
    plans = page.get_by_role("region", name="Plans that keep every rule within its limit")
    plans.wait_for()
    proposal = plans.get_by_role("group", name=re.compile(r"^Plan 1: ")).first

    # ---- use the plan -----------------------------------------------------------------------------
    assert _drafts(app, s["near"]) == []
    proposal.get_by_role("button", name=re.compile(r"^Use this plan")).click()
    page.wait_for_url(f"**/risks/people/{s['near']}")
    flash = page.get_by_role("status").inner_text()
    assert flash.startswith(f"Recorded 1 draft payment for {NEAR} from the plan: £50.00"), flash
    assert "Someone in finance must approve it before it is paid." in flash
    drafts = _drafts(app, s["near"])
    assert len(drafts) == 1 and drafts[0][1] == Decimal("50.00"), drafts
    assert drafts[0][2] >= s["on"], drafts
    assert_accessible(page, f"{NEAR}'s risk page after using the plan")
