"""The sign-in page in a real browser: it works by keyboard and axe finds nothing serious."""

from tests.browser.conftest import assert_accessible, sign_in


def test_sign_in_page_by_keyboard(page, live_app, make_user):
    _, base = live_app
    uid = make_user("coordinator", email="kb@example.org")
    assert uid
    page.goto(base + "/sign-in")
    assert_accessible(page, "the sign-in page")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    sign_in(page, base, "kb@example.org")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert_accessible(page, "the coordinator's home page")
