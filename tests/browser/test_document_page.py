"""A statement as a web page (issue 16, item 5) and its easy-read version (item 4), in a real
browser: reached from the contributor's list, and no serious or critical axe-core violation."""

from __future__ import annotations

import re
from datetime import date

from tests.browser.conftest import assert_accessible, sign_in
from tests.builders import activity, contribution, payment

EMAIL = "olu@example.org"


def test_a_statement_web_page_and_its_easy_read_version_are_accessible(page, live_app, rules, make_person, make_user):
    from tasks.documents import render_document
    from tracker.documents import service
    from tracker.extensions import db
    from tracker.people.models import Person

    app, base = live_app
    pid = make_person("Olúwaṣeun Adé")
    with app.app_context():
        contribution(pid, date(2025, 4, 14), "3", activity=activity("Lived experience panel"))
        payment(pid, "120.00", date(2025, 4, 16), due_on=date(2025, 4, 14))
        doc, _ = service.request_document(
            db.session.get_one(Person, pid), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        render_document(doc.id)  # the worker may make it too: the same bytes, the same file
        doc_id = doc.id
    make_user("contributor", email=EMAIL, person_id=pid)
    sign_in(page, base, EMAIL)

    page.goto(base + "/documents/")
    page.get_by_role("link", name=re.compile(r"^Read it as a web page")).first.click()
    page.wait_for_url(re.compile(rf"/documents/{doc_id}/page$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Statement of contributions and payments"
    table = page.get_by_role("table", name="Payments, by the date received")
    assert table.get_by_role("rowheader", name="16 April 2025").is_visible()
    assert table.get_by_role("columnheader", name="Amount").is_visible()
    assert_accessible(page, "a statement as a web page")

    page.get_by_role("link", name="Read the easy read version").click()
    page.wait_for_url(re.compile(r"format=easy_read"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your money and time"
    assert page.get_by_role("heading", name="Money", exact=True).is_visible()
    assert page.get_by_text("On 16 April 2025 you got £120.00.").is_visible()
    assert_accessible(page, "an easy read statement as a web page")
