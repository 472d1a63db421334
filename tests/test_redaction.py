"""Finance sees no benefit names anywhere (issue 12, item 1): checks, recorded payments, the 409
refusal, risk flags, the audit page, the payment pages and statements are neutral for finance, while
admins and coordinators see the names and their views are audited (``benefits.viewed``)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest
import sqlalchemy as sa

from tests.builders import CA, CLAIM_START, pay, saved
from tests.builders import payment as payment_row
from tests.builders import person as person_row
from tracker.audit.models import AuditEvent
from tracker.extensions import db

#: What names a benefit or a benefit rule (the trading allowance, which is tax, is not one of them).
NAMES = (
    "Universal Credit",
    "UC_",
    "CA_EARN",
    "Carer's Allowance",
    "Carer&#39;s Allowance",
    "Carer",
    "PIP",
    "Personal Independence",
    '"CA"',
)


@pytest.fixture
def claimant(app, rules) -> int:
    """A person with Carer's Allowance and PIP since 2024."""
    return saved(app, person_row, "Sam Claimant", claims=[CA, {"benefit": "PIP", "start_on": CLAIM_START}])


def named(text: str) -> list[str]:
    return [n for n in NAMES if n in text]


def viewed(app) -> int:
    with app.app_context():
        q = sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "benefits.viewed")
        return db.session.scalar(q)


def test_the_check_api_is_neutral_for_finance_and_audited_for_staff(app, api_as, claimant):
    before = viewed(app)
    resp = api_as("finance").post("/payments/check", json=pay(claimant, "250.00"))
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert named(text) == []
    body = resp.get_json()
    over = [v for v in body["verdicts"] if v["status"] == "over"][0]
    assert over["rule"] is None and over["benefit"] is None and over["family"] is None and over["source"] is None
    assert over["description"] == "A weekly earnings limit that stops a benefit"
    assert over["limit"] == "196.00" and over["total_after"] == "250.00" and over["headroom"] == "-54.00"
    assert over["period"] == {"start": "2025-04-07", "end": "2025-04-13"}
    assert body["suggestions"] and all("benefit limit" in s["explanation"] for s in body["suggestions"][:1])
    # The trading allowance is tax, not a benefit: it keeps its name.
    assert any(v["title"].startswith("Trading allowance") for v in body["verdicts"])
    assert [r["code"] for r in body["rules_used"]] == ["TAX_TRADING_ALLOWANCE"]
    assert viewed(app) == before  # finance saw no benefit information

    coord = api_as("coordinator").post("/payments/check", json=pay(claimant, "250.00")).get_data(as_text=True)
    assert "CA_EARN" in coord and "Carer's Allowance" in coord
    assert viewed(app) == before + 1


def test_the_409_and_the_recorded_check_are_neutral_for_finance(app, api_as, claimant):
    finance = api_as("finance")
    refused = finance.post("/payments", json=pay(claimant, "250.00"))
    assert refused.status_code == 409
    assert named(refused.get_data(as_text=True)) == []
    check = refused.get_json()["error"]["check"]
    assert check["blocked"] is True and any(v.get("description") for v in check["verdicts"])

    admin = api_as("admin").post("/payments", json=pay(claimant, "250.00"))
    assert admin.status_code == 409 and "CA_EARN" in admin.get_data(as_text=True)

    made = finance.post("/payments", json=pay(claimant, "250.00", override_reason="Agreed after advice."))
    assert made.status_code == 201 and named(made.get_data(as_text=True)) == []
    pid = made.get_json()["id"]
    shown = finance.get(f"/payments/{pid}")
    assert shown.status_code == 200 and named(shown.get_data(as_text=True)) == []
    assert shown.get_json()["check"]["verdicts"]

    before = viewed(app)
    coord = api_as("coordinator").get(f"/payments/{pid}").get_data(as_text=True)
    assert "CA_EARN" in coord
    assert viewed(app) == before + 1


def test_risk_flags_and_the_audit_page_are_neutral_for_finance(app, api_as, client, login, claimant):
    made = api_as("finance").post("/payments", json=pay(claimant, "250.00", override_reason="Agreed after advice."))
    assert made.status_code == 201
    flags = api_as("finance").get("/risks").get_data(as_text=True)
    assert named(flags) == [] and "A weekly earnings limit that stops a benefit" in flags
    assert "CA_EARN" in api_as("coordinator").get("/risks").get_data(as_text=True)

    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"payment.override", "risk.raised"} <= actions
    login("finance")
    page = client.get(f"/audit/?person_id={claimant}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Payment override" in text and "Risk raised" in text
    assert named(text) == []
    login("admin")
    assert "CA_EARN" in client.get(f"/audit/?person_id={claimant}").get_data(as_text=True)


def test_the_payment_page_is_neutral_for_finance(app, api_as, client, login, claimant):
    made = api_as("admin").post("/payments", json=pay(claimant, "250.00", override_reason="Agreed after advice."))
    pid = made.get_json()["id"]
    login("finance")
    text = client.get(f"/payments/{pid}").get_data(as_text=True)
    assert named(text) == [] and "A weekly earnings limit that stops a benefit" in text
    assert "Trading allowance" in text
    login("coordinator")
    assert "Carer" in client.get(f"/payments/{pid}").get_data(as_text=True)


def test_a_statement_names_no_benefit_so_finance_and_coordinators_read_the_same_one(app, make_user, claimant):
    """Statements carry facts only (issue 13, item 7): nothing in one names a benefit or a rule,
    so finance and a coordinator asking for the same period get the same document."""
    from tracker.auth.models import User
    from tracker.documents import service
    from tracker.people.models import Person

    saved(app, payment_row, claimant, "250.00", date(2025, 4, 9))
    finance_id, coord_id = make_user("finance"), make_user("coordinator")
    with app.app_context():
        person = db.session.get(Person, claimant)
        by_finance, _ = service.request_document(
            person, "statement", date(2025, 4, 1), date(2025, 4, 30), actor=db.session.get(User, finance_id)
        )
        by_coordinator, _ = service.request_document(
            person, "statement", date(2025, 4, 1), date(2025, 4, 30), actor=db.session.get(User, coord_id)
        )
        db.session.commit()
        assert by_finance.id == by_coordinator.id
        assert not service.names_benefits(by_finance)
        assert service.readable_by(by_finance, db.session.get(User, finance_id))
        text = json.dumps(dataclasses.asdict(service.statement_data(by_finance, date(2025, 5, 1))), ensure_ascii=False)
    assert "£250.00" in text
    assert named(text) == [] and "limit" not in text and "Trading allowance" not in text


def test_the_neutral_description_comes_from_the_period_and_the_kind():
    from tracker.rules import redaction

    month = {"start": "2025-04-15", "end": "2025-05-14"}
    assert (
        redaction.describe({"period": month, "measure": "earnings", "estimated_reduction": "10.00", "status": "ok"})
        == "A monthly earnings limit above which a benefit is reduced"
    )
    week = {"start": "2025-04-07", "end": "2025-04-13"}
    assert redaction.describe({"period": week, "measure": "hours", "status": "over"}) == (
        "A weekly hours limit that stops a benefit"
    )
    tax = {"rule": "TAX_TRADING_ALLOWANCE", "benefit": "TAX", "title": "Trading allowance", "period": week}
    assert redaction.verdict(tax)["title"] == "Trading allowance" and redaction.verdict(tax)["rule"] == tax["rule"]
