"""Recording a session and protecting the person's choice, in a real browser (issue 13, items 2 and
10): rows added and removed with JavaScript off, the type-ahead person picker with it on, the
warning after recording what an ESA permitted-work claimant is owed, and the new payment page's
own-choice reason and recorded decline. axe-core must find no violation at all on any page.
"""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from tests.browser.conftest import sign_in
from tests.builders import CA

COORDINATOR = "coordinator.session@example.org"
FINANCE = "finance.choice@example.org"
ESA_LOWER = {"benefit": "ESA", "start_on": date(2024, 1, 1), "attributes": {"permitted_work": "lower"}}


def assert_no_violations(page, where: str) -> None:
    """axe-core finds no violation of any impact, and the page does not scroll sideways on a phone."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response.get("violations", [])
    found = [(v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3]) for v in violations]
    assert found == [], f"axe-core: violations on {where} ({page.url}): {found}"
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where} scrolls sideways: {widths[0]}px on a {widths[1]}px screen"


def _activity(app) -> None:
    from tracker.contributions import service
    from tracker.extensions import db

    with app.app_context():
        service.create_activity({"name": "Panel", "default_rate": "25.00", "rate_unit": "hour"}, actor=None)
        db.session.commit()


def _contributions(app) -> dict[str, str]:
    from tracker.contributions.models import Contribution
    from tracker.extensions import db
    from tracker.people.models import Person

    with app.app_context():
        rows = db.session.execute(sa.select(Person.name, Contribution.hours).join(Contribution.person)).all()
        db.session.remove()
        return {name: str(hours) for name, hours in rows}


def _new_page(browser, *, javascript: bool):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=javascript)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    return context, pg


def test_a_session_without_javascript_adds_and_removes_rows(browser, live_app, rules, make_person, make_user):
    app, base = live_app
    _activity(app)
    for name in ("Ann Able", "Ben Brook", "Cat Cole"):
        make_person(name)
    make_user("coordinator", email=COORDINATOR)
    context, page = _new_page(browser, javascript=False)
    try:
        sign_in(page, base, COORDINATOR)
        page.goto(base + "/contributions/session")
        # the picker stays a plain list without JavaScript
        assert page.locator("select[name=person_0]").is_visible()
        page.get_by_label("Activity", exact=True).select_option(label="Panel")
        page.get_by_label("Row 1: person").select_option(label="Ann Able")
        page.get_by_label("Row 1: hours", exact=True).fill("2")
        page.get_by_label("Row 2: person").select_option(label="Cat Cole")
        page.get_by_label("Row 2: hours", exact=True).fill("two")
        page.get_by_role("button", name="Add another person").click()
        assert page.locator("select[name=person_3]").count() == 1
        assert page.get_by_label("Row 1: hours", exact=True).input_value() == "2"
        page.get_by_label("Row 4: person").select_option(label="Ben Brook")
        page.get_by_label("Row 4: hours", exact=True).fill("1.5")
        page.get_by_role("button", name="Record the session").last.click()
        summary = page.locator(".error-summary")
        assert "Row 2, hours: Enter hours as a number, for example 1.5." in summary.inner_text()
        assert "150.00" not in page.content()
        # (axe-core needs JavaScript: the next test checks the same pages with it on)
        page.get_by_role("button", name="Remove row 2").click()
        assert page.locator("select[name=person_3]").count() == 0
        assert page.get_by_label("Row 3: hours", exact=True).input_value() == "1.5"
        page.get_by_role("button", name="Record the session").last.click()
        page.wait_for_url(re.compile(r"/contributions/\?"))
        assert "2 people took part" in page.locator(".flashes").inner_text()
        assert _contributions(app) == {"Ann Able": "2.00", "Ben Brook": "1.50"}
    finally:
        context.close()


def test_a_session_with_the_type_ahead_and_the_owed_warning(page, live_app, rules, make_person, make_user):
    app, base = live_app
    _activity(app)
    make_person("Esa Person", claims=[ESA_LOWER], preferences=[{"kind": "cash"}, {"kind": "voucher"}])
    make_person("Ben Brook")
    make_user("coordinator", email=COORDINATOR)
    sign_in(page, base, COORDINATOR)
    page.goto(base + "/contributions/session")
    assert_no_violations(page, "the session page")
    page.get_by_label("Activity", exact=True).select_option(label="Panel")
    box = page.get_by_label("Row 1: person")
    assert box.evaluate("e => e.tagName") == "INPUT"  # enhanced into a type-ahead box
    box.fill("esa")
    option = page.get_by_role("option", name="Esa Person")
    option.wait_for()
    assert_no_violations(page, "the session page with the type-ahead open")
    option.click()
    assert page.locator("#person_0-select").input_value() != ""
    page.get_by_label("Row 1: hours", exact=True).fill("three")
    page.get_by_role("button", name="Add another person").click()
    assert page.locator("select[name=person_3]").count() == 1
    page.get_by_label("Row 1: hours", exact=True).fill("three")
    page.get_by_role("button", name="Record the session").last.click()
    assert "Row 1, hours: Enter hours as a number, for example 1.5." in page.locator(".error-summary").inner_text()
    assert_no_violations(page, "the session page with an error and the type-ahead")
    assert page.get_by_label("Row 1: person").input_value() == "Esa Person"
    page.get_by_label("Row 1: hours", exact=True).fill("3")
    page.get_by_role("button", name="Record the session").last.click()
    page.wait_for_url(re.compile(r"/contributions/\?"))
    flashes = page.locator(".flashes").inner_text()
    assert "1 person took part" in flashes
    assert "Esa Person is now owed £75.00" in flashes and "(limit £20.00)" in flashes
    assert "Esa Person chose: Cash; then Vouchers" in flashes
    assert_no_violations(page, "the contributions list with the warning")
    assert _contributions(app) == {"Esa Person": "3.00"}


def test_the_new_payment_page_protects_the_persons_choice(page, live_app, rules, make_person, make_user):
    from tracker.contributions import service
    from tracker.extensions import db
    from tracker.people.models import Person

    app, base = live_app
    _activity(app)
    decliner = make_person("Dee Cliner", claims=[CA], preferences=[{"kind": "declined"}, {"kind": "voucher"}])
    carer = make_person("Carl Carer", claims=[CA], preferences=[{"kind": "cash"}])
    with app.app_context():
        for pid in (decliner, carer):
            service.record_contribution(
                db.session.get(Person, pid), {"activity_id": 1, "worked_on": date.today(), "hours": "2"}, actor=None
            )
        db.session.commit()
    make_user("finance", email=FINANCE)
    sign_in(page, base, FINANCE)

    page.goto(base + f"/payments/new?person_id={carer}")
    assert_no_violations(page, "the new payment page")
    options = page.get_by_label("How the person is paid").locator("option").all_inner_texts()
    assert options[1] == "Cash (their choice 1)"
    page.get_by_label("How the person is paid").select_option("bank_transfer")
    page.get_by_role("button", name="Record payment").click()
    assert "Say why you chose “Bank transfer”: Carl Carer chose Cash" in page.locator(".error-summary").inner_text()
    assert_no_violations(page, "the new payment page with the reason missing")
    page.get_by_label("Why pay them in a way they did not choose").fill("Asked for a transfer by phone today.")
    page.get_by_role("button", name="Record payment").click()
    page.wait_for_url(re.compile(r"/payments/\d+$"))

    page.goto(base + f"/payments/new?person_id={decliner}")
    assert "first choice is not to be paid" in page.content()
    assert_no_violations(page, "the new payment page of a person who declines")
    page.get_by_role("button", name="Record a decline").click()
    page.wait_for_url(re.compile(r"/payments/\d+$"))
    assert "Declined" in page.content()
    assert_no_violations(page, "the recorded decline")
