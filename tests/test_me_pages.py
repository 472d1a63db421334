"""The contributor's own pages (/me/...) and the staff preview of them."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.builders import CA, activity, contribution, expense, other_income, partner_earning, payment, saved
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.rules import checks


def _audits(app, action: str, person_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == action, AuditEvent.person_id == person_id
            )
        )


@pytest.fixture
def person(app, rules, make_person):
    """Alex, a carer, with a history of payments in April 2025."""
    pid = make_person("Alex Example", claims=[CA], preferences=[{"kind": "voucher", "note": "supermarket"}])
    with app.app_context():
        act = activity("Service design panel", default_rate="25.00")
        contribution(
            pid,
            date(2025, 4, 2),
            "2.50",
            activity=act,
            preparation_hours=Decimal("0.50"),
            value_owed="75.00",
            role="Panel member",
        )
        payment(
            pid,
            "150.00",
            date(2025, 4, 9),
            kind="bank_transfer",
            method="bank transfer",
            reference="BACS-17",
            created_at=datetime(2025, 4, 3, 10, 0),
            approved_at=datetime(2025, 4, 4, 11, 0),
            paid_at=datetime(2025, 4, 8, 9, 0),
        )
        payment(
            pid,
            "40.00",
            date(2025, 4, 20),
            status="cancelled",
            reason="Session did not happen",
            created_at=datetime(2025, 4, 10, 9, 0),
            cancelled_at=datetime(2025, 4, 12, 9, 0),
        )
        mistaken = payment(
            pid, "33.33", date(2025, 3, 1), kind="voucher", method="voucher", created_at=datetime(2025, 2, 27, 9, 0)
        )
        payment(pid, "20.00", date(2025, 5, 20), status="draft", created_at=datetime(2025, 5, 1, 9, 0))
        payment(
            pid,
            "-33.33",
            date(2025, 3, 1),
            kind="voucher",
            reversal_of=mistaken,
            reason="Paid to the wrong person",
            created_at=datetime(2025, 3, 5, 9, 0),
            paid_at=datetime(2025, 3, 5, 9, 0),
        )
        expense(pid, "12.40", date(2025, 4, 2), date(2025, 4, 3), description="Bus fares", service_user_context="yes")
        other_income(pid, "10.00", date(2025, 4, 1), source="Market stall")
        partner_earning(pid, "250.00", date(2025, 4, 20), note="Partner's wages")
        db.session.commit()
    return pid


@pytest.fixture
def other(app, make_person):
    pid = make_person("Robin Other", claims=[CA])
    saved(app, payment, pid, "987.65", date(2025, 4, 9))
    return pid


PAGES = ["/me/", "/me/contributions", "/me/payments", "/me/position?on=2025-04-10", "/me/data"]


def test_every_page_renders_for_the_owner(client, login, person, other):
    login("contributor", person_id=person)
    for url in PAGES:
        resp = client.get(url)
        assert resp.status_code == 200, url
        page = resp.get_data(as_text=True)
        assert "Robin Other" not in page and "987.65" not in page, url
        assert "You are seeing what" not in page
    index = client.get("/me/").get_data(as_text=True)
    for words in (
        "What you did",
        "What you were paid",
        "How you want to be paid",
        "Your benefit information",
        "Where you stand this period",
        "Your statements and certificates",
        "What we hold about you",
    ):
        assert words in index
    assert f'href="/people/{person}/preferences"' in index
    assert "Your first choice: Vouchers (supermarket)." in index
    assert f'href="/people/{person}#benefits-heading"' in index
    contributions = client.get("/me/contributions").get_data(as_text=True)
    assert "Service design panel" in contributions and "£75.00" in contributions
    assert "2.5 hours" in contributions and "0.5 hours getting ready" in contributions
    # The home page links here too.
    home = client.get("/").get_data(as_text=True)
    assert 'href="/me/"' in home and "Approved, not paid yet" not in home and "Paid" in home


def test_payments_tell_what_happened_in_words(client, login, person):
    login("contributor", person_id=person)
    page = client.get("/me/payments").get_data(as_text=True)
    assert "£150.00" in page and "Bank transfer" in page
    assert "Recorded on 3 April 2025." in page
    assert "Approved on 4 April 2025." in page
    assert "Paid on 9 April 2025 by bank transfer (reference BACS-17)." in page
    assert "Cancelled on 12 April 2025. This payment will not be made" in page
    assert "Reason given: Session did not happen" in page
    assert "Paid, then corrected" in page and "Corrected on 5 March 2025" in page
    assert "It cancels out the payment of £33.33 that reached you on 1 March 2025" in page
    assert "−£33.33" in page
    assert "Waiting to be approved. Planned to reach you on 20 May 2025." in page


def test_lists_are_paginated_and_never_fail_on_odd_page_numbers(app, client, login, person):
    with app.app_context():
        for day in range(1, 31):
            contribution(person, date(2025, 6, day), "1", description=f"Workshop {day}", value_owed="10.00")
        db.session.commit()
    login("contributor", person_id=person)
    first = client.get("/me/contributions").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'href="/me/contributions?page=2"' in first
    second = client.get("/me/contributions?page=2").get_data(as_text=True)
    assert "Service design panel" in second  # the oldest, on the last page
    for page in ("abc", "-3", "0", "99999999999999999999", "1e9"):
        assert client.get(f"/me/contributions?page={page}").status_code == 200
        assert client.get(f"/me/payments?page={page}").status_code == 200


def test_pages_need_a_contributor(client, login, person):
    login("finance")
    for url in PAGES + ["/me/data.zip"]:
        assert client.get(url).status_code == 403, url


def test_position_shows_the_carers_allowance_limit_and_the_notice(app, client, login, make_person, rules):
    pid = make_person("Casey Carer", claims=[CA])
    saved(app, payment, pid, "100.00", date(2025, 4, 9))
    login("contributor", person_id=pid)
    before = _audits(app, "benefits.viewed", pid)
    resp = client.get("/me/position?on=2025-04-10")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert checks.NOTICE in page
    assert "safeguard, not benefits advice" in page and "Citizens Advice" in page
    assert "local welfare rights service" in page
    assert "Carer&#39;s Allowance" in page or "Carer's Allowance" in page
    section = page.split('id="benefit-CA"', 1)[1].split("</section>", 1)[0]
    assert "7 April 2025 to 13 April 2025" in section
    assert "£100.00" in section and "£196.00" in section and "£96.00" in section
    assert "Within the limit" in section
    assert "planned or approved but not paid yet" in page
    assert _audits(app, "benefits.viewed", pid) == before + 1


def test_position_counts_planned_payments_and_says_when_over(app, client, login, make_person, rules):
    pid = make_person("Casey Carer", claims=[CA])
    with app.app_context():
        payment(pid, "100.00", date(2025, 4, 9))
        payment(pid, "150.00", date(2025, 4, 11), status="draft")
        db.session.commit()
    login("contributor", person_id=pid)
    page = client.get("/me/position?on=2025-04-10").get_data(as_text=True)
    section = page.split('id="benefit-CA"', 1)[1].split("</section>", 1)[0]
    assert "£250.00" in section and "Over the limit" in section and "£54.00" in section
    assert "You have 1 planned payment not paid yet" in page
    # The answer comes first after the heading, in the second person, then the safeguard notice.
    main = page.split("<main", 1)[1].split("</main>", 1)[0]
    after_h1 = main.split("</h1>", 1)[1].lstrip()
    assert after_h1.startswith('<ul class="answers"')
    answer = after_h1.split("</ul>", 1)[0]
    assert "Your Carer&#39;s Allowance: for 7 to 13 April 2025, £100.00 paid and £150.00 planned" in answer
    assert "you are £54.00 over the £196.00 limit" in answer
    assert main.index('class="answers"') < main.index("safeguard, not benefits advice")


@pytest.mark.parametrize(
    "query, message, box",
    [
        ("on=not-a-date", "The date must be a real date", "day"),
        ("on=2025-02-30", "The date must be a real date", "day"),
        ("on=9999-12-31", "The date must be between 2000 and 2100", "day"),
        ("on=0001-01-01", "The date must be between 2000 and 2100", "day"),
        ("on-day=30&on-month=2&on-year=2025", "The date must be a real date", "day"),
        ("on-day=7&on-month=&on-year=2025", "The date must include a month", "month"),
        ("on-day=&on-month=4&on-year=", "The date must include a day and year", "day"),
        ("on-day=7&on-month=4&on-year=25", "The date must be a real date", "day"),
        ("on-day=1&on-month=1&on-year=1999", "The date must be between 2000 and 2100", "day"),
    ],
)
def test_position_with_a_bad_date_explains_and_never_fails(client, login, person, query, message, box):
    login("contributor", person_id=person)
    resp = client.get(f"/me/position?{query}")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    # GOV.UK style: the summary links to the first wrong box, and the message is by the field.
    assert "There is a problem" in page and f'<a href="#on-{box}">{message}</a>' in page
    assert f'id="on-error"><span class="visually-hidden">Error:</span> <span>{message}</span>' in page
    assert checks.NOTICE in page


def test_position_takes_the_date_in_three_boxes(client, login, person):
    login("contributor", person_id=person)
    page = client.get("/me/position?on-day=10&on-month=April&on-year=2025").get_data(as_text=True)
    assert "Showing the periods that include <strong>10 April 2025</strong>" in page
    assert 'id="on-day" name="on-day" type="text" inputmode="numeric" autocomplete="off" value="10"' in page
    assert "For example, 27 3 2025. Leave it empty for today." in page
    blank = client.get("/me/position?on-day=&on-month=&on-year=")
    assert blank.status_code == 200


def test_position_without_benefits_says_so(client, login, make_person, rules):
    pid = make_person("No Claims", consent=False)
    login("contributor", person_id=pid)
    page = client.get("/me/position?on=2025-04-10").get_data(as_text=True)
    assert "You have not given consent" in page and "trading allowance" in page
    assert checks.NOTICE in page


def test_data_page_lists_what_is_held_and_audits_the_view(app, client, login, person):
    login("contributor", person_id=person)
    before = _audits(app, "benefits.viewed", person)
    page = client.get("/me/data").get_data(as_text=True)
    for words in (
        "Your details",
        "How you want to be paid",
        "Your consent",
        "Your benefit information",
        "What you did",
        "What you were paid",
        "Expenses paid back to you",
        "Other income you told us about",
        "Your statements and certificates",
        "The record of changes",
        "Carer&#39;s Allowance",
        'href="/me/data.zip"',
    ):
        assert words in page, words
    assert _audits(app, "benefits.viewed", person) == before + 1


def test_data_zip_holds_everything_with_exact_money(app, client, login, person, other):
    login("contributor", person_id=person)
    resp = client.get("/me/data.zip")
    assert resp.status_code == 200
    assert resp.mimetype == "application/zip"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["Cache-Control"] == "no-store"
    zf = zipfile.ZipFile(io.BytesIO(resp.data))
    names = set(zf.namelist())
    assert {
        "your-data.json",
        "read-me.txt",
        "person.csv",
        "preferences.csv",
        "consents.csv",
        "claims.csv",
        "contributions.csv",
        "payments.csv",
        "expenses.csv",
        "other_income.csv",
        "partner_earnings.csv",
        "documents.csv",
        "audit_events.csv",
    } <= names
    data = json.loads(zf.read("your-data.json"))
    assert data["person"]["name"] == "Alex Example"
    amounts = sorted(p["amount"] for p in data["payments"])
    assert amounts == sorted(["150.00", "40.00", "33.33", "-33.33", "20.00"])
    assert all(isinstance(p["amount"], str) for p in data["payments"])
    assert data["claims"][0]["benefit"] == "CA"
    assert data["preferences"][0]["note"] == "supermarket"
    assert data["expenses"][0]["amount"] == "12.40"
    assert data["other_income"][0]["amount"] == "10.00"
    assert (
        data["partner_earnings"][0]["amount"] == "250.00" and data["partner_earnings"][0]["note"] == "Partner's wages"
    )
    assert data["contributions"][0]["hours"] == "2.50" and data["contributions"][0]["value_owed"] == "75.00"
    assert data["consents"][0]["notice_version"] == "v1"
    assert any(e["action"] == "claim.added" for e in data["audit_events"])
    assert "987.65" not in json.dumps(data)  # nobody else's payments
    rows = list(csv.DictReader(io.StringIO(zf.read("payments.csv").decode("utf-8-sig"))))
    by_amount = {r["amount"]: r for r in rows}
    assert set(by_amount) == {"150.00", "40.00", "33.33", "-33.33", "20.00"}
    assert by_amount["150.00"]["paid_on"] == "2025-04-09" and by_amount["150.00"]["status"] == "paid"
    assert by_amount["-33.33"]["reversal_of_id"] == by_amount["33.33"]["id"]
    people_rows = list(csv.DictReader(io.StringIO(zf.read("person.csv").decode("utf-8-sig"))))
    assert people_rows[0]["name"] == "Alex Example"
    assert _audits(app, "data.exported", person) == 1
    assert _audits(app, "benefits.viewed", person) >= 1


def test_csv_cells_never_run_as_formulas():
    from tracker.me.export import to_csv

    out = to_csv([{"a": "=HYPERLINK(1)", "b": "-150.00", "c": "+x", "d": None}], ("a", "b", "c", "d"))
    rows = list(csv.reader(io.StringIO(out.decode("utf-8-sig"))))
    assert rows[1] == ["'=HYPERLINK(1)", "-150.00", "'+x", ""]


# ---- the staff preview ---------------------------------------------------------------------

PREVIEWS = ["", "/contributions", "/payments", "/position?on=2025-04-10", "/data"]


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_staff_preview_shows_what_the_contributor_sees(app, client, login, person, role):
    login(role)
    before = _audits(app, "benefits.viewed", person)
    for suffix in PREVIEWS:
        resp = client.get(f"/me/preview/{person}{suffix}")
        assert resp.status_code == 200, suffix
        page = resp.get_data(as_text=True)
        assert "You are seeing what Alex Example sees" in page
        main = page.split("<main", 1)[1]
        assert 'method="post"' not in main, suffix  # no state-changing buttons
        assert f"/people/{person}/preferences" not in main and "/me/data.zip" not in main
    assert _audits(app, "benefits.viewed", person) == before + len(PREVIEWS)
    payments = client.get(f"/me/preview/{person}/payments").get_data(as_text=True)
    assert "Paid on 9 April 2025 by bank transfer" in payments
    index = client.get(f"/me/preview/{person}").get_data(as_text=True)
    assert f'href="/me/preview/{person}/payments"' in index
    position = client.get(f"/me/preview/{person}/position?on=2025-04-10").get_data(as_text=True)
    assert checks.NOTICE in position and "£196.00" in position


def test_finance_and_contributors_may_not_preview(client, login, person, other):
    login("finance")
    for suffix in PREVIEWS:
        assert client.get(f"/me/preview/{person}{suffix}").status_code == 403, suffix


def test_contributor_may_not_preview_anyone(app, client, login, person, other):
    login("contributor", person_id=person)
    for pid in (person, other):
        for suffix in PREVIEWS:
            assert client.get(f"/me/preview/{pid}{suffix}").status_code == 403
    assert _audits(app, "benefits.viewed", other) == 0


def test_preview_of_nobody_is_404(client, login, rules):
    login("admin")
    assert client.get("/me/preview/999999/payments").status_code == 404
    assert client.get("/me/preview/99999999999999999999999").status_code == 404
