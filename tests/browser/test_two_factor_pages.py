"""Setting up a second factor and signing in with it, in a real browser: every page passes axe-core
and reflows on a phone; the code field is labelled and asks phones for a number pad."""

import re
import time

import pyotp

from tests.browser.conftest import assert_accessible, sign_in
from tests.builders import PASSWORD


def test_set_up_and_sign_in_with_a_code(page, live_app, make_user):
    _, base = live_app
    make_user("coordinator", email="two-factor@example.org")
    sign_in(page, base, "two-factor@example.org")
    page.get_by_role("link", name="Second factor").click()
    assert page.get_by_role("img", name="QR code to scan with your authenticator app").is_visible()
    assert_accessible(page, "the set-up page")
    secret = page.locator("#setup-key").inner_text().replace(" ", "")
    field = page.get_by_label("Code from your authenticator app")
    assert field.get_attribute("autocomplete") == "one-time-code" and field.get_attribute("inputmode") == "numeric"
    field.fill("000000")
    page.get_by_role("button", name="Confirm and turn on").click()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert_accessible(page, "the set-up page with an error")
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and turn on").click()
    assert page.get_by_role("heading", name="Save your recovery codes now").is_visible()
    assert len(re.findall(r"[a-z2-9]{5}-[a-z2-9]{5}", page.locator(".recovery-codes").inner_text())) == 10
    assert_accessible(page, "the recovery codes")

    page.get_by_role("button", name="Sign out").click()
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill("two-factor@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/sign-in/code")
    assert_accessible(page, "the code step")
    page.get_by_role("link", name="Use a recovery code instead").click()
    assert_accessible(page, "the recovery-code step")
    page.get_by_role("link", name="Use a code from your authenticator app instead").click()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
