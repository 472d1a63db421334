"""The partner's earnings page in a real browser: a coordinator records a partner's earnings, sees
the error summary for a bad amount, and the list. axe-core must report no serious or critical
violation, on a phone's width."""

from __future__ import annotations

from tests.browser.conftest import assert_accessible, fill_date, sign_in

EMAIL = "coordinator.household@example.org"


def test_partner_earnings_page(page, live_app, make_person, make_user):
    app, base = live_app
    person = make_person("Robin Couple")
    make_user("coordinator", email=EMAIL)
    sign_in(page, base, EMAIL)

    page.goto(f"{base}/people/{person}")
    page.get_by_role("link", name="See or record the partner's earnings").click()
    assert_accessible(page, "the partner's earnings page, empty")
    page.get_by_label("Amount, in pounds").fill("0")
    fill_date(page, "Date the partner received it", "2025-06-02")
    page.get_by_role("button", name="Record the earnings").click()
    assert "Enter an amount above 0.00." in page.get_by_role("alert").inner_text()
    assert_accessible(page, "the partner's earnings page with an error")
    page.get_by_label("Amount, in pounds").fill("450.00")
    page.get_by_role("button", name="Record the earnings").click()
    assert page.get_by_role("rowheader", name="2 June 2025").is_visible()
    assert_accessible(page, "the partner's earnings page with an entry")
