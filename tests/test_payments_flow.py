"""The payment state machine: every state × every move, approval by someone else, reversal,
idempotency and concurrent moves."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.builders import assert_error, at_once, count, finance_tokens, pay
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.payments.models import Payment
from tracker.payments.service import TRANSITIONS


@pytest.fixture
def person(carer):
    return carer


@pytest.fixture
def staff(api_as):
    return {"recorder": api_as("finance"), "approver": api_as("finance")}


ACTIONS = {
    "approve": "payment.approved",
    "pay": "payment.paid",
    "cancel": "payment.cancelled",
    "reverse": "payment.reversal_recorded",
}
PAY_BODY = {"paid_on": "2025-04-09", "method": "bank transfer", "reference": "BACS-1"}
BODIES = {
    "approve": None,
    "pay": PAY_BODY,
    "cancel": {"reason": "entered twice"},
    "reverse": {"reason": "paid to the wrong person"},
}


def make_in_state(staff, person_id, state):
    rec, appr = staff["recorder"], staff["approver"]
    pid = rec.post("/payments", json=pay(person_id, "50.00")).get_json()["id"]
    if state in ("approved", "paid", "cancelled"):
        assert appr.post(f"/payments/{pid}/approve").status_code == 200
    if state == "paid":
        assert appr.post(f"/payments/{pid}/pay", json=PAY_BODY).status_code == 200
    if state == "cancelled":
        assert appr.post(f"/payments/{pid}/cancel", json={"reason": "no longer needed"}).status_code == 200
    return pid


@pytest.mark.parametrize("state", ["draft", "approved", "paid", "cancelled"])
@pytest.mark.parametrize("move", ["approve", "pay", "cancel", "reverse"])
def test_every_state_and_move(app, staff, person, state, move):
    pid = make_in_state(staff, person, state)
    resp = staff["approver"].post(f"/payments/{pid}/{move}", json=BODIES[move])
    target = TRANSITIONS.get((state, move))
    if target is None:
        assert_error(resp, 409, "invalid_transition")
        with app.app_context():
            assert db.session.get(Payment, pid).status == state
        return
    assert resp.status_code == (201 if move == "reverse" else 200), resp.get_json()
    with app.app_context():
        assert db.session.get(Payment, pid).status == target
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == ACTIONS[move])) == 1


def test_transition_table_is_the_expected_lifecycle():
    assert TRANSITIONS == {
        ("draft", "approve"): "approved",
        ("draft", "cancel"): "cancelled",
        ("approved", "pay"): "paid",
        ("approved", "cancel"): "cancelled",
        ("paid", "reverse"): "paid",
    }


def test_recorder_cannot_approve(app, staff, person):
    pid = staff["recorder"].post("/payments", json=pay(person, "20.00")).get_json()["id"]
    assert_error(staff["recorder"].post(f"/payments/{pid}/approve"), 403, "approver_is_recorder")
    with app.app_context():
        assert db.session.get(Payment, pid).status == "draft"


def test_reversal_nets_the_totals_back_exactly(app, staff, person, api_as):
    pid = make_in_state(staff, person, "paid")
    api = staff["approver"]
    coordinator = api_as("coordinator")
    before = coordinator.get(f"/people/{person}/position?on=2025-04-09").get_json()
    resp = api.post(f"/payments/{pid}/reverse", json={"reason": "paid in error"})
    assert resp.status_code == 201
    entry = resp.get_json()
    # Two people for a reversal: it is a draft until someone other than the reverser approves it.
    assert entry["amount"] == "-50.00" and entry["reversal_of_id"] == pid and entry["status"] == "draft"
    assert_error(api.post(f"/payments/{entry['id']}/approve"), 403, "approver_is_recorder")
    approved = staff["recorder"].post(f"/payments/{entry['id']}/approve")
    assert approved.status_code == 200 and approved.get_json()["status"] == "paid"
    after = coordinator.get(f"/people/{person}/position?on=2025-04-09").get_json()
    ca_before = [v for v in before["verdicts"] if v["benefit"] == "CA"][0]
    ca_after = [v for v in after["verdicts"] if v["benefit"] == "CA"][0]
    assert Decimal(ca_before["total_after"]) == Decimal("50.00")
    assert Decimal(ca_after["total_after"]) == Decimal("0.00")
    with app.app_context():
        original = db.session.get(Payment, pid)
        assert original.status == "paid" and original.amount == Decimal("50.00")
        net = db.session.scalar(sa.select(sa.func.sum(Payment.amount)).where(Payment.person_id == person))
        assert net == Decimal("0.00")
    # A second reversal, and reversing the reversal, are refused.
    assert_error(api.post(f"/payments/{pid}/reverse", json={"reason": "again"}), 409)
    assert_error(api.post(f"/payments/{entry['id']}/reverse", json={"reason": "undo"}), 409)


def test_moves_need_their_fields(app, staff, person):
    pid = make_in_state(staff, person, "approved")
    api = staff["approver"]
    assert_error(api.post(f"/payments/{pid}/pay", json={"paid_on": "2025-04-09"}), 422, field="method")
    assert_error(api.post(f"/payments/{pid}/pay", json={**PAY_BODY, "paid_on": "2025-02-30"}), 422, field="paid_on")
    assert_error(api.post(f"/payments/{pid}/cancel", json={}), 422, field="reason")
    assert_error(api.post(f"/payments/{pid}/cancel", json={"reason": ""}), 422, field="reason")
    assert_error(api.post(f"/payments/{pid}/approve", json={"extra": 1}), 422, field="extra")
    with app.app_context():
        assert db.session.get(Payment, pid).status == "approved"


def test_paying_on_another_date_is_checked_again(app, staff, person, api_as):
    api = staff["approver"]
    # £150 already in the week of 14 April; moving a £50 payment into it breaks the £196 limit.
    first = make_in_state(staff, person, "approved")
    other = staff["recorder"].post("/payments", json=pay(person, "150.00", "2025-04-15")).get_json()["id"]
    resp = api.post(f"/payments/{first}/pay", json={**PAY_BODY, "paid_on": "2025-04-16"})
    assert_error(resp, 409, "benefit_rule_block")
    with app.app_context():
        assert db.session.get(Payment, first).status == "approved"
    resp = api.post(
        f"/payments/{first}/pay",
        json={**PAY_BODY, "paid_on": "2025-04-16", "override_reason": "Agreed with the person and adviser."},
    )
    # The override needs a second person: the payment is back in draft on its new date.
    assert resp.status_code == 200 and resp.get_json()["status"] == "draft"
    assert resp.get_json()["paid_on"] == "2025-04-16"
    assert_error(api.post(f"/payments/{first}/approve"), 403, "approver_gave_override")
    assert api_as("finance").post(f"/payments/{first}/approve").status_code == 200
    assert api.post(f"/payments/{first}/pay", json={**PAY_BODY, "paid_on": "2025-04-16"}).status_code == 200
    assert other


def test_missing_payment_is_404(staff, rules):
    assert_error(staff["approver"].post("/payments/987654/approve"), 404)


def test_contributor_cannot_see_others_payments(app, staff, person, make_person, api_as):
    pid = make_in_state(staff, person, "draft")
    other = make_person("Other")
    me = api_as("contributor", person_id=person)
    assert me.get(f"/payments/{pid}").status_code == 200
    assert_error(api_as("contributor", person_id=other).get(f"/payments/{pid}"), 404)
    assert_error(me.post(f"/payments/{pid}/approve"), 403)
    assert_error(api_as("coordinator").post(f"/payments/{pid}/approve"), 403)


def test_same_idempotency_key_makes_one_payment(app, staff, person):
    api = staff["recorder"]
    h = {"Idempotency-Key": "pay-run-7"}
    a = api.post("/payments", json=pay(person, "30.00"), headers=h)
    b = api.post("/payments", json=pay(person, "30.00"), headers=h)
    assert a.status_code == b.status_code == 201 and a.get_json()["id"] == b.get_json()["id"]
    assert count(app, Payment) == 1


@pytest.mark.parametrize("move", ["approve", "pay", "reverse"])
def test_concurrent_moves_one_wins(app, staff, person, move):
    state = {"approve": "draft", "pay": "approved", "reverse": "paid"}[move]
    pid = make_in_state(staff, person, state)
    codes = at_once(app, finance_tokens(app, 2), f"/payments/{pid}/{move}", BODIES[move])
    ok = 201 if move == "reverse" else 200
    assert codes == [ok, 409], codes
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.reversal_of_id == pid)) == (
            1 if move == "reverse" else 0
        )
