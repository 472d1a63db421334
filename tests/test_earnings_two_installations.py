"""End to end: two installations in one process, each with its own database and signing key.

Northfield Council (A) pays Sam £150 in the Carer's Allowance week of 7 to 13 April 2025 and gives
Sam a signed earnings record. Riverside (B), which trusts Northfield's key, imports it with Sam's
consent: B's checks now count A's payment, so a £100 payment that alone is within the £196 weekly
limit is blocked. A record with one byte changed is refused; importing the same record again changes
nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests import builders
from tests.builders import PASSWORD, Api, assert_error
from tracker.audit.models import AuditEvent
from tracker.earnings import signing
from tracker.extensions import db
from tracker.payments.models import OtherIncome
from tracker.rules import service as rules_service

WEEK_PAYMENT = builders.PAID_ON  # Wednesday 9 April 2025


def _installation(make_app, path, name: str):
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
        ORGANISATION_NAME=name,
        EARNINGS_SIGNING_KEY=signing.private_pem(signing.new_private_key()),
    )
    with app.app_context():
        db.create_all()
        rules_service.ensure_default_pack()
        db.session.commit()
    return app


def _tokens(app, *roles: str, person_id: int | None = None) -> dict[str, str]:
    with app.app_context():
        out = {
            role: builders.token(builders.user(role, person=person_id if role == "contributor" else None))
            for role in roles
        }
        db.session.commit()
    return out


def _counts(app) -> tuple[int, int]:
    return builders.count(app, OtherIncome), builders.count(app, AuditEvent)


@pytest.fixture
def two(make_app, tmp_path):
    rules_service.forget_cache()
    a = _installation(make_app, tmp_path / "northfield.sqlite", "Northfield Council")
    b = _installation(make_app, tmp_path / "riverside.sqlite", "Riverside Co-production Network")
    with a.app_context():
        sam_a = builders.person("Sam Rivers")
        db.session.add(builders.payment(sam_a, "150.00", WEEK_PAYMENT))
        db.session.commit()
        sam_a_id = sam_a.id
    with b.app_context():
        sam_b_id = builders.person("Sam Rivers", claims=[builders.CA]).id
        db.session.commit()
    yield a, b, sam_a_id, sam_b_id
    rules_service.forget_cache()


def test_a_record_from_one_installation_counts_in_the_others_checks(two):
    a, b, sam_a, sam_b = two
    # A: Sam (as a contributor) takes a signed record of April's payments.
    a_api = Api(a.test_client(), _tokens(a, "contributor", person_id=sam_a)["contributor"])
    resp = a_api.get(f"/people/{sam_a}/earnings-record?start_on=2025-04-01&end_on=2025-04-30")
    assert resp.status_code == 200
    raw = resp.data
    published = a.test_client().get("/.well-known/tracker-earnings-key.json").get_json()

    # B: an admin trusts Northfield's published key on the trusted issuers page.
    b_client = b.test_client()
    with b.app_context():
        admin_email = builders.user("admin").email
        db.session.commit()
    b_client.post("/sign-in", data={"email": admin_email, "password": PASSWORD})
    added = b_client.post(
        "/admin/trusted-issuers", data={"name": "Northfield Council", "public_key": published["public_key"]}
    )
    assert added.status_code == 302

    tokens = _tokens(b, "coordinator", "finance", "contributor", person_id=sam_b)
    coordinator, finance = Api(b.test_client(), tokens["coordinator"]), Api(b.test_client(), tokens["finance"])
    proposed = builders.pay(sam_b, "100.00", "2025-04-10")
    before = coordinator.post("/payments/check", json=proposed).get_json()
    assert before["blocked"] is False  # £100 alone is within £196

    # A byte changed in the record: refused, nothing written.
    counts = _counts(b)
    tampered = raw.replace(b"150.00", b"150.01", 1)
    assert len(tampered) == len(raw) and tampered != raw
    refused = b.test_client().post(
        f"/api/v1/people/{sam_b}/earnings-records",
        data=b'{"consent": true, "record": ' + tampered + b"}",
        headers={"Authorization": f"Bearer {tokens['coordinator']}", "Content-Type": "application/json"},
    )
    assert_error(refused, 422, "bad_signature", "record")
    assert _counts(b) == counts

    # The record itself, with Sam's consent: A's payment is now other income from Northfield.
    body = b'{"consent": true, "record": ' + raw + b"}"
    headers = {"Authorization": f"Bearer {tokens['coordinator']}", "Content-Type": "application/json"}
    imported = b.test_client().post(f"/api/v1/people/{sam_b}/earnings-records", data=body, headers=headers)
    assert imported.status_code == 201, imported.get_data(as_text=True)
    assert imported.get_json()["verification_code"] == signing.verification_code(resp.get_json())

    after = coordinator.post("/payments/check", json=proposed).get_json()
    assert after["blocked"] is True
    ca = next(v for v in after["verdicts"] if v["rule"].startswith("CA_"))
    assert (ca["total_after"], ca["status"]) == ("250.00", "over")
    assert ca["sources"] == [
        {"name": "Riverside Co-production Network", "amount": "100.00"},
        {"name": "Northfield Council", "amount": "150.00"},
    ]
    assert_error(finance.post("/payments", json=proposed), 409, "benefit_rule_block")

    # Re-importing the same record: a no-op.
    counts = _counts(b)
    again = b.test_client().post(f"/api/v1/people/{sam_b}/earnings-records", data=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "unchanged"
    assert _counts(b) == counts
    assert coordinator.post("/payments/check", json=proposed).get_json()["verdicts"] == after["verdicts"]

    # The position names the payers, and Sam's own page says it in plain words.
    position = coordinator.get(f"/people/{sam_b}/position?on=2025-04-09").get_json()
    week = next(v for v in position["verdicts"] if v["rule"].startswith("CA_") and v["period"]["start"] == "2025-04-07")
    assert week["sources"] == [{"name": "Northfield Council", "amount": "150.00"}]
    with b.app_context():
        own_email = db.session.scalar(
            sa.text("SELECT email FROM user_account WHERE role = 'contributor' AND person_id = :p"), {"p": sam_b}
        )
    own = b.test_client()
    own.post("/sign-in", data={"email": own_email, "password": PASSWORD})
    page = own.get("/me/position?on=2025-04-09").get_data(as_text=True)
    assert "£150.00 of this came from Northfield Council." in page


def test_installations_keep_their_own_keys(two):
    a, b, _, _ = two
    key_a = a.test_client().get("/.well-known/tracker-earnings-key.json").get_json()
    key_b = b.test_client().get("/.well-known/tracker-earnings-key.json").get_json()
    assert key_a["key_id"] != key_b["key_id"]
    assert (key_a["organisation"], key_b["organisation"]) == ("Northfield Council", "Riverside Co-production Network")
    assert date.fromisoformat("2025-04-09") == WEEK_PAYMENT
