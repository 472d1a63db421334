"""Month end as finance in a real browser (issue 14): the owed queue, drafts for 20 people in one
step, bulk approval by a second finance user (the recorder is refused), a payment run, its CSV and
Bacs Standard 18 files, the run marked paid, and the payments list showing them paid. Page loads
from the owed queue to the paid list are counted: 10 or fewer for 20 payments. axe-core must
report no serious or critical violation on any page of the journey.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from tests.browser.conftest import assert_accessible, fill_date, sign_in
from tests.builders import PASSWORD

PEOPLE = 20
MOST_LOADS = 10
RATE = Decimal("20.00")
RECORDER, APPROVER = "finance.recorder@example.org", "finance.approver@example.org"
BACS_RECORD = 100  # a Standard 18 data record; the labels (VOL1, HDR1, ..., UTL1) are 80
LABELS = ("VOL1", "HDR1", "HDR2", "UHL1", "EOF1", "EOF2", "UTL1")


def _claim(n: int) -> dict:
    """Carer's Allowance for even people, Universal Credit with a work allowance for odd ones: a
    month's £20 to £60 keeps either well within its limits."""
    if n % 2:
        return {
            "benefit": "UC",
            "start_on": date(2024, 4, 1),
            "attributes": {
                "ap_start_day": 1,
                "work_allowance": True,
                "housing_element": False,
                "lcw_pending": False,
                "joint_claim": False,
            },
        }
    return {"benefit": "CA", "start_on": date(2024, 1, 1), "attributes": {}}


def _bank(n: int) -> dict:
    return {
        "account_name": f"M PAYEE {n:02d}",
        "sort_code": f"20-{n:02d}-{30 + n:02d}",
        "account_number": f"{40000000 + n * 111:08d}",
    }


def _seed(app, make_person) -> dict[str, dict]:
    """20 people who prefer bank transfers, with bank details (through the service) and 1 to 3
    hours of work at £20.00 three days ago that no payment covers yet."""
    from tracker.contributions import service as contributions
    from tracker.extensions import db
    from tracker.people.models import Person
    from tracker.runs import accounts
    from tracker.timeutil import today, utcnow

    worked_on = today() - timedelta(days=3)
    people = {}
    for n in range(PEOPLE):
        name = f"Month Payee {n:02d}"
        pid = make_person(name, claims=[_claim(n)], preferences=[{"kind": "bank_transfer", "note": ""}])
        hours = 1 + n % 3
        people[name] = {"id": pid, "hours": hours, "owed": RATE * hours, "bank": _bank(n)}
    with app.app_context():
        activity = contributions.create_activity(
            {"name": "Panel", "default_rate": str(RATE), "rate_unit": "hour"}, actor=None
        )
        for p in people.values():
            person = db.session.get(Person, p["id"])
            contributions.record_contribution(
                person, {"activity_id": activity.id, "worked_on": worked_on, "hours": str(p["hours"])}, actor=None
            )
            accounts.save_bank_details(person, accounts.parse_bank_details(p["bank"]), actor=None, now=utcnow())
        db.session.commit()
        db.session.remove()
    return people


def _statuses(app, people: dict) -> dict[str, list[str]]:
    from tracker.extensions import db
    from tracker.payments.models import Payment

    ids = {p["id"]: name for name, p in people.items()}
    with app.app_context():
        rows = db.session.execute(
            sa.select(Payment.person_id, Payment.status, Payment.kind).where(Payment.person_id.in_(ids))
        ).all()
        db.session.remove()
    out: dict[str, list[str]] = {}
    for person_id, status, kind in rows:
        assert kind == "bank_transfer", (ids[person_id], kind)
        out.setdefault(ids[person_id], []).append(status)
    return out


class Loads:
    """Counts documents loaded in the pages it watches (a redirect and the page it lands on are one
    load; a download is none), while it is counting."""

    def __init__(self) -> None:
        self.count = 0
        self.on = False

    def watch(self, page) -> None:
        page.on("load", lambda _: self._seen())

    def _seen(self) -> None:
        if self.on:
            self.count += 1


def _new_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    return context, pg


