"""The contributor's answer first, on a phone (390 × 844), and the GOV.UK date input.

"Your space" and "Where you stand" open with one sentence per benefit, in the second person, with
planned money said beside paid money; that answer is above the fold on a phone, and the safeguard
notice comes after it. The date on "Where you stand" is three boxes (Day, Month, Year) under a
legend with the hint "For example, 27 3 2025"; a wrong date gets a GOV.UK error summary whose link
puts the cursor in the first wrong box. axe-core finds no serious or critical violation on any page.
"""

from __future__ import annotations

import re
from datetime import timedelta

from tests.browser.conftest import assert_accessible, fill_date, sign_in
from tests.builders import payment

EMAIL = "answer.first@example.org"
FOLD = 844
#: The weekly limit is this tax year's figure, whichever it is.
OVER = re.compile(r"you are £\d+\.\d\d over the £\d+\.\d\d limit\.$")


def _carer(app, make_person, make_user) -> int:
    from tracker.extensions import db
    from tracker.timeutil import today

    pid = make_person(
        "Ada Answer", claims=[{"benefit": "CA", "start_on": today() - timedelta(days=400), "attributes": {}}]
    )
    with app.app_context():
        payment(pid, "100.00", today())
        payment(pid, "150.00", today(), status="approved")  # planned: it takes her over the weekly limit
        db.session.commit()
    make_user("contributor", email=EMAIL, person_id=pid)
    return pid


def _answer_above_the_fold(page, where: str) -> str:
    main = page.get_by_role("main")
    first = main.locator("h1 ~ *").first  # the first thing after the heading is the answer
    assert first.evaluate("el => el.matches('ul.answers')"), f"{where}: the answer does not come first"
    answer = first.get_by_role("listitem").first
    box = answer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= FOLD, f"{where}: the answer ends at {box} (fold {FOLD})"
    notice = main.locator(".notice.safeguard")
    assert notice.bounding_box()["y"] > box["y"], f"{where}: the safeguard notice should come after the answer"
    return answer.inner_text()


def test_the_answer_is_first_and_above_the_fold_on_a_phone(page, live_app, rules, make_person, make_user):
    app, base = live_app
    _carer(app, make_person, make_user)
    assert page.viewport_size == {"width": 390, "height": 844}
    sign_in(page, base, EMAIL)

    page.goto(base + "/me/")
    text = _answer_above_the_fold(page, "Your space")
    assert text.startswith("Your Carer's Allowance: for ") and "£100.00 paid and £150.00 planned" in text
    assert OVER.search(text), text
    assert "Paid to you this tax year £100.00, and £150.00 planned: together £250.00" in (
        " ".join(page.get_by_role("main").inner_text().split())
    )
    assert_accessible(page, "Your space, with the answer first")

    page.get_by_role("link", name="Where you stand this period").click()
    page.wait_for_url("**/me/position")
    text = _answer_above_the_fold(page, "Where you stand")
    assert OVER.search(text), text
    # Only checked rules show; any not verified or only for information are folded away.
    for details in page.locator("main details.more-rules").all():
        assert details.get_attribute("open") is None
    assert_accessible(page, "Where you stand, with the answer first")


def test_the_date_is_three_boxes_with_gov_uk_errors(page, live_app, rules, make_person, make_user):
    app, base = live_app
    _carer(app, make_person, make_user)
    sign_in(page, base, EMAIL)
    page.goto(base + "/me/position")

    group = page.get_by_role("group", name="Show the period that includes this date")
    assert "For example, 27 3 2025" in group.inner_text()
    for label in ("Day", "Month", "Year"):
        box = group.get_by_label(label, exact=True)
        assert box.get_attribute("inputmode") == "numeric" and box.get_attribute("type") == "text"

    # A date that does not exist: the summary says so and its link puts the cursor in the first box.
    group.get_by_label("Day", exact=True).fill("30")
    group.get_by_label("Month", exact=True).fill("2")
    group.get_by_label("Year", exact=True).fill("2025")
    page.get_by_role("button", name="Show this date").click()
    page.wait_for_url(re.compile(r"on-day=30"))
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    summary.get_by_role("link", name="The date must be a real date").click()
    assert page.evaluate("document.activeElement.id") == "on-day"
    assert " ".join(page.locator("#on-error").inner_text().split()) == "Error: The date must be a real date"
    assert_accessible(page, "Where you stand, with a date error")

    # A month left out is named.
    fill_date(page, "Show the period that includes this date", "2025-04-10")
    page.get_by_role("group", name="Show the period that includes this date").get_by_label("Month", exact=True).fill("")
    page.get_by_role("button", name="Show this date").click()
    page.get_by_role("link", name="The date must include a month").click()
    assert page.evaluate("document.activeElement.id") == "on-month"

    # A real date, with the month typed by name: the page shows it, written out.
    group = page.get_by_role("group", name="Show the period that includes this date")
    group.get_by_label("Month", exact=True).fill("April")
    page.get_by_role("button", name="Show this date").click()
    page.wait_for_url(re.compile(r"on-month=April"))
    assert "Showing the periods that include 10 April 2025" in page.get_by_role("main").inner_text()
    assert page.get_by_role("alert").count() == 0
    assert_accessible(page, "Where you stand on 10 April 2025")
