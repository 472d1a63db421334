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


def test_search_box_is_styled_like_the_other_inputs_with_a_44px_target(page, live_app, make_user):
    """The people search is a real text box (WCAG 2.5.8 target size, the same border as other inputs),
    on a phone as on a desktop."""
    _, base = live_app
    make_user("coordinator", email="search@example.org")
    sign_in(page, base, "search@example.org")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(base + "/people/")
        box = page.locator("input[type=search]").first
        size = box.bounding_box()
        assert size is not None and size["height"] >= 44 and size["width"] >= 200, (width, size)
        assert box.evaluate("e => getComputedStyle(e).borderTopWidth") == "2px"
