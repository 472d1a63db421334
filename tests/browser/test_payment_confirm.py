"""Reversing a payment in a real browser: the payment page leads to a confirm page that says what
will happen and asks for the reason; nothing is reversed until it is confirmed there. axe-core finds
nothing serious on either page."""

from __future__ import annotations

from tests.browser.conftest import assert_accessible, sign_in
from tests.builders import CA, payment, person, saved


def test_a_confirm_page_comes_before_a_reversal(page, live_app, rules, make_user):
    app, base = live_app
    pid = saved(app, payment, saved(app, person, "Reva Person", claims=[CA]), "50.00", status="paid")
    make_user("finance", email="reverser@example.org")
    sign_in(page, base, "reverser@example.org")
    page.goto(f"{base}/payments/{pid}")
    assert_accessible(page, "the payment page")
    page.get_by_role("link", name="Reverse the payment").click()
    page.wait_for_url(f"{base}/payments/{pid}/reverse")
    assert page.get_by_role("heading", level=1).inner_text() == "Reverse the payment of £50.00 to Reva Person?"
    assert "A reversal of −£50.00 will be recorded as a draft" in page.locator("#what-happens").inner_text()
    assert_accessible(page, "the reversal's confirm page")
    page.get_by_role("button", name="Yes, reverse the payment").click()
    assert "Say why the payment is being reversed" in page.locator(".error-summary").inner_text()
    assert_accessible(page, "the reversal's confirm page with an error")
    page.get_by_label("Reason").fill("paid to the wrong person")
    page.get_by_role("button", name="Yes, reverse the payment").click()
    page.wait_for_url(f"{base}/payments/{pid}")
    assert "A reversal has been recorded as a draft" in page.content()
