"""Protecting the person's choice when a payment is recorded: their own ways come first, a way they
did not choose needs a reason (page and API), a first choice to decline is offered as a recorded
decline, and the check never says "no other way fits" while their own choice was left out."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.builders import CA, assert_error, person, saved
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.payments.models import Payment


def _payments(app, person_id: int) -> list[Payment]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Payment).where(Payment.person_id == person_id).order_by(Payment.id)))
        db.session.expunge_all()
        return rows


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))
        db.session.expunge_all()
        return rows


@pytest.fixture
def decliner(app, rules) -> int:
    """Carer's Allowance; first choice: no payment (decline), then vouchers."""
    return saved(app, person, "Dee Cliner", preferences=["declined", "voucher"], claims=[CA])


def _owe(app, person_id: int, context: str) -> int:
    """£250.00 owed to the person for a panel on 1 April 2025 (``context``: whether the panel is
    service-user involvement, which decides whether a decline is notional earnings)."""
    from tracker.contributions import service
    from tracker.people.models import Person

    with app.app_context():
        a = service.create_activity(
            {"name": "Panel", "default_rate": "250.00", "rate_unit": "day", "service_user_context": context}, actor=None
        )
        service.record_contribution(
            db.session.get(Person, person_id),
            {"activity_id": a.id, "worked_on": date(2025, 4, 1), "hours": "1"},
            actor=None,
        )
        db.session.commit()
    return person_id


@pytest.fixture
def owed_decliner(app, decliner) -> int:
    """£250.00 owed to the decliner for a service-user panel on 1 April 2025."""
    return _owe(app, decliner, "yes")


def _kind_options(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="kind".*?</select>', html, re.S)
    assert select
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(0))


def test_the_kind_list_starts_with_the_persons_own_choices(client, login, carer):
    login("finance")
    html = client.get(f"/payments/new?person_id={carer}").get_data(as_text=True)
    # the carer chose cash, then vouchers (tests/conftest.py)
    assert _kind_options(html)[:3] == ["", "cash", "voucher"]
    assert "Cash (their choice 1)" in html and "Vouchers (their choice 2)" in html
    assert 'name="kind_reason"' in html


def test_a_kind_the_person_did_not_choose_needs_a_reason(app, client, login, carer):
    login("finance")
    url = f"/payments/new?person_id={carer}"
    form = {"kind": "bank_transfer", "amount": "50.00", "paid_on": "2025-04-09", "action": "record"}
    resp = client.post(url, data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'href="#kind_reason"' in html
    assert "Carer Person chose Cash; then Vouchers" in html
    assert _payments(app, carer) == []
    resp = client.post(url, data={**form, "kind_reason": "They asked for a transfer by phone on 3 April."})
    assert resp.status_code == 302
    [p] = _payments(app, carer)
    assert p.kind == "bank_transfer"
    [event] = _events(app, "payment.unchosen_kind")
    assert event.reason == "They asked for a transfer by phone on 3 April."
    assert event.after == {"kind": "bank_transfer", "chosen": ["cash", "voucher"]}


def test_a_chosen_kind_needs_no_reason(app, client, login, carer):
    login("finance")
    resp = client.post(
        f"/payments/new?person_id={carer}",
        data={"kind": "voucher", "amount": "50.00", "paid_on": "2025-04-09", "action": "record"},
    )
    assert resp.status_code == 302
    assert _events(app, "payment.unchosen_kind") == []


def test_first_choice_decline_is_offered_and_recorded(app, client, login, owed_decliner):
    login("finance")
    url = f"/payments/new?person_id={owed_decliner}"
    html = client.get(url).get_data(as_text=True)
    assert "first choice is not to be paid" in html
    assert 'value="decline"' in html and "Record a decline" in html
    resp = client.post(url, data={"action": "decline"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    [p] = _payments(app, owed_decliner)
    assert (p.kind, p.amount, p.amount_offered, p.status) == ("declined", Decimal("0.00"), Decimal("250.00"), "draft")
    assert "first choice is not to be paid" in (p.note or "")


def test_a_decline_with_no_exemption_is_held_as_notional_earnings(app, client, login, decliner):
    """Declining is not automatically safe: for work not recorded as service-user involvement the
    money offered can count as notional earnings, so the recorded decline needs an override."""
    person = _owe(app, decliner, "no")
    login("finance")
    resp = client.post(f"/payments/new?person_id={person}", data={"action": "decline"})
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert "This payment would break a benefit rule, so it was not recorded" in html
    assert "£46.00 over the limit" in html  # the £250.00 offered, against Carer's Allowance's £204.00
    assert _payments(app, person) == []


def test_a_blocked_transfer_never_says_no_other_way_when_their_choice_was_left_out(client, login, owed_decliner):
    login("finance")
    resp = client.post(
        f"/payments/new?person_id={owed_decliner}",
        data={"kind": "bank_transfer", "amount": "250.00", "paid_on": "2025-04-09", "action": "check"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "this payment would break a rule" in html
    assert "No other way of paying fits the rules" not in html
    assert "own choices were not checked here" in html
    assert "Declined (the person chose not to be paid)" in html


def test_the_api_needs_a_reason_for_a_kind_the_person_did_not_choose(app, api_as, carer):
    api = api_as("finance")
    body = {"person_id": carer, "kind": "bank_transfer", "amount": "50.00", "paid_on": "2025-04-09"}
    assert_error(api.post("/payments", json=body), 422, field="kind_reason")
    assert _payments(app, carer) == []
    resp = api.post("/payments", json={**body, "kind_reason": "They asked for it."})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    # a decline's note is what the person asked for: it is the reason too
    resp = api.post(
        "/payments",
        json={**body, "kind": "declined", "amount": "0.00", "amount_offered": "50.00", "note": "Declined by phone."},
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert [e.reason for e in _events(app, "payment.unchosen_kind")] == ["They asked for it.", "Declined by phone."]
    # the check writes nothing and needs no reason
    assert api.post("/payments/check", json=body).status_code == 200


def test_the_openapi_document_names_kind_reason(api_as):
    doc = api_as("finance").get("/openapi.json").get_json()
    assert "kind_reason" in doc["components"]["schemas"]["PaymentIn"]["properties"]


def test_suggestions_offer_the_persons_own_kinds_first(app, api_as, rules):
    pid = saved(app, person, "Tia Trainee", preferences=["training", "cash"], claims=[CA])
    api = api_as("finance")
    body = {"person_id": pid, "kind": "cash", "amount": "250.00", "paid_on": "2025-04-09"}
    check = api.post("/payments/check", json=body).get_json()
    suggested = [p["kind"] for s in check["suggestions"] for p in s["payments"]]
    assert suggested, check
    assert set(suggested) <= {"training", "cash"}
    switches = [s for s in check["suggestions"] if s["kind"] == "switch_kind"]
    assert [p["kind"] for s in switches for p in s["payments"]] == ["training"]
