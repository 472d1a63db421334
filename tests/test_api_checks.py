"""What-if checks, positions and recording payments through the API (issue: benefit rules)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.builders import assert_error, at_once, count, finance_tokens, pay
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.payments.models import Payment


def verdict(body, family):
    found = [v for v in body["verdicts"] if (v["rule"] or "").startswith(family)]
    assert found, body["verdicts"]
    return found[0]


def test_check_at_the_limit_is_not_over(app, api_as, carer):
    api = api_as("admin")  # finance sees no rule codes (DESIGN.md)
    resp = api.post("/payments/check", json=pay(carer, "196.00"))
    assert resp.status_code == 200, resp.get_json()
    v = verdict(resp.get_json(), "CA_EARN")
    assert v["rule"] == "CA_EARN_2025"
    assert v["limit"] == "196.00" and v["total_after"] == "196.00" and v["headroom"] == "0.00"
    assert v["status"] == "near"
    assert v["period"] == {"start": "2025-04-07", "end": "2025-04-13"}
    assert resp.get_json()["suggestions"] == []
    assert "not benefits advice" in resp.get_json()["notice"]


def test_one_penny_over_is_over_and_blocks(app, api_as, carer):
    api = api_as("admin")  # finance sees no rule codes (DESIGN.md)
    body = api.post("/payments/check", json=pay(carer, "196.01")).get_json()
    v = verdict(body, "CA_EARN")
    assert v["status"] == "over" and v["severity"] == "block"
    assert body["blocked"] is True
    assert body["suggestions"], "an over verdict comes with suggestions"
    for s in body["suggestions"]:
        total = sum(Decimal(p["amount"]) for p in s["payments"])
        assert total == Decimal("196.01")
        assert all(p["paid_on"] >= "2025-04-09" for p in s["payments"])
        assert s["explanation"]
        # Each suggestion, checked again through the API, breaks nothing.
        for p in s["payments"]:
            again = api.post("/payments/check", json=pay(carer, p["amount"], p["paid_on"], p["kind"])).get_json()
            assert all(x["status"] != "over" for x in again["verdicts"]), (s, again)


def test_check_judges_a_week_against_the_limit_of_the_benefit_week_it_decides(app, api_as, carer):
    """Issue 11: received (and due) on Sunday 6 April 2025, earnings decide Carer's Allowance for the
    week from Monday 7 April, whose limit is £196; the week before decides 31 March (£151)."""
    api = api_as("admin")  # finance sees no rule codes (DESIGN.md)
    v = verdict(api.post("/payments/check", json=pay(carer, "160.00", "2025-04-06")).get_json(), "CA_EARN")
    assert (v["rule"], v["status"], v["limit"]) == ("CA_EARN_2025", "ok", "196.00")
    assert v["period"] == {"start": "2025-03-31", "end": "2025-04-06"}
    assert v["benefit_week"] == {"start": "2025-04-07", "end": "2025-04-13"} and v["date_basis"] == "due"
    assert "week from 7 April 2025" in " ".join(v["notes"])
    v = verdict(api.post("/payments/check", json=pay(carer, "160.00", "2025-03-30")).get_json(), "CA_EARN")
    assert (v["rule"], v["status"], v["benefit_week"]["start"]) == ("CA_EARN_2024", "over", "2025-03-31")


def test_check_writes_nothing(app, api_as, carer):
    api = api_as("finance")
    before = count(app, Payment), count(app, AuditEvent)
    api.post("/payments/check", json=pay(carer, "500.00"))
    assert (count(app, Payment), count(app, AuditEvent)) == before


def test_recording_a_blocked_payment_needs_an_override(app, api_as, carer):
    api = api_as("finance")
    resp = api.post("/payments", json=pay(carer, "250.00"))
    assert_error(resp, 409, "benefit_rule_block")
    assert resp.get_json()["error"]["check"]["blocked"] is True
    assert count(app, Payment) == 0
    resp = api.post("/payments", json=pay(carer, "250.00", override_reason="The person asked, after advice."))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "draft" and body["amount"] == "250.00"
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_id == body["id"])).all()
        stored = db.session.get(Payment, body["id"])
        assert stored.override_reason == "The person asked, after advice."
    assert "payment.override" in actions and "payment.recorded" in actions


def test_recorded_payment_keeps_the_verdicts_and_rule_versions(app, api_as, carer):
    from tracker.rules import service

    api = api_as("admin")  # finance sees no rule codes (DESIGN.md)
    body = api.post("/payments", json=pay(carer, "100.00")).get_json()
    snapshot = api.get(f"/payments/{body['id']}").get_json()["check"]
    assert {"code": "CA_EARN_2025", "revision": 1} in snapshot["rules_used"]
    with app.app_context():
        service.edit("CA_EARN_2025", {"limit": "90.00"}, actor=None, reason="test edit")
        db.session.commit()
    again = api.get(f"/payments/{body['id']}").get_json()["check"]
    assert again == snapshot
    assert verdict(again, "CA_EARN")["limit"] == "196.00"
    # New checks use the new revision.
    v = verdict(api.post("/payments/check", json=pay(carer, "1.00")).get_json(), "CA_EARN")
    assert v["limit"] == "90.00"


def test_payments_add_up_within_the_week(app, api_as, carer):
    api = api_as("admin")  # finance sees no rule codes (DESIGN.md)
    assert api.post("/payments", json=pay(carer, "150.00", "2025-04-08")).status_code == 201
    v = verdict(api.post("/payments/check", json=pay(carer, "46.00", "2025-04-13")).get_json(), "CA_EARN")
    assert v["total_before"] == "150.00" and v["total_after"] == "196.00" and v["status"] != "over"
    resp = api.post("/payments", json=pay(carer, "46.01", "2025-04-13"))
    assert_error(resp, 409, "benefit_rule_block")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": 150.0}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"paid_on": "2025-02-30"}, "paid_on"),
        ({"person_id": 999999}, "person_id"),
        ({"kind": "gold"}, "kind"),
        ({"kind": "certificate", "amount": "10.00"}, "amount"),
        ({"kind": "declined", "amount": "5.00"}, "amount"),
        ({"kind": "cash", "amount": "0.00"}, "amount"),
        ({"kind": "charity"}, "charity_name"),
        ({"contribution_ids": [424242]}, "contribution_ids"),
        ({"status": "paid"}, "status"),
    ],
)
def test_bad_payments_are_422_and_write_nothing(app, api_as, carer, body, field):
    api = api_as("finance")
    before = count(app, Payment), count(app, AuditEvent)
    data = {**pay(carer, "10.00"), **body}
    assert_error(api.post("/payments", json=data), 422, "invalid", field)
    assert_error(api.post("/payments/check", json=data), 422, "invalid", field)
    assert (count(app, Payment), count(app, AuditEvent)) == before


def test_roles_for_checks_and_payments(app, api_as, carer):
    assert_error(api_as("coordinator").post("/payments", json=pay(carer, "5.00")), 403)
    assert api_as("coordinator").post("/payments/check", json=pay(carer, "5.00")).status_code == 200
    assert_error(api_as("contributor", person_id=carer).post("/payments/check", json=pay(carer, "5.00")), 403)


def test_delete_never_deletes(app, api_as, carer):
    api = api_as("admin")
    pid = api.post("/payments", json=pay(carer, "5.00")).get_json()["id"]
    assert_error(api.delete(f"/payments/{pid}"), 405)
    assert count(app, Payment) == 1


def test_position(app, api_as, carer, make_person):
    api_as("finance").post("/payments", json=pay(carer, "120.00", "2025-04-08"))
    api = api_as("coordinator")
    body = api.get(f"/people/{carer}/position?on=2025-04-10").get_json()
    assert body["on"] == "2025-04-10"
    v = verdict(body, "CA_EARN")
    assert v["total_after"] == "120.00" and v["headroom"] == "76.00" and v["status"] == "ok"
    tax = verdict(body, "TAX")
    assert tax["period"] == {"start": "2025-04-06", "end": "2026-04-05"}
    other = make_person("Someone Else")
    me = api_as("contributor", person_id=carer)
    assert me.get(f"/people/{carer}/position?on=2025-04-10").status_code == 200
    assert_error(me.get(f"/people/{other}/position"), 404)
    assert_error(api.get(f"/people/{carer}/position?on=2025-13-01"), 422, field="on")


def test_rules_endpoint(app, api_as, rules):
    api = api_as("contributor", person_id=None)
    codes = {r["code"] for r in api.get("/rules?on=2025-04-07").get_json()["items"]}
    assert "CA_EARN_2025" in codes and "CA_EARN_2024" not in codes
    codes = {r["code"] for r in api.get("/rules?on=2025-04-06").get_json()["items"]}
    assert "CA_EARN_2024" in codes
    assert_error(api.get("/rules?on=yesterday"), 422, field="on")


def _race(app, person_id, amount, paid_on):
    """Two requests for the same person at the same moment: only one may pass the check."""
    return at_once(app, finance_tokens(app, 2), "/payments", pay(person_id, amount, paid_on))


def test_concurrent_payments_cannot_both_pass(app, carer):
    assert _race(app, carer, "150.00", "2025-04-09") == [201, 409]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_concurrent_payments_cannot_both_pass_on_postgresql(postgresql_carer):
    """The same race on PostgreSQL, on its own database."""
    app, pid = postgresql_carer
    assert _race(app, pid, "150.00", "2025-04-09") == [201, 409]
    with app.app_context():
        db.engine.dispose()


# ---- issue 11 item 7: unknown is not safe, stale figures say so ----------------------------------


def test_a_date_no_rule_covers_is_not_checked_and_needs_an_override(app, api_as, carer):
    """The Carer's Allowance figures start in April 2024: a payment in February 2024, under a claim
    from January 2024, is not checked."""
    api = api_as("coordinator")
    body = api.post("/payments/check", json=pay(carer, "20.00", "2024-02-01")).get_json()
    [v] = [v for v in body["verdicts"] if v["status"] == "unknown"]
    assert (v["severity"], v["benefit"], v["rule"], v["total_after"], v["stale"]) == ("block", "CA", None, None, False)
    assert v["title"] == "Carer's Allowance: not checked: no rule covers this date"
    assert body["blocked"] is True and body["suggestions"] == []
    finance = api_as("finance")
    assert_error(finance.post("/payments", json=pay(carer, "20.00", "2024-02-01")), 409, "benefit_rule_block")
    before = count(app, AuditEvent)
    resp = finance.post("/payments", json=pay(carer, "20.00", "2024-02-01", override_reason="Checked with the adviser"))
    assert resp.status_code == 201, resp.get_json()
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "payment.override"))
        assert event.after["verdicts"][0]["status"] == "unknown"
    assert count(app, AuditEvent) > before
    redacted = finance.post("/payments/check", json=pay(carer, "20.00", "2024-02-01")).get_json()
    [fv] = [v for v in redacted["verdicts"] if v["status"] == "unknown"]
    assert fv["benefit"] is None and fv["notes"] == [] and "not checked" in fv["description"]
    assert "Carer" not in str(fv)


def test_a_planned_payment_after_the_next_uprating_is_marked_stale(app, api_as, carer):
    api = api_as("coordinator")
    body = api.post("/payments/check", json=pay(carer, "20.00", "2027-04-14")).get_json()
    v = verdict(body, "CA_EARN")
    assert v["rule"] == "CA_EARN_2026" and v["stale"] is True
    assert any("may be out of date" in n for n in v["notes"])
    assert (
        verdict(api.post("/payments/check", json=pay(carer, "20.00", "2026-06-03")).get_json(), "CA_EARN")["stale"]
        is False
    )
