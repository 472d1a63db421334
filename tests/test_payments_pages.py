"""The payment pages: the list, creating a payment from what is owed with the benefit check and its
suggestions, the detail page and its moves, month end, expenses and other income."""

from __future__ import annotations

import re
from datetime import UTC, date
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from tests.builders import date_boxes, payment, saved
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.payments.models import Expense, OtherIncome, Payment
from tracker.rules.checks import NOTICE
from tracker.vocab import MAX_ID


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _audits(app, action: str) -> int:
    return _count(app, AuditEvent, AuditEvent.action == action)


def _payments(app) -> list[Payment]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Payment).order_by(Payment.id)))
        db.session.expunge_all()
        return rows


class Forms(HTMLParser):
    """Every <form> on a page: its action and its inputs (name, value) in order."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "inputs": []})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            self.forms[-1]["inputs"].append((a["name"], a.get("value") or ""))


def suggestion_forms(html: str) -> list[list[tuple[str, str]]]:
    return [f["inputs"] for f in Forms(html).forms if ("action", "suggestion") in f["inputs"]]


@pytest.fixture
def carer_preferences() -> list[dict]:
    """The carer here prefers vouchers (for the supermarket), then cash."""
    return [{"kind": "voucher", "note": "supermarket"}, {"kind": "cash"}]


@pytest.fixture
def owed(app, carer):
    """Two unpaid contributions for the carer: £40.00 and £60.00."""
    from tracker.contributions import service

    with app.app_context():
        from tracker.people.models import Person

        a = service.create_activity({"name": "Panel", "default_rate": "20.00", "rate_unit": "hour"}, actor=None)
        person = db.session.get(Person, carer)
        ids = [
            service.record_contribution(
                person, {"activity_id": a.id, "worked_on": date(2025, 4, d), "hours": h}, actor=None
            ).id
            for d, h in ((1, "2"), (2, "3"))
        ]
        db.session.commit()
        return ids


def pay_form(**kw) -> dict:
    """The new-payment form as a browser posts it: each date in three boxes."""
    data = {"kind": "cash", "amount": "50.00", "paid_on": "2025-04-09", "action": "record"}
    data.update(kw)
    for name in ("paid_on", "due_on", "covers_from", "covers_to"):
        if name in data:
            data.update(date_boxes(name, data.pop(name)))
    return data


def switch_user(client, login, role) -> int:
    """Sign out, then sign a fresh user of this role in on the same client."""
    client.post("/sign-out")
    return login(role)


def _status_of(app, payment_id) -> str:
    with app.app_context():
        return db.session.get(Payment, payment_id).status


# ---- who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_finance_and_admin_see_every_page(app, client, login, carer, role):
    pid = saved(app, payment, carer, status="draft")
    login(role)
    for url in [
        "/payments/",
        "/payments/new",
        f"/payments/new?person_id={carer}",
        f"/payments/{pid}",
        "/payments/month-end",
        "/payments/month-end?month=2025-04",
        "/payments/expenses",
        "/payments/expenses/new",
        f"/payments/expenses/new?person_id={carer}",
        "/payments/other-income/new",
        f"/payments/other-income/new?person_id={carer}",
    ]:
        resp = client.get(url)
        assert resp.status_code == 200, url


def test_coordinators_may_view_but_not_pay(app, client, login, carer):
    pid = saved(app, payment, carer, status="draft")
    login("coordinator")
    for url in [
        "/payments/",
        f"/payments/{pid}",
        "/payments/expenses",
        "/payments/expenses/new",
        "/payments/other-income/new",
    ]:
        assert client.get(url).status_code == 200, url
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "Approve the payment" not in page and "Cancel the payment" not in page
    for url in ["/payments/new", f"/payments/new?person_id={carer}", "/payments/month-end"]:
        assert client.get(url).status_code == 403, url
    for url in [
        f"/payments/new?person_id={carer}",
        f"/payments/{pid}/approve",
        f"/payments/{pid}/pay",
        f"/payments/{pid}/cancel",
        f"/payments/{pid}/reverse",
    ]:
        assert client.post(url, data=pay_form(reason="x")).status_code == 403, url
    assert _status_of(app, pid) == "draft" and _count(app, Payment) == 1


def test_contributors_see_none_of_it(app, client, login, carer):
    pid = saved(app, payment, carer, status="draft")
    login("contributor", person_id=carer)
    for url in [
        "/payments/",
        f"/payments/{pid}",
        "/payments/new",
        "/payments/month-end",
        "/payments/expenses",
        "/payments/expenses/new",
        "/payments/other-income/new",
    ]:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/payments/{pid}/approve").status_code == 403


def test_missing_records_are_404(app, client, login, rules):
    login("finance")
    for url in [
        "/payments/999999",
        "/payments/99999999999999999999999",
        "/payments/new?person_id=999999",
        "/payments/new?person_id=99999999999999999999999",
        "/payments/new?person_id=abc",
        "/payments/expenses/new?person_id=999999",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        "/payments/999999/approve",
        "/payments/999999/pay",
        "/payments/999999/cancel",
        "/payments/999999/reverse",
    ]:
        assert client.post(url, data={}).status_code == 404, url


def test_choosing_a_person_first(app, client, login, carer):
    login("finance")
    page = client.get("/payments/new?q=Carer").get_data(as_text=True)
    assert f'href="/payments/new?person_id={carer}"' in page
    assert client.post("/payments/new", data={}).status_code == 422
    assert _count(app, Payment) == 0


# ---- a new payment: pre-filled from what is owed -----------------------------------------------


def test_new_payment_is_prefilled_from_what_is_owed(app, client, login, carer, owed):
    login("finance")
    page = client.get(f"/payments/new?person_id={carer}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="amount"[^>]*value="100.00"', page), "the amount is what is owed"
    assert '<option selected value="voucher">' in page, "the kind is the person's most preferred"
    for cid in owed:
        assert re.search(
            rf'<input type="checkbox" name="contribution_ids" id="contribution-{cid}" value="{cid}"\s+checked', page
        )
    assert "supermarket" in page and "How Carer Person wants to be paid" in page
    assert 'for="amount"' in page and 'for="kind"' in page and 'for="paid_on-day"' in page
    assert "Check against benefit rules" in page and "Record payment" in page


def test_working_out_the_amount_from_the_ticked_contributions(app, client, login, carer, owed):
    login("finance")
    resp = client.post(
        f"/payments/new?person_id={carer}",
        data=pay_form(action="total", amount="1.00", contribution_ids=[str(owed[1])]),
    )
    assert resp.status_code == 200
    assert re.search(r'id="amount"[^>]*value="60.00"', resp.get_data(as_text=True))
    assert _count(app, Payment) == 0


def test_check_writes_nothing_and_shows_the_verdicts_and_the_notice(app, client, login, carer, owed):
    login("finance")
    audits = _count(app, AuditEvent)
    resp = client.post(
        f"/payments/new?person_id={carer}",
        data=pay_form(action="check", amount="250.00", contribution_ids=[str(i) for i in owed]),
    )
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Over the limit" in page and "£196.00" in page and "£250.00" in page
    assert "None: £54.00 over the limit" in page
    assert "7 April 2025 to 13 April 2025" in page
    assert NOTICE.replace("'", "&#39;") in page or NOTICE in page
    assert "Use this suggestion" in page
    assert "Reason to override the benefit check" in page
    assert _count(app, Payment) == 0 and _count(app, AuditEvent) == audits
    # What was typed is kept.
    assert re.search(r'id="amount"[^>]*value="250.00"', page)
    # Finance sees totals and limits, not which benefits the person receives, even in the suggestions.
    assert "A benefit rule" in page and "Allowance" not in page and "the benefit limit" in page


def test_admin_sees_the_benefit_names_and_the_view_is_audited(app, client, login, carer):
    login("admin")
    resp = client.post(f"/payments/new?person_id={carer}", data=pay_form(action="check", amount="250.00"))
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Carer&#39;s Allowance earnings limit" in page and "Where this rule comes from" in page
    assert _count(app, Payment) == 0
    assert _audits(app, "benefits.viewed") == 1


def test_the_payment_page_shows_names_to_coordinators_only(app, client, login, carer):
    login("finance")
    pid = _record(client, carer)
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "Within the limit" in page and "Allowance" not in page
    assert _audits(app, "benefits.viewed") == 0
    switch_user(client, login, "coordinator")
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "Carer&#39;s Allowance earnings limit" in page and "Within the limit" in page
    assert _audits(app, "benefits.viewed") == 1


def test_check_within_the_limit(app, client, login, carer):
    login("finance")
    page = client.post(f"/payments/new?person_id={carer}", data=pay_form(action="check", amount="100.00")).get_data(
        as_text=True
    )
    assert "Within the limit" in page and "Over the limit" not in page
    assert "not benefits advice" in page
    assert "Reason to override" not in page
    assert _count(app, Payment) == 0


def test_record_within_the_limit(app, client, login, carer, owed):
    uid = login("finance")
    resp = client.post(
        f"/payments/new?person_id={carer}",
        data=pay_form(
            kind="voucher", amount="100.00", note="supermarket vouchers", contribution_ids=[str(i) for i in owed]
        ),
    )
    assert resp.status_code == 302
    (p,) = _payments(app)
    assert resp.headers["Location"].endswith(f"/payments/{p.id}")
    assert p.status == "draft" and p.amount == Decimal("100.00") and p.kind == "voucher"
    assert p.recorded_by_id == uid and p.check_snapshot["verdicts"]
    with app.app_context():
        assert sorted(c.id for c in db.session.get(Payment, p.id).contributions) == sorted(owed)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "has been recorded as a draft" in page and "Benefit check when it was recorded" in page
    assert "Within the limit" in page and "not benefits advice" in page
    # The contributions are now paid: the next payment starts from nothing owed.
    page = client.get(f"/payments/new?person_id={carer}").get_data(as_text=True)
    assert "No unpaid contributions" in page


def test_a_blocked_payment_needs_a_reason_to_override(app, client, login, carer):
    login("finance")
    resp = client.post(f"/payments/new?person_id={carer}", data=pay_form(amount="250.00"))
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "would break a benefit rule, so it was not recorded" in page
    assert 'href="#override_reason"' in page and "<textarea" in page and 'id="override_reason"' in page
    assert "Over the limit" in page
    assert _count(app, Payment) == 0
    resp = client.post(
        f"/payments/new?person_id={carer}",
        data=pay_form(amount="250.00", override_reason="The person spoke to an adviser and wants the full amount."),
    )
    assert resp.status_code == 302
    (p,) = _payments(app)
    assert p.override_reason == "The person spoke to an adviser and wants the full amount."
    assert p.check_snapshot["blocked"] is True
    assert _audits(app, "payment.override") == 1
    page = client.get(f"/payments/{p.id}").get_data(as_text=True)
    assert "The person spoke to an adviser" in page and "the check was overridden" in page


def test_use_this_suggestion_records_the_suggested_drafts(app, client, login, carer, owed):
    login("finance")
    page = client.post(
        f"/payments/new?person_id={carer}",
        data=pay_form(
            action="check", amount="250.00", note="for the April panels", contribution_ids=[str(i) for i in owed]
        ),
    ).get_data(as_text=True)
    forms = suggestion_forms(page)
    assert forms, "an over verdict comes with suggestions"
    # Use one that keeps the money: split, defer or reduce, if offered; any otherwise.
    chosen = forms[0]
    data: dict[str, list[str]] = {}
    for name, value in chosen:
        data.setdefault(name, []).append(value)
    suggested = [
        (data[f"s{i}_kind"][0], Decimal(data[f"s{i}_amount"][0]), data[f"s{i}_paid_on"][0])
        for i in range(6)
        if f"s{i}_kind" in data
    ]
    resp = client.post(f"/payments/new?person_id={carer}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    made = _payments(app)
    assert len(made) == len(suggested)
    assert sorted((p.kind, p.amount, p.paid_on.isoformat()) for p in made) == sorted(suggested)
    assert sum(p.amount for p in made) == Decimal("250.00")
    assert all(p.status == "draft" and p.override_reason is None for p in made)
    assert all("for the April panels" in p.note and "Recorded from a suggestion" in p.note for p in made)
    assert _audits(app, "payment.recorded") == len(made) and _audits(app, "payment.override") == 0
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "as suggested" in page


def test_a_payment_keeps_its_due_date_and_the_work_it_covers(app, client, login, carer):
    login("finance")
    data = pay_form(amount="100.00", due_on="2025-04-06", covers_from="2025-03-31", covers_to="2025-04-06")
    resp = client.post(f"/payments/new?person_id={carer}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    (p,) = _payments(app)
    assert (p.due_on, p.covers_from, p.covers_to) == (date(2025, 4, 6), date(2025, 3, 31), date(2025, 4, 6))
    # the week the payment is due in is the one the check counts it in
    assert {v["period"]["start"] for v in p.check_snapshot["verdicts"] if v["period"]} >= {"2025-03-31"}
    page = client.get(f"/payments/{p.id}").get_data(as_text=True)
    assert "Work it pays for" in page and "31 March 2025 to 6 April 2025" in page
    # without a due date it is due when received
    client.post(f"/payments/new?person_id={carer}", data=pay_form(amount="10.00"))
    assert _payments(app)[-1].due_on == date(2025, 4, 9)


def test_a_covered_period_out_of_order_is_a_form_error(app, client, login, carer):
    login("finance")
    data = pay_form(amount="100.00", covers_from="2025-04-06", covers_to="2025-03-31")
    resp = client.post(f"/payments/new?person_id={carer}", data=data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'href="#covers_to-day"' in page and "on or after the first day" in page
    assert _count(app, Payment) == 0


def test_a_suggestion_keeps_its_due_date_when_used(app, client, login, carer):
    login("finance")
    page = client.post(
        f"/payments/new?person_id={carer}", data=pay_form(action="check", amount="250.00", due_on="2025-04-08")
    ).get_data(as_text=True)
    forms = suggestion_forms(page)
    assert forms
    data: dict[str, list[str]] = {}
    for name, value in forms[0]:
        data.setdefault(name, []).append(value)
    assert "s0_due_on" in data and data["due_on"] == ["2025-04-08"]
    resp = client.post(f"/payments/new?person_id={carer}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    dues = {(p.paid_on.isoformat(), p.due_on.isoformat()) for p in _payments(app)}
    assert dues == {(data[f"s{i}_paid_on"][0], data[f"s{i}_due_on"][0]) for i in range(6) if f"s{i}_kind" in data}


def test_a_suggestion_that_no_longer_fits_saves_nothing(app, client, login, carer):
    login("finance")
    # Two £150 payments in the same benefit week: the second breaks the £196 limit.
    data = {
        **pay_form(action="suggestion", amount="300.00"),
        "explanation": "tampered",
        "s0_kind": "cash",
        "s0_amount": "150.00",
        "s0_paid_on": "2025-04-09",
        "s1_kind": "cash",
        "s1_amount": "150.00",
        "s1_paid_on": "2025-04-10",
    }
    resp = client.post(f"/payments/new?person_id={carer}", data=data)
    assert resp.status_code == 409
    assert "Nothing was saved" in resp.get_data(as_text=True)
    assert _count(app, Payment) == 0 and _audits(app, "payment.recorded") == 0
    resp = client.post(f"/payments/new?person_id={carer}", data={**data, "s1_paid_on": "2025-02-30"})
    assert resp.status_code == 422 and _count(app, Payment) == 0


@pytest.mark.parametrize(
    "amount, message",
    [
        ("-5.00", "cannot be negative"),
        ("1.005", "at most 2 decimal places"),
        ("NaN", "real number"),
        ("lots", "Enter a number"),
        ("", "Enter an amount"),
        ("Infinity", "real number"),
        ("1e9999", "far too large"),
        ("1" * 3000, "far too large"),
    ],
)
@pytest.mark.parametrize("action", ["check", "record"])
def test_bad_amounts_are_form_errors(app, client, login, carer, amount, message, action):
    login("finance")
    resp = client.post(f"/payments/new?person_id={carer}", data=pay_form(amount=amount, action=action))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert message in page and 'href="#amount"' in page and 'aria-invalid="true"' in page
    assert _count(app, Payment) == 0


@pytest.mark.parametrize("paid_on", ["2025-02-30", "09/04/2025", "", "0001-01-01", "9999-12-31"])
def test_bad_dates_are_form_errors(app, client, login, carer, paid_on):
    login("finance")
    resp = client.post(f"/payments/new?person_id={carer}", data=pay_form(paid_on=paid_on))
    assert resp.status_code == 422
    assert 'href="#paid_on-day"' in resp.get_data(as_text=True)  # the first box of the date
    assert _count(app, Payment) == 0


@pytest.mark.parametrize("kind", ["certificate", "declined"])
def test_a_certificate_or_a_decline_with_money_is_refused(app, client, login, carer, kind):
    login("finance")
    resp = client.post(f"/payments/new?person_id={carer}", data=pay_form(kind=kind, amount="10.00", note="asked"))
    assert resp.status_code == 422 and "the amount must be 0.00" in resp.get_data(as_text=True)
    assert _count(app, Payment) == 0


def test_other_form_errors(app, client, login, carer, owed):
    login("finance")
    url = f"/payments/new?person_id={carer}"
    cases = [
        (pay_form(kind=""), "kind", "Choose how the person is paid"),
        (pay_form(kind="gold"), "kind", "Choose how the person is paid"),
        (pay_form(kind="charity", note="asked"), "charity_name", "Name the charity"),
        (pay_form(benefit_value="10.00"), "benefit_value", "Only training"),
        (pay_form(amount_offered="20.00"), "amount_offered", "cannot be less than the amount paid"),
        (pay_form(contribution_ids=["999999"]), "contribution_ids", "have been left out"),
    ]
    for data, field, message in cases:
        resp = client.post(url, data=data)
        page = resp.get_data(as_text=True)
        assert resp.status_code == 422, (field, resp.status_code)
        assert message in page and f'href="#{field}"' in page, field
    assert _count(app, Payment) == 0


def test_recording_a_decline_a_reduced_payment_and_a_charity(app, client, login, carer):
    uid = login("finance")
    url = f"/payments/new?person_id={carer}"
    # A decline needs a reason.
    resp = client.post(url, data=pay_form(kind="declined", amount="0.00", amount_offered="150.00"))
    assert resp.status_code == 422 and 'href="#note"' in resp.get_data(as_text=True)
    resp = client.post(
        url,
        data=pay_form(
            kind="declined",
            amount="0.00",
            amount_offered="150.00",
            note="Declined on the phone on 3 April: worried about Carer's Allowance.",
        ),
    )
    assert resp.status_code == 302
    resp = client.post(url, data=pay_form(amount="100.00", amount_offered="150.00"))
    assert resp.status_code == 422  # a reduced payment needs a reason too
    resp = client.post(
        url, data=pay_form(amount="100.00", amount_offered="150.00", paid_on="2025-04-16", note="Asked for £100 only.")
    )
    assert resp.status_code == 302
    resp = client.post(
        url,
        data=pay_form(
            kind="charity",
            amount="50.00",
            charity_name="Carers Trust",
            paid_on="2025-04-23",
            note="Asked us to pay a charity instead.",
        ),
    )
    assert resp.status_code == 302
    declined, reduced, charity = _payments(app)
    assert declined.kind == "declined" and declined.amount == Decimal("0.00")
    assert declined.amount_offered == Decimal("150.00") and "worried" in declined.note
    assert reduced.amount == Decimal("100.00") and reduced.amount_offered == Decimal("150.00")
    assert charity.charity_name == "Carers Trust"
    assert all(p.recorded_by_id == uid and p.created_at is not None for p in (declined, reduced, charity))
    with app.app_context():
        events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "payment.recorded")))
        assert len(events) == 3 and all(e.actor_id == uid for e in events)
    page = client.get(f"/payments/{declined.id}").get_data(as_text=True)
    assert "declined by the person" in page and "£150.00" in page and "worried" in page


# ---- the detail page and its moves ------------------------------------------------------------


def _record(client, carer, **kw) -> int:
    resp = client.post(f"/payments/new?person_id={carer}", data=pay_form(**kw))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def test_the_recorder_cannot_approve_and_someone_else_can(app, client, login, carer):
    login("finance")
    pid = _record(client, carer)
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "Approve the payment" not in page and "you cannot approve it" in page
    resp = client.post(f"/payments/{pid}/approve", follow_redirects=True)
    assert resp.status_code == 200
    assert "You recorded this payment, so you cannot approve it" in resp.get_data(as_text=True)
    assert _status_of(app, pid) == "draft"
    other = switch_user(client, login, "finance")
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "Approve the payment" in page
    resp = client.post(f"/payments/{pid}/approve", follow_redirects=True)
    assert "has been approved" in resp.get_data(as_text=True)
    assert _status_of(app, pid) == "approved"
    with app.app_context():
        assert db.session.get(Payment, pid).approved_by_id == other


def test_pay_then_reverse_from_the_detail_page(app, client, login, carer):
    login("finance")
    pid = _record(client, carer)
    switch_user(client, login, "finance")
    client.post(f"/payments/{pid}/approve")
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "Mark as paid" in page and 'id="pay-paid_on"' in page and "Reverse the payment" not in page
    resp = client.post(
        f"/payments/{pid}/pay",
        data={"pay-paid_on": "2025-04-09", "pay-method": "bank transfer", "pay-reference": "BACS-1"},
        follow_redirects=True,
    )
    assert "marked as paid" in resp.get_data(as_text=True)
    with app.app_context():
        p = db.session.get(Payment, pid)
        assert p.status == "paid" and p.method == "bank transfer" and p.reference == "BACS-1"
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert (
        "BACS-1" in page
        and "Marked as paid" in page
        and "Reverse the payment" in page
        and "Cancel the payment" not in page
    )
    resp = client.post(f"/payments/{pid}/reverse", data={"reverse-reason": ""})
    assert resp.status_code == 422 and 'href="#reverse-reason"' in resp.get_data(as_text=True)
    resp = client.post(
        f"/payments/{pid}/reverse", data={"reverse-reason": "paid to the wrong person"}, follow_redirects=True
    )
    assert "A reversal has been recorded as a draft" in resp.get_data(as_text=True)
    original, entry = _payments(app)
    assert entry.status == "draft"
    assert original.status == "paid" and entry.reversal_of_id == pid and entry.amount == Decimal("-50.00")
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "paid to the wrong person" in page and "Reverse the payment" not in page
    page = client.get(f"/payments/{entry.id}").get_data(as_text=True)
    assert "This entry reverses" in page and "−£50.00" in page
    # A second reversal is refused with a message, not an error page.
    resp = client.post(f"/payments/{pid}/reverse", data={"reverse-reason": "again"}, follow_redirects=True)
    assert resp.status_code == 200 and "already been reversed" in resp.get_data(as_text=True)
    assert _count(app, Payment) == 2


def test_cancel_from_the_detail_page(app, client, login, carer):
    login("finance")
    pid = _record(client, carer)
    resp = client.post(f"/payments/{pid}/cancel", data={"cancel-reason": "  "})
    assert resp.status_code == 422 and "Say why" in resp.get_data(as_text=True)
    assert _status_of(app, pid) == "draft"
    resp = client.post(f"/payments/{pid}/cancel", data={"cancel-reason": "recorded twice"}, follow_redirects=True)
    assert "has been cancelled" in resp.get_data(as_text=True)
    with app.app_context():
        p = db.session.get(Payment, pid)
        assert p.status == "cancelled" and p.reason == "recorded twice"
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "Cancelled by" in page and "recorded twice" in page and "What you can do" not in page


@pytest.mark.parametrize(
    "move, data",
    [
        ("pay", {"pay-paid_on": "2025-04-09", "pay-method": "cash"}),
        ("reverse", {"reverse-reason": "x"}),
        ("approve", {}),
    ],
)
def test_an_invalid_move_is_a_message_not_an_error(app, client, login, carer, move, data):
    login("finance")
    pid = saved(app, payment, carer, status="cancelled")
    resp = client.post(f"/payments/{pid}/{move}", data=data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/payments/{pid}")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "cannot be" in page
    assert _status_of(app, pid) == "cancelled"


def test_a_second_click_after_someone_else_gets_a_clear_message(app, client, login, carer):
    login("finance")
    pid = saved(app, payment, carer, status="draft")
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    seen = re.search(r'name="seen"[^>]*value="([^"]+)"', page).group(1)
    # Someone else cancels it in the meantime.
    with app.app_context():
        p = db.session.get(Payment, pid)
        p.status, p.reason = "cancelled", "someone else"
        db.session.commit()
    resp = client.post(f"/payments/{pid}/approve", data={"seen": seen}, follow_redirects=True)
    assert resp.status_code == 200
    assert "Someone else changed this payment at the same moment" in resp.get_data(as_text=True)
    assert _status_of(app, pid) == "cancelled"


def test_paying_needs_real_values(app, client, login, carer):
    login("finance")
    pid = saved(app, payment, carer, status="approved")
    for data, field in [
        ({"pay-paid_on": "2025-02-30", "pay-method": "cash"}, "pay-paid_on"),
        ({"pay-paid_on": "2025-04-09", "pay-method": ""}, "pay-method"),
        ({"pay-paid_on": "2025-04-09", "pay-method": "gold bars"}, "pay-method"),
        ({"pay-paid_on": "2025-04-09", "pay-method": "cash", "pay-reference": "x" * 101}, "pay-reference"),
    ]:
        resp = client.post(f"/payments/{pid}/pay", data=data)
        assert resp.status_code == 422, field
        assert f'href="#{field}"' in resp.get_data(as_text=True), field
    assert _status_of(app, pid) == "approved"


def test_paying_on_another_date_is_checked_again(app, client, login, carer):
    login("finance")
    pid = saved(app, payment, carer, status="approved", amount="50.00")
    saved(app, payment, carer, status="draft", amount="150.00", paid_on=date(2025, 4, 15))
    data = {"pay-paid_on": "2025-04-16", "pay-method": "cash"}
    resp = client.post(f"/payments/{pid}/pay", data=data)
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "Over the limit" in page and 'id="pay-override_reason"' in page and "not benefits advice" in page
    assert _status_of(app, pid) == "approved"
    resp = client.post(
        f"/payments/{pid}/pay", data={**data, "pay-override_reason": "Agreed with the adviser."}, follow_redirects=True
    )
    # The override needs a second person: the payment is back in draft on its new date.
    assert resp.status_code == 200 and "the payment is back in draft" in resp.get_data(as_text=True)
    with app.app_context():
        p = db.session.get(Payment, pid)
        assert (
            p.status == "draft" and p.paid_on == date(2025, 4, 16) and p.override_reason == "Agreed with the adviser."
        )


# ---- month end ----------------------------------------------------------------------------------


def test_month_end_totals_are_exact(app, client, login, carer):
    login("finance")
    for amount in ("0.10", "0.20"):
        saved(app, payment, carer, status="paid", amount=amount, method="bank transfer", paid_on=date(2025, 4, 3))
    for _ in range(3):
        saved(
            app,
            payment,
            carer,
            status="paid",
            amount="33.33",
            kind="voucher",
            method="voucher",
            paid_on=date(2025, 4, 20),
        )
    reversed_id = saved(app, payment, carer, status="paid", amount="10.00", method="cash", paid_on=date(2025, 4, 30))
    saved(
        app,
        payment,
        carer,
        status="paid",
        amount="-10.00",
        method="cash",
        paid_on=date(2025, 4, 30),
        reversal_of=reversed_id,
    )
    saved(app, payment, carer, status="paid", amount="999.00", method="cash", paid_on=date(2025, 5, 1))
    saved(app, payment, carer, status="approved", amount="12.34", paid_on=date(2025, 5, 2))
    saved(app, payment, carer, status="approved", amount="0.66", paid_on=date(2025, 3, 2))
    for _ in range(2):
        saved(app, payment, carer, status="draft", amount="5.00")
    saved(app, payment, carer, status="cancelled", amount="7.00")
    resp = client.get("/payments/month-end?month=2025-04")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Month end: April 2025" in page
    assert "Paid by bank transfer: 2 entries, £0.30" in page
    assert "Paid by voucher: 3 entries, £99.99" in page
    assert "Paid by cash: 2 entries, £0.00" in page and "−£10.00" in page
    assert "Total paid in April 2025: £100.29" in page
    assert "£999.00" not in page
    assert "Approved payments not yet paid: 2, £13.00 in all" in page
    assert re.search(r"Drafts waiting for approval</dt><dd><a [^>]*>2<", page)
    assert 'href="/payments/month-end?month=2025-03"' in page and 'href="/payments/month-end?month=2025-05"' in page
    assert "<caption>" in page and 'scope="row"' in page
    assert client.get("/payments/month-end").status_code == 200
    for bad in ("2025-13", "April", "1999-12", "2025-4"):
        resp = client.get(f"/payments/month-end?month={bad}")
        assert resp.status_code == 422 and 'href="#month"' in resp.get_data(as_text=True), bad


# ---- the list -----------------------------------------------------------------------------------


def test_the_list_filters_and_links_to_each_payment(app, client, login, carer, make_person):
    other = make_person("Other Person")
    login("coordinator")
    a = saved(app, payment, carer, status="approved", amount="12.50")
    b = saved(app, payment, other, status="draft", amount="7.25")
    page = client.get("/payments/").get_data(as_text=True)
    assert "£12.50" in page and "£7.25" in page
    assert f'href="/payments/{a}"' in page and f'href="/payments/{b}"' in page
    page = client.get("/payments/?status=approved").get_data(as_text=True)
    assert "£12.50" in page and "£7.25" not in page and "Approved: not yet paid" in page
    page = client.get(f"/payments/?person_id={other}&kind=cash&from=2025-04-01&to=2025-04-30").get_data(as_text=True)
    assert "£7.25" in page and "£12.50" not in page
    for bad, field in [
        ("status=lost", "status"),
        ("kind=gold", "kind"),
        ("from=2025-02-30", "from"),
        ("from=2025-05-01&to=2025-04-01", "to"),
        ("person_id=abc", "person_id"),
        ("page=0", None),
        ("page=99999999999999999999", None),
        ("person_id=99999999999999999999999", "person_id"),
    ]:
        resp = client.get(f"/payments/?{bad}")
        assert resp.status_code == 422, bad
        if field:
            anchor = f"{field}-day" if field in ("from", "to") else field  # a date links to its first box
            assert f'href="#{anchor}"' in resp.get_data(as_text=True), bad


# ---- expenses and other income ----------------------------------------------------------------


def test_recording_an_expense_and_other_income(app, client, login, carer):
    login("coordinator")
    page = client.get(f"/payments/expenses/new?person_id={carer}").get_data(as_text=True)
    assert f'<option selected value="{carer}">Carer Person</option>' in page
    data = {
        "person_id": str(carer),
        "amount": "12.50",
        "incurred_on": "2025-04-07",
        "paid_on": "2025-04-10",
        "description": "Bus fare",
        "receipt_ref": "R1",
        "service_user_context": "yes",
    }
    for field, value in [
        ("amount", "1.005"),
        ("amount", "NaN"),
        ("amount", "-1"),
        ("incurred_on", "2025-02-30"),
        ("paid_on", "2025-04-01"),
        ("description", ""),
        ("person_id", ""),
        ("service_user_context", "maybe"),
    ]:
        resp = client.post("/payments/expenses/new", data={**data, field: value})
        assert resp.status_code == 422, field
        anchor = f"{field}-day" if field.endswith("_on") else field  # a date links to its first box
        assert f'href="#{anchor}"' in resp.get_data(as_text=True), field
    assert _count(app, Expense) == 0
    resp = client.post("/payments/expenses/new", data=data)
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Bus fare" in page and "£12.50" in page
    with app.app_context():
        e = db.session.scalar(sa.select(Expense))
        assert e.amount == Decimal("12.50") and e.service_user_context == "yes"

    income = {"person_id": str(carer), "amount": "80.00", "received_on": "2025-04-08", "source": "shop work"}
    resp = client.post("/payments/other-income/new", data={**income, "amount": "80.001"})
    assert resp.status_code == 422 and _count(app, OtherIncome) == 0
    resp = client.post("/payments/other-income/new", data={**income, "source": ""})
    assert resp.status_code == 422 and _count(app, OtherIncome) == 0
    resp = client.post("/payments/other-income/new", data=income)
    assert resp.status_code == 302 and _count(app, OtherIncome) == 1
    # The check now counts it: £80 + £120 is over the £196 weekly limit.
    switch_user(client, login, "finance")
    page = client.post(f"/payments/new?person_id={carer}", data=pay_form(action="check", amount="120.00")).get_data(
        as_text=True
    )
    assert "Over the limit" in page


def test_expenses_list_filters(app, client, login, carer):
    login("finance")
    assert client.get(f"/payments/expenses?person_id={carer}").status_code == 200
    resp = client.get("/payments/expenses?to=2025-02-30")
    assert resp.status_code == 422 and 'href="#to-day"' in resp.get_data(as_text=True)


# ---- times are shown in UK time ---------------------------------------------------------------


def test_the_payment_page_shows_times_in_uk_time(app, client, login, carer):
    """Stored times are UTC; in summer the page shows them an hour later (British Summer Time)."""
    from datetime import datetime

    pid = saved(app, payment, carer, status="paid", method="cash", paid_on=date(2025, 7, 10))
    with app.app_context():
        p = db.session.get(Payment, pid)
        p.created_at = datetime(2025, 7, 1, 23, 30)  # 00:30 on 2 July in the UK
        p.approved_at = datetime(2025, 7, 8, 14, 30)
        p.paid_at = datetime(2025, 12, 9, 14, 30)  # winter: UK time is UTC
        db.session.commit()
    login("finance")
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "on 2 July 2025 at 00:30 UK time" in page
    assert "on 8 July 2025 at 15:30 UK time" in page
    assert "on 9 December 2025 at 14:30 UK time" in page
    assert "UTC" not in page


def test_uk_time_reads_stored_utc_times():
    from datetime import datetime

    from tracker.timeutil import uk_time

    assert uk_time(datetime(2026, 3, 29, 0, 59)).hour == 0  # before the clocks go forward
    assert uk_time(datetime(2026, 3, 29, 1, 0)).hour == 2  # after: BST
    assert uk_time(datetime(2026, 6, 1, 12, 0, tzinfo=UTC)).hour == 13


# ---- the shared page pieces ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("7", 7),
        (" 42 ", 42),
        (7, 7),
        ("0", None),
        ("-3", None),
        ("1.5", None),
        ("abc", None),
        ("", None),
        (None, None),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (str(2**63), None),
        ("9" * 400, None),
    ],
)
def test_parse_id_takes_only_ids_a_database_can_hold(raw, expected):
    from tracker.pages import parse_id

    assert parse_id(raw) == expected


def test_a_payment_on_a_date_no_rule_covers_is_not_checked_and_needs_a_reason(app, client, login, carer):
    """Issue 11 item 7: unknown is not safe. The carer's claim starts in January 2024 and the
    Carer's Allowance figures in April 2024, so a payment in February 2024 was not checked."""
    login("finance")
    resp = client.post(f"/payments/new?person_id={carer}", data=pay_form(amount="20.00", paid_on="2024-02-01"))
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "Not checked: no rule covers this date" in page and 'id="override_reason"' in page
    assert "Carer" not in page.split("<main", 1)[1].split("</main>", 1)[0].replace("Carer Person", "")
    assert _count(app, Payment) == 0
    resp = client.post(
        f"/payments/new?person_id={carer}",
        data=pay_form(amount="20.00", paid_on="2024-02-01", override_reason="The figures for early 2024 were checked."),
    )
    assert resp.status_code == 302
    assert _audits(app, "payment.override") == 1
