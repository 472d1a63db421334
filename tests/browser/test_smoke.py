"""The sign-in page in a real browser: it works by keyboard and axe finds nothing serious."""

from tests.browser.conftest import axe_serious, sign_in


def test_sign_in_page_by_keyboard(page, live_app, make_user):
    app, base = live_app
    uid = make_user("coordinator", email="kb@example.org")
    assert uid
    page.goto(base + "/sign-in")
    assert axe_serious(page) == []
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    sign_in(page, base, "kb@example.org")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    assert axe_serious(page) == []
