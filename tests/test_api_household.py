"""A partner's earnings through the API (issue 11 item 5): recorded by the people who look after
the person, read as benefit information, and counted only toward household rules."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import builders
from tests.builders import assert_error, count, pay
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.people.models import PartnerEarning, Person

UC_JOINT = {
    "benefit": "UC",
    "start_on": builders.CLAIM_START,
    "attributes": {
        "ap_start_day": 1,
        "work_allowance": True,
        "housing_element": False,
        "lcw_pending": False,
        "joint_claim": True,
    },
}
EARNING = {"amount": "500.00", "received_on": "2025-06-02", "note": "Partner's wages"}


@pytest.fixture
def couple(app, rules) -> int:
    """A person on a joint Universal Credit claim and Carer's Allowance, with consent."""
    return builders.saved(app, builders.person, "Sam Joint", claims=[UC_JOINT, builders.CA])


def _url(pid: int) -> str:
    return f"/people/{pid}/partner-earnings"


def test_a_coordinator_records_and_lists_partner_earnings_with_audit(app, api_as, couple):
    api = api_as("coordinator")
    resp = api.post(_url(couple), json={**EARNING, "due_on": "2025-05-30"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert {k: body[k] for k in ("person_id", "amount", "received_on", "due_on", "note")} == {
        "person_id": couple,
        "amount": "500.00",
        "received_on": "2025-06-02",
        "due_on": "2025-05-30",
        "note": "Partner's wages",
    }
    api.post(_url(couple), json={"amount": "20.00", "received_on": "2025-07-01"})
    listing = api.get(_url(couple))
    assert listing.status_code == 200
    assert [i["amount"] for i in listing.get_json()["items"]] == ["20.00", "500.00"]  # newest first
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.person_id == couple)).all()
        recorded = [e for e in events if e.action == "partner_earning.recorded"]
        assert len(recorded) == 2 and recorded[0].after["amount"] == "500.00"
        assert any(e.action == "benefits.viewed" and e.after["where"] == "api partner earnings" for e in events)
        assert db.session.get(Person, couple).ledger_version > 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "amount"),
        ({"received_on": "2025-06-02"}, "amount"),
        ({**EARNING, "amount": "0.00"}, "amount"),
        ({**EARNING, "amount": "-5.00"}, "amount"),
        ({**EARNING, "amount": 5.5}, "amount"),
        ({**EARNING, "amount": "100000.01"}, "amount"),
        ({**EARNING, "received_on": "2025-13-01"}, "received_on"),
        ({"amount": "5.00"}, "received_on"),
        ({**EARNING, "due_on": "soon"}, "due_on"),
        ({**EARNING, "note": "n" * 201}, "note"),
        ({**EARNING, "partner_name": "Kim"}, "partner_name"),
    ],
)
def test_bad_partner_earnings_are_422_and_write_nothing(app, api_as, couple, body, field):
    api = api_as("coordinator")
    before = count(app, PartnerEarning), count(app, AuditEvent)
    assert_error(api.post(_url(couple), json=body), 422, "invalid", field)
    assert (count(app, PartnerEarning), count(app, AuditEvent)) == before


def test_finance_may_neither_record_nor_read_them(app, api_as, couple):
    finance = api_as("finance")
    assert_error(finance.post(_url(couple), json=EARNING), 403)
    assert_error(finance.get(_url(couple)), 403)
    assert count(app, PartnerEarning) == 0


def test_a_contributor_reads_their_own_and_never_anyone_elses(app, api_as, couple, make_person):
    api_as("coordinator").post(_url(couple), json=EARNING)
    me = api_as("contributor", person_id=couple)
    assert [i["amount"] for i in me.get(_url(couple)).get_json()["items"]] == ["500.00"]
    assert_error(me.post(_url(couple), json=EARNING), 403)
    other = make_person("Someone Else")
    assert_error(me.get(_url(other)), 404)
    assert_error(me.post(_url(other), json=EARNING), 404)
    assert_error(api_as("coordinator").get(_url(2**31 - 1)), 404)
    assert count(app, PartnerEarning) == 1


def test_without_consent_it_is_409(app, api_as, make_person):
    pid = make_person("No Consent", consent=False)
    assert_error(api_as("coordinator").post(_url(pid), json=EARNING), 409, "consent_required")


def test_the_check_counts_them_for_joint_uc_only_and_finance_reads_no_benefit(app, api_as, couple):
    coordinator = api_as("coordinator")
    coordinator.post(_url(couple), json=EARNING)
    body = coordinator.post("/payments/check", json=pay(couple, "300.00", "2025-06-10")).get_json()
    uc = next(v for v in body["verdicts"] if v["family"] == "UC_WA_NOHOUSING")
    ca = next(v for v in body["verdicts"] if v["family"] == "CA_EARN")
    assert (uc["total_before"], uc["total_after"]) == ("500.00", "800.00")
    assert any("partner's earnings are included: £500.00" in n for n in uc["notes"])
    assert ca["total_after"] == "300.00" and not any("partner" in n for n in ca["notes"])
    position = coordinator.get(f"/people/{couple}/position?on=2025-06-04").get_json()
    assert next(v for v in position["verdicts"] if v["family"] == "UC_WA_NOHOUSING")["total"] == "500.00"
    finance = api_as("finance").post("/payments/check", json=pay(couple, "300.00", "2025-06-10")).get_json()
    assert "partner" not in str(finance) and "Universal Credit" not in str(finance)
    assert "800.00" in str(finance)  # the totals finance decides on still include the household's money
