"""Two people for every override and every reversal, through the API and the pages.

Paying on a new date that needs an override puts the payment back to draft for someone other than
the overrider to approve; the person who overrode a block never approves it (alone or in bulk); a
reversal is a draft that counts only once someone other than the reverser approves it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.builders import PASSWORD, assert_error, pay
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.payments.models import Payment

PAY_BODY = {"paid_on": "2025-04-09", "method": "bank transfer", "reference": "BACS-1"}
REASON = "Agreed with the person and their adviser."


@pytest.fixture
def finance(api_as):
    """Three people in finance: a recorder, an approver and a third."""
    return [api_as("finance") for _ in range(3)]


def _status(app, payment_id: int) -> str:
    with app.app_context():
        return db.session.get(Payment, payment_id).status


def _actions(app, payment_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.entity_type == "payment", AuditEvent.entity_id == payment_id)
                .order_by(AuditEvent.id)
            )
        )


def _approved(api, person_id: int, amount: str, paid_on: str, approver) -> int:
    pid = api.post("/payments", json=pay(person_id, amount, paid_on)).get_json()["id"]
    assert approver.post(f"/payments/{pid}/approve").status_code == 200
    return pid


def _paid(finance, person_id: int, amount: str = "50.00") -> int:
    recorder, approver, _ = finance
    pid = _approved(recorder, person_id, amount, "2025-04-09", approver)
    assert approver.post(f"/payments/{pid}/pay", json=PAY_BODY).status_code == 200
    return pid


def _ca_total(api, person_id: int) -> Decimal:
    position = api.get(f"/people/{person_id}/position?on=2025-04-09").get_json()
    return Decimal([v for v in position["verdicts"] if v["benefit"] == "CA"][0]["total_after"])


# ---- paying on a new date that needs an override ------------------------------------------------


def test_recorder_paying_on_a_blocked_date_puts_it_back_to_draft(app, carer, finance):
    recorder, approver, third = finance
    # £150 already in the week of 14 April; paying £50 in that week breaks the £196 limit.
    recorder.post("/payments", json=pay(carer, "150.00", "2025-04-15"))
    pid = _approved(recorder, carer, "50.00", "2025-04-09", approver)
    resp = recorder.post(f"/payments/{pid}/pay", json={**PAY_BODY, "paid_on": "2025-04-16", "override_reason": REASON})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "draft" and body["paid_on"] == "2025-04-16"
    assert body["check"]["blocked"] is True and "back in draft" in body["message"]
    with app.app_context():
        p = db.session.get(Payment, pid)
        assert p.override_reason == REASON and p.approved_by_id is None and p.paid_at is None
    # The overrider cannot approve it; another person in finance can, and then it can be paid.
    assert_error(recorder.post(f"/payments/{pid}/approve"), 403, "approver_gave_override")
    assert_error(recorder.post(f"/payments/{pid}/pay", json={**PAY_BODY, "paid_on": "2025-04-16"}), 409)
    assert approver.post(f"/payments/{pid}/approve").status_code == 200
    paid = third.post(f"/payments/{pid}/pay", json={**PAY_BODY, "paid_on": "2025-04-16"})
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid"
    assert _actions(app, pid) == [
        "payment.recorded",
        "payment.approved",
        "payment.override",
        "payment.approved",
        "payment.paid",
    ]


def test_the_overrider_of_a_recorded_block_cannot_approve(app, carer, finance):
    recorder, approver, _ = finance
    resp = recorder.post("/payments", json={**pay(carer, "250.00"), "override_reason": REASON})
    assert resp.status_code == 201 and resp.get_json()["status"] == "draft"
    pid = resp.get_json()["id"]
    assert_error(recorder.post(f"/payments/{pid}/approve"), 403, "approver_gave_override")
    assert _status(app, pid) == "draft"
    assert approver.post(f"/payments/{pid}/approve").status_code == 200


def test_bulk_approval_refuses_the_overrider(app, carer, finance):
    recorder, approver, third = finance
    recorder.post("/payments", json=pay(carer, "150.00", "2025-04-15"))
    pid = _approved(recorder, carer, "50.00", "2025-04-09", approver)
    # Someone who did not record it overrides on paying: they may not approve it in bulk either.
    third.post(f"/payments/{pid}/pay", json={**PAY_BODY, "paid_on": "2025-04-16", "override_reason": REASON})
    results = third.post("/payments/approve", json={"ids": [pid]}).get_json()["results"]
    assert [(r["id"], r["status"], r["code"]) for r in results] == [(pid, "refused", "approver_gave_override")]
    assert _status(app, pid) == "draft"
    results = approver.post("/payments/approve", json={"ids": [pid]}).get_json()["results"]
    assert results == [{"id": pid, "status": "approved"}]


# ---- reversals ----------------------------------------------------------------------------------


def test_a_reversal_counts_only_once_someone_else_approves_it(app, carer, finance, api_as):
    recorder, approver, _ = finance
    coordinator = api_as("coordinator")
    pid = _paid(finance, carer)
    assert _ca_total(coordinator, carer) == Decimal("50.00")
    resp = approver.post(f"/payments/{pid}/reverse", json={"reason": "paid to the wrong person"})
    assert resp.status_code == 201
    entry = resp.get_json()
    assert entry["status"] == "draft" and entry["amount"] == "-50.00" and entry["reversal_of_id"] == pid
    # A draft reversal does not net the payment out, and its recorder cannot approve it.
    assert _ca_total(coordinator, carer) == Decimal("50.00")
    assert_error(approver.post(f"/payments/{entry['id']}/approve"), 403, "approver_is_recorder")
    assert_error(approver.post(f"/payments/{pid}/reverse", json={"reason": "again"}), 409)
    assert _ca_total(coordinator, carer) == Decimal("50.00")
    done = recorder.post(f"/payments/{entry['id']}/approve")
    assert done.status_code == 200 and done.get_json()["status"] == "paid"
    assert _ca_total(coordinator, carer) == Decimal("0.00")
    assert _status(app, pid) == "paid"
    assert _actions(app, entry["id"]) == ["payment.reversal_recorded", "payment.reversal_approved"]
    assert_error(recorder.post(f"/payments/{entry['id']}/cancel", json={"reason": "undo"}), 409)


def test_a_draft_reversal_can_be_cancelled_and_recorded_again(app, carer, finance, api_as):
    recorder, approver, third = finance
    coordinator = api_as("coordinator")
    pid = _paid(finance, carer)
    entry = approver.post(f"/payments/{pid}/reverse", json={"reason": "paid twice"}).get_json()["id"]
    assert recorder.post(f"/payments/{entry}/cancel", json={"reason": "it was not"}).status_code == 200
    assert _status(app, entry) == "cancelled" and _ca_total(coordinator, carer) == Decimal("50.00")
    # One live reversal per payment: after a cancelled one, a new reversal can be recorded.
    again = third.post(f"/payments/{pid}/reverse", json={"reason": "paid to the wrong person"})
    assert again.status_code == 201 and again.get_json()["status"] == "draft"
    assert_error(third.post(f"/payments/{again.get_json()['id']}/approve"), 403, "approver_is_recorder")
    assert approver.post(f"/payments/{again.get_json()['id']}/approve").status_code == 200
    assert _ca_total(coordinator, carer) == Decimal("0.00")
    assert "payment.reversal_cancelled" in _actions(app, entry)


# ---- the pages ----------------------------------------------------------------------------------


def _sign_in(client, login, role: str = "finance") -> int:
    client.post("/sign-out")
    return login(role)


@pytest.fixture
def own_payments(app, make_user, carer):
    """own_payments() -> the carer's own payments page, as they see it signed in (their own client)."""
    email = "carer-two-person@example.org"
    make_user("contributor", email=email, person_id=carer)
    theirs = app.test_client()
    assert theirs.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302
    return lambda path="/me/payments": theirs.get(path).get_data(as_text=True)


