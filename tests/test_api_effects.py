"""Issue 13, item 1 in the API: every verdict says what it costs the person (``effect``) in checks,
positions, recorded payments and 409 refusals, for every role; finance still reads no benefit name."""

from __future__ import annotations

import sqlalchemy as sa

from tests import builders
from tests.builders import pay
from tracker import vocab
from tracker.extensions import db
from tracker.payments.models import Payment

UC = {
    "benefit": "UC",
    "start_on": builders.CLAIM_START,
    "attributes": {"ap_start_day": 1, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
}


def by_rule(body, prefix):
    [v] = [v for v in body["verdicts"] if (v["rule"] or "").startswith(prefix)]
    return v


def test_a_check_classes_each_verdict_at_the_cliff_edge(app, api_as, carer):
    api = api_as("admin")
    at_limit = by_rule(api.post("/payments/check", json=pay(carer, "196.00")).get_json(), "CA_EARN")
    assert (at_limit["status"], at_limit["effect"]) == ("near", "near")
    over = by_rule(api.post("/payments/check", json=pay(carer, "196.01")).get_json(), "CA_EARN")
    assert (over["status"], over["effect"]) == ("over", "stops")
    within = api.post("/payments/check", json=pay(carer, "20.00")).get_json()
    assert by_rule(within, "CA_EARN")["effect"] == "within"
    assert by_rule(within, "TAX")["effect"] == "within"
    assert all(v["effect"] in vocab.EFFECTS for v in within["verdicts"])


def test_a_taper_reduces_with_its_estimate(app, api_as, rules):
    person = builders.saved(app, builders.person, "Taper Person", claims=[UC])
    api = api_as("coordinator")
    body = api.post("/payments/check", json=pay(person, "100.00")).get_json()
    v = by_rule(body, "UC_NO_WA")
    assert (v["status"], v["effect"], v["estimated_reduction"]) == ("info", "reduces", "55.00")
    finance = api_as("finance").post("/payments/check", json=pay(person, "100.00")).get_json()
    [neutral] = [x for x in finance["verdicts"] if x.get("estimated_reduction") == "55.00"]
    assert (neutral["effect"], neutral["benefit"], neutral["rule"]) == ("reduces", None, None)


def test_position_and_a_refusal_carry_the_effect(app, api_as, carer):
    api_as("finance").post("/payments", json=pay(carer, "120.00", "2025-04-08"))
    body = api_as("coordinator").get(f"/people/{carer}/position?on=2025-04-10").get_json()
    assert by_rule(body, "CA_EARN")["effect"] == "within"
    for_finance = api_as("finance").get(f"/people/{carer}/position?on=2025-04-10").get_json()
    assert {v["effect"] for v in for_finance["verdicts"]} <= set(vocab.EFFECTS)
    assert all("effect" in v for v in for_finance["verdicts"])
    refused = api_as("finance").post("/payments", json=pay(carer, "250.00")).get_json()
    effects = [v["effect"] for v in refused["error"]["check"]["verdicts"]]
    assert "stops" in effects


def test_a_recorded_payment_keeps_its_effects_and_older_checks_get_them(app, api_as, carer):
    api = api_as("admin")
    made = api.post("/payments", json=pay(carer, "250.00", override_reason="Agreed after advice.")).get_json()
    shown = api.get(f"/payments/{made['id']}").get_json()["check"]
    assert by_rule(shown, "CA_EARN")["effect"] == "stops"
    with app.app_context():  # a check stored before verdicts carried an effect
        row = db.session.get(Payment, made["id"])
        row.check_snapshot = {
            **row.check_snapshot,
            "verdicts": [{k: x for k, x in v.items() if k != "effect"} for v in row.check_snapshot["verdicts"]],
        }
        db.session.commit()
        stored = db.session.execute(sa.select(Payment.check_snapshot).where(Payment.id == made["id"])).scalar_one()
        assert all("effect" not in v for v in stored["verdicts"])
    again = api.get(f"/payments/{made['id']}").get_json()["check"]
    assert again == shown
