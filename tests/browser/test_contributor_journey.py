"""A contributor's journey in a real browser, with a real worker making the statement.

Sign in, change how they want to be paid, read "Where you stand", ask for a statement, watch the
page say it is ready without reloading (tracker/static/progress.js polls status.json and updates
an aria-live region), and download the PDF, by mouse and by keyboard. axe-core must report no
serious or critical violation on any page along the way.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest

from tests.browser.conftest import assert_accessible, fill_date, sign_in
from tests.builders import payment

NAME = "Siobhán Kowalczyk"
EMAIL = "siobhan@example.org"
READY_WITHIN_MS = 60_000


@pytest.fixture(autouse=True)
def _slow_render(monkeypatch):
    """The worker (started by live_app from this environment) waits 3 s before rendering, so the
    "being prepared" state is always there to be seen and checked before the page turns ready."""
    monkeypatch.setenv("DOCUMENT_RENDER_DELAY_SECONDS", "3")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(p.extract_text() or "" for p in PdfReader(BytesIO(data)).pages).split())


def _carer_with_payments(app, make_person, make_user) -> tuple[int, list[date]]:
    from tracker.extensions import db

    pid = make_person(
        NAME,
        preferences=[{"kind": "cash", "note": ""}, {"kind": "bank_transfer", "note": "to my own account"}],
        claims=[{"benefit": "CA", "start_on": date(2024, 1, 1), "attributes": {}}],
    )
    on = date.today()
    paid = [on - timedelta(days=12), on - timedelta(days=5)]
    with app.app_context():
        payment(pid, "45.00", paid[0])
        payment(pid, "62.50", paid[1], kind="bank_transfer")
        db.session.commit()
    make_user("contributor", email=EMAIL, person_id=pid)
    return pid, paid


def test_contributor_preferences_position_and_statement(page, live_app, rules, make_person, make_user):
    app, base = live_app
    pid, paid = _carer_with_payments(app, make_person, make_user)

    # ---- sign in and "Your space" --------------------------------------------------------------
    sign_in(page, base, EMAIL)
    assert page.get_by_role("heading", level=1).inner_text() == f"Hello, {NAME}"
    assert_accessible(page, "the contributor's home page")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your space").click()
    page.wait_for_url(re.compile(r"/me/?$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your space"
    assert NAME in page.get_by_role("main").inner_text()
    assert_accessible(page, "Your space")

    # ---- how they want to be paid: the link a person would follow ------------------------------
    page.get_by_role("link", name="How you want to be paid", exact=True).click()
    page.wait_for_url(f"**/people/{pid}/preferences")
    assert page.get_by_role("heading", level=1).inner_text() == "How you want to be paid"
    assert_accessible(page, "the preferences form")

    # Step 1: tick the ways (each says what it usually means for benefits). It starts as they left it.
    ways = page.get_by_role("group", name="Which ways would you like to be paid?")
    assert ways.get_by_label("Cash", exact=True).is_checked()
    assert ways.get_by_label("Bank transfer", exact=True).is_checked()
    assert not ways.get_by_label("Vouchers", exact=True).is_checked()
    ways.get_by_label("Vouchers", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    assert_accessible(page, "the preferences form, putting the ways in order")

    # Step 2: vouchers first (with a note), then bank transfer, then cash.
    def way(label: str):
        return page.get_by_role("group", name=label, exact=True)

    way("Vouchers").get_by_label("Order").select_option(label="1st")
    way("Vouchers").get_by_label("Anything to add").fill("supermarket vouchers, please")
    way("Bank transfer").get_by_label("Order").select_option(label="2nd")
    way("Bank transfer").get_by_label("Anything to add").fill("to my own account")
    way("Cash").get_by_label("Order").select_option(label="3rd")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"**/people/{pid}")
    assert page.get_by_role("status").inner_text().strip() == "How you want to be paid has been saved."
    prefs = page.get_by_role("region", name="How you want to be paid").get_by_role("listitem").all_inner_texts()
    assert [p.strip() for p in prefs] == [
        "Vouchers: supermarket vouchers, please",
        "Bank transfer: to my own account",
        "Cash",
    ]
    assert_accessible(page, "Your details, after saving the preferences")

    # ---- where they stand ------------------------------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Your space").click()
    page.wait_for_url(re.compile(r"/me/?$"))
    assert "Your first choice: Vouchers (supermarket vouchers, please)." in page.get_by_role("main").inner_text()
    page.get_by_role("link", name="Where you stand this period").click()
    page.wait_for_url("**/me/position")
    from tracker.people.benefits import BENEFITS
    from tracker.rules.checks import NOTICE

    notice = page.locator("main .notice.safeguard")
    assert notice.is_visible()
    assert NOTICE in " ".join(notice.inner_text().split())
    assert "safeguard, not benefits advice" in notice.inner_text()
    ca = page.get_by_role("region", name=BENEFITS["CA"].name)
    assert ca.get_by_role("heading", name="Carer's Allowance earnings limit").is_visible()
    assert_accessible(page, "Where you stand this period")

    # ---- ask for a statement -------------------------------------------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements and certificates").click()
    page.wait_for_url(re.compile(r"/documents/?$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your statements and certificates"
    assert_accessible(page, "Your statements and certificates")
    page.get_by_role("link", name="Ask for a statement or certificate").click()
    page.wait_for_url("**/documents/new")
    assert_accessible(page, "the statement request form")

    start, end = paid[0] - timedelta(days=2), date.today()
    page.get_by_label("What do you need?").select_option("statement")
    page.get_by_role("radio", name="Other dates (enter them below)").check()
    fill_date(page, "Start date", start)
    fill_date(page, "End date", end)
    # A cover letter is the organisation's wording: staff add it, so the person's form has none.
    assert page.get_by_label("Add a cover letter for the Jobcentre").count() == 0
    page.get_by_role("button", name="Ask for it").click()

    # ---- the document page: waiting, then ready, without a reload ------------------------------
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Statement of payments"
    assert "We are making the statement of payments now" in page.get_by_role("status").inner_text()
    region = page.locator("#document-status")
    assert region.get_attribute("aria-live") == "polite"
    status_text = region.locator("[data-status-text]")
    assert status_text.inner_text() == "Being prepared", f"expected the waiting state, got {status_text.inner_text()!r}"
    assert region.get_by_role("link", name="Check again").is_visible()
    assert_accessible(page, "the document page while it is being prepared")

    page.evaluate("window.__notReloaded = true")
    download = region.get_by_role("link", name=re.compile(r"^Download the statement of payments"))
    download.wait_for(state="visible", timeout=READY_WITHIN_MS)
    assert status_text.inner_text() == "Ready"
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded instead of updating itself"
    assert region.get_by_role("link", name="Check again").count() == 0
    assert_accessible(page, "the document page once it is ready")

    # ---- download it, by mouse -----------------------------------------------------------------
    with page.expect_download() as info:
        download.click()
    dl = info.value
    assert dl.failure() is None
    assert dl.suggested_filename.endswith(".pdf"), dl.suggested_filename
    assert dl.suggested_filename == f"statement-{start.isoformat()}-to-{end.isoformat()}.pdf"
    data = Path(dl.path()).read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    text = _pdf_text(data)
    assert NAME in text, text[:500]
    assert "£45.00" in text and "£62.50" in text, text[:1000]

    # ---- and by keyboard: Tab to the link, press Enter -----------------------------------------
    page.get_by_role("heading", level=1).click()  # start from the heading, as a reader would
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('#document-status a')"):
            break
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.startswith("Download the statement of payments"), f"Tab never reached the link ({focused!r})"
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    dl = info.value
    assert dl.suggested_filename.endswith(".pdf")
    assert Path(dl.path()).read_bytes().startswith(b"%PDF")
    assert page.evaluate("window.__notReloaded === true")