def test_the_pay_form_with_a_blocked_new_date_puts_it_back_to_draft(app, client, login, carer, finance):
    recorder, approver, _ = finance
    recorder.post("/payments", json=pay(carer, "150.00", "2025-04-15"))
    pid = _approved(recorder, carer, "50.00", "2025-04-09", approver)
    _sign_in(client, login)
    data = {"pay-paid_on": "2025-04-16", "pay-method": "cash", "pay-override_reason": REASON}
    resp = client.post(f"/payments/{pid}/pay", data=data, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "the payment is back in draft" in page
    assert _status(app, pid) == "draft"
    # On the page, the overrider is told someone else must approve it, and the approval is refused.
    assert "Approve the payment" not in page and "You overrode the benefit check" in page
    resp = client.post(f"/payments/{pid}/approve", follow_redirects=True)
    assert "You overrode the benefit check" in resp.get_data(as_text=True) and _status(app, pid) == "draft"
    _sign_in(client, login)
    assert "Approve the payment" in client.get(f"/payments/{pid}").get_data(as_text=True)
    client.post(f"/payments/{pid}/approve")
    assert _status(app, pid) == "approved"


def test_reversing_on_the_page_makes_a_draft_someone_else_approves(
    app, client, login, carer, finance, api_as, own_payments
):
    coordinator = api_as("coordinator")
    pid = _paid(finance, carer)
    _sign_in(client, login)
    resp = client.post(
        f"/payments/{pid}/reverse", data={"reverse-reason": "paid to the wrong person"}, follow_redirects=True
    )
    assert "A reversal has been recorded as a draft" in resp.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(sa.select(Payment).where(Payment.reversal_of_id == pid))
        assert entry.status == "draft"
        entry_id = entry.id
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert "with a reversal waiting for approval" in page and "Reverse the payment" not in page
    page = client.get(f"/payments/{entry_id}").get_data(as_text=True)
    assert "Approve the reversal" not in page and "You recorded this payment" in page
    assert _ca_total(coordinator, carer) == Decimal("50.00")
    # The person's own page does not show the payment as corrected until the reversal is approved.
    own = own_payments()
    assert "£50.00" in own and "Paid, then corrected" not in own and "Correction" not in own
    assert "−£50.00" not in own_payments("/")  # their home page's recent payments: no draft correction
    _sign_in(client, login)
    page = client.get(f"/payments/{entry_id}").get_data(as_text=True)
    assert "Approve the reversal" in page and "Cancel the reversal" in page
    resp = client.post(f"/payments/{entry_id}/approve", follow_redirects=True)
    assert "it now nets the payment out" in resp.get_data(as_text=True)
    assert _status(app, entry_id) == "paid" and _ca_total(coordinator, carer) == Decimal("0.00")
    assert ", and reversed" in client.get(f"/payments/{pid}").get_data(as_text=True)
    own = own_payments()
    assert "Paid, then corrected" in own and "Correction" in own
    assert "−£50.00" in own_payments("/")