def _flashes(page) -> str:
    return " ".join(" ".join(t.split()) for t in page.locator(".flashes").all_inner_texts())


def _submit(page, button: str) -> None:
    """Press a form's button and wait for the page it loads."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def _check_all(page, name: str) -> int:
    boxes = page.locator(f'input[type=checkbox][name="{name}"]')
    for box in boxes.all():
        box.check()
    return boxes.count()


def _download(page, link: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    return info.value.path().read_text(encoding="utf-8")


def _check_csv(text: str, people: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == PEOPLE, text
    by_name = {r["Payee name"]: r for r in rows}
    assert set(by_name) == set(people), sorted(by_name)
    for name, p in people.items():
        row = by_name[name]
        assert row["Sort code"] == p["bank"]["sort_code"], row
        assert row["Account number"] == p["bank"]["account_number"], row
        assert Decimal(row["Amount"].replace("£", "").replace(",", "")) == p["owed"], row
        assert row["Reference"].strip(), row


def _check_labels(labels: list[str], pence: int) -> None:
    """The labels in order, 80 characters each; the trailer counts one debit (the contra) and the credits."""
    assert [ln[:4] for ln in labels] == list(LABELS), labels
    assert all(len(ln) == 80 for ln in labels), [len(ln) for ln in labels]
    trailer = labels[-1]
    assert int(trailer[4:17]) == pence and int(trailer[17:30]) == pence, trailer
    assert int(trailer[30:37]) == 1 and int(trailer[37:44]) == PEOPLE, trailer


def _check_bacs(text: str, people: dict) -> None:
    """100-character records, one credit (99) per payment, one contra (17) for the total, then the trailer."""
    lines = text.splitlines()
    records = [ln for ln in lines if ln[:4] not in LABELS]
    assert all(len(ln) == BACS_RECORD for ln in records), [len(ln) for ln in records]
    credits = [r for r in records if r[15:17] == "99"]
    contras = [r for r in records if r[15:17] == "17"]
    assert len(credits) == PEOPLE and len(contras) == 1 and len(records) == PEOPLE + 1, records
    expected = {p["bank"]["sort_code"].replace("-", "") + p["bank"]["account_number"] for p in people.values()}
    assert {r[:14] for r in credits} == expected
    pence = int(_total(people) * 100)
    assert sum(int(r[35:46]) for r in credits) == pence
    assert int(contras[0][35:46]) == pence
    _check_labels([ln for ln in lines if ln[:4] in LABELS], pence)


def _total(people: dict) -> Decimal:
    return sum((p["owed"] for p in people.values()), Decimal("0.00"))


def _payments_table(page, count: int):
    table = page.get_by_role("table", name=re.compile(r"^Payments"))
    assert f"{count} payments" in table.locator("caption").inner_text()
    return table


def _record_drafts(page, app, base: str, people: dict) -> None:
    """A, in the owed queue: every person chosen, drafts recorded in one step."""
    page.goto(base + "/payments/owed")
    assert page.get_by_role("heading", level=1).inner_text() == "Owed, not yet paid"
    queue = page.get_by_role("table", name=re.compile(r"people are owed"))
    assert f"{PEOPLE} people are owed" in queue.locator("caption").inner_text()
    assert queue.locator("tbody tr").count() == PEOPLE
    assert "Blocked" not in queue.inner_text(), queue.inner_text()
    assert queue.inner_text().count("Bank transfer") == PEOPLE, queue.inner_text()
    assert_accessible(page, "the owed queue")
    assert _check_all(page, "person_ids") == PEOPLE
    _submit(page, "Record draft payments for the people chosen")
    flash = _flashes(page)
    assert f"Recorded {PEOPLE} draft payments:" in flash, flash
    assert "Nothing was recorded" not in flash, flash
    assert page.get_by_text("Nothing is owed: every contribution is covered by a payment.").is_visible()
    assert _statuses(app, people) == {name: ["draft"] for name in people}
    assert_accessible(page, "the owed queue after recording")


def _recorder_refused(page, app, base: str, people: dict) -> None:
    """A cannot approve what A recorded: each one refused with the reason, nothing approved."""
    page.goto(base + "/payments/?status=draft")
    assert _check_all(page, "ids") == PEOPLE
    _submit(page, "Approve the chosen drafts")
    flash = _flashes(page)
    assert "Approved" not in flash, flash
    assert flash.count("was not approved: You recorded this payment, so you cannot approve it.") == PEOPLE, flash
    assert _statuses(app, people) == {name: ["draft"] for name in people}
    assert_accessible(page, "the payments list after a refused approval")


def _approve(page, app, base: str, people: dict) -> None:
    """B signs in on the way to the list of drafts, and approves them all."""
    page.goto(base + "/payments/?status=draft")  # signed out: the sign-in page, then back here
    page.get_by_label("Email address").fill(APPROVER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/payments/\?status=draft$"))
    _payments_table(page, PEOPLE)
    assert_accessible(page, "the payments list of drafts")
    assert _check_all(page, "ids") == PEOPLE
    _submit(page, "Approve the chosen drafts")
    flash = _flashes(page)
    assert f"Approved {PEOPLE} payments. They can now be paid." in flash, flash
    assert "not approved" not in flash, flash
    assert _statuses(app, people) == {name: ["approved"] for name in people}


def _make_run(page, base: str, people: dict, day: str) -> None:
    """B makes a run of the approved bank transfers, all chosen already, for ``day``."""
    page.goto(base + "/payment-runs/new")
    assert page.get_by_role("heading", level=1).inner_text() == "Make a payment run"
    boxes = page.locator('input[name="payment_ids"]')
    assert boxes.count() == PEOPLE
    assert all(b.is_checked() for b in boxes.all()), "people with bank details are not chosen already"
    assert_accessible(page, "the new payment run page")
    fill_date(page, "Date the payments arrive", day)
    page.get_by_role("button", name="Make the run").click()
    page.wait_for_url(re.compile(r"/payment-runs/\d+$"))
    flash = _flashes(page)
    assert re.search(rf"Payment run \S+ made: {PEOPLE} payments, £{_total(people):,.2f}\.", flash), flash
    assert_accessible(page, "the payment run page")


def _mark_paid(page, app, base: str, people: dict, day: str) -> None:
    """The run marked paid; the payments list shows the 20 paid."""
    fill_date(page, "Date the payments arrived", day)
    _submit(page, "Mark every payment paid")
    flash = _flashes(page)
    assert re.search(r"Payment run \S+ marked paid\.", flash) and "left the run" not in flash, flash
    assert_accessible(page, "the payment run page, paid")
    page.goto(base + "/payments/?status=paid")
    rows = _payments_table(page, PEOPLE).locator("tbody tr")
    assert rows.count() == PEOPLE
    assert [r.locator('[data-label="Status"]').inner_text() for r in rows.all()] == ["Paid"] * PEOPLE
    assert _statuses(app, people) == {name: ["paid"] for name in people}
    assert_accessible(page, "the payments list of paid payments")


def test_finance_month_end_owed_to_paid(page, browser, live_app, rules, make_person, make_user):
    from tracker.timeutil import today

    app, base = live_app
    people = _seed(app, make_person)
    make_user("finance", email=RECORDER)
    make_user("finance", email=APPROVER)
    day = today().isoformat()
    loads = Loads()
    loads.watch(page)

    sign_in(page, base, RECORDER)
    loads.on = True
    _record_drafts(page, app, base, people)
    loads.on = False
    _recorder_refused(page, app, base, people)  # a check on the side: not counted

    context_b, page_b = _new_page(browser)  # B, a second finance user, in a browser of their own
    try:
        loads.watch(page_b)
        loads.on = True
        _approve(page_b, app, base, people)
        _make_run(page_b, base, people, day)
        # the bank files: downloads are not page loads
        _check_csv(_download(page_b, "Download the CSV file"), people)
        _check_bacs(_download(page_b, "Download the Bacs Standard 18 file"), people)
        _mark_paid(page_b, app, base, people, day)
        loads.on = False
    finally:
        context_b.close()

    print(f"\npage loads from the owed queue to {PEOPLE} payments shown paid: {loads.count}")
    assert loads.count <= MOST_LOADS, f"{loads.count} page loads for {PEOPLE} payments from owed to paid"
