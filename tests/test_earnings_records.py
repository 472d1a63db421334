"""Signed earnings records: the canonical form, signatures, issuing, importing, trust and access."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from tests import builders
from tests.builders import TEST_EARNINGS_KEY, assert_error
from tracker.audit.models import AuditEvent
from tracker.earnings import keys, service, signing
from tracker.earnings.models import EarningsImport, TrustedIssuer
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.payments.models import OtherIncome

APRIL = ("2025-04-01", "2025-04-30")
NOW = datetime(2025, 5, 1, 9, 0)


# ---- the canonical form and signatures (pure) ---------------------------------------------------


def test_canonical_form_sorts_keys_drops_whitespace_and_keeps_utf8():
    assert signing.canonical({"b": [1, "Zoë"], "a": {"y": None, "x": True}}) == (
        '{"a":{"x":true,"y":null},"b":[1,"Zoë"]}'.encode()
    )


def test_canonical_form_refuses_floats():
    with pytest.raises(ValueError, match="money is text"):
        signing.canonical({"entries": [{"amount": 1.5}]})


def _key():
    return signing.load_private(TEST_EARNINGS_KEY)


def test_a_signed_record_verifies_and_one_changed_byte_does_not():
    key = _key()
    public = signing.public_bytes(key.public_key())
    record = signing.sign({"entries": [{"amount": "150.00"}], "person": {"name": "Siobhán"}}, key)
    assert signing.verify(record, public)
    # Whitespace and key order are not content: the canonical form is what is signed.
    assert signing.verify(json.loads(json.dumps(record, indent=4, sort_keys=False)), public)
    raw = json.dumps(record).encode()
    tampered = json.loads(raw.replace(b"150.00", b"150.01"))
    assert not signing.verify(tampered, public)
    assert not signing.verify({k: v for k, v in record.items() if k != "signature"}, public)
    assert not signing.verify({**record, "signature": "not base64!"}, public)
    other = signing.public_bytes(signing.new_private_key().public_key())
    assert not signing.verify(record, other)


def test_verification_code_and_key_id():
    key = _key()
    record = signing.sign({"a": "1"}, key)
    code = signing.verification_code(record)
    assert len(code) == 11 and code[5] == "-"
    assert code == signing.verification_code({**record, "signature": "changed"})  # the content, not the signature
    assert code != signing.verification_code(signing.sign({"a": "2"}, key))
    public = signing.public_bytes(key.public_key())
    assert signing.key_id(public) == signing.key_id(public) and len(signing.key_id(public)) == 16


def test_keys_load_from_pem_and_base64_and_bad_keys_are_refused():
    key = signing.new_private_key()
    again = signing.load_private(signing.private_pem(key))
    assert signing.public_bytes(again.public_key()) == signing.public_bytes(key.public_key())
    b64 = signing.public_b64(key.public_key())
    assert signing.load_public(b64) == signing.public_bytes(key.public_key())
    for bad in ("", "hello", base64.b64encode(b"short").decode()):
        with pytest.raises(signing.BadKey):
            signing.load_public(bad)
        with pytest.raises(signing.BadKey):
            signing.load_private(bad or "x")


def test_development_key_is_made_once_and_kept(tmp_path):
    path = tmp_path / "instance" / keys.DEV_KEY_FILE
    first = keys._development_key(path)
    assert keys._development_key(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    signing.load_private(first)


# ---- issuing --------------------------------------------------------------------------------------


@pytest.fixture
def sam(app):
    """Sam, with April 2025 payments: £150 cash for two sessions, a £40 voucher reversed by £40, a
    cancelled £99 and a £20 draft due in April, received in May."""
    with app.app_context():
        person = builders.person("Sam Rivers")
        panel = builders.activity("Panel")
        c1 = builders.contribution(person, date(2025, 4, 3), "2.00", activity=panel, preparation_hours=Decimal("0.50"))
        c2 = builders.contribution(person, date(2025, 4, 4), "1.50", activity=panel)
        builders.payment(person, "150.00", date(2025, 4, 9), contributions=[c1, c2])
        voucher = builders.payment(person, "40.00", date(2025, 4, 10), kind="voucher")
        builders.payment(person, "-40.00", date(2025, 4, 11), kind="voucher", reversal_of=voucher)
        builders.payment(person, "99.00", date(2025, 4, 12), status="cancelled")
        builders.payment(person, "20.00", date(2025, 5, 2), status="draft", due_on=date(2025, 4, 30))
        db.session.commit()
        return person.id


def _issue(app, person_id, start=date(2025, 4, 1), end=date(2025, 4, 30), now=NOW) -> dict:
    with app.app_context():
        from tracker.people.models import Person

        record = service.issue(db.session.get(Person, person_id), start, end, actor=None, now=now)
        db.session.commit()
        return record


def test_a_record_lists_the_payments_with_every_date_a_rule_counts(app, sam):
    record = _issue(app, sam)
    assert signing.verify(record, base64.b64decode(_published(app)["public_key"]))
    assert record["format"] == signing.FORMAT
    assert record["issuer"] == {"name": app.config["ORGANISATION_NAME"], "key_id": _published(app)["key_id"]}
    assert record["person"] == {"name": "Sam Rivers", "reference": f"P-{sam:06d}"}
    assert record["period"] == {"start": APRIL[0], "end": APRIL[1]}
    assert record["issued_at"] == "2025-05-01T09:00:00Z"
    by_amount = {e["amount"]: e for e in record["entries"]}
    assert set(by_amount) == {"150.00", "0.00", "20.00"}  # the reversed voucher nets to 0; cancelled is left out
    cash = by_amount["150.00"]
    assert cash["kind"] == "cash" and cash["status"] == "paid"
    assert (cash["received_on"], cash["due_on"]) == ("2025-04-09", "2025-04-09")
    assert cash["worked_on"] == ["2025-04-03", "2025-04-04"] and cash["hours"] == "4.00"
    planned = by_amount["20.00"]
    assert (planned["status"], planned["received_on"], planned["due_on"]) == ("draft", "2025-05-02", "2025-04-30")
    assert record["total"] == "170.00"
    assert "benefit" not in json.dumps(record).lower()
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "earnings_record.issued"))
        assert event.person_id == sam and event.after["record_id"] == record["record_id"]
        assert event.after["verification_code"] == signing.verification_code(record)


def test_a_period_is_checked(app, sam):
    with app.app_context():
        from tracker.people.models import Person

        person = db.session.get(Person, sam)
        for start, end, field in (
            (None, date(2025, 4, 30), "start_on"),
            (date(2025, 4, 30), date(2025, 4, 1), "end_on"),
            (date(2024, 1, 1), date(2025, 4, 1), "end_on"),
        ):
            with pytest.raises(ValidationFailed) as e:
                service.issue(person, start, end, actor=None, now=NOW)
            assert field in e.value.fields


def _published(app) -> dict:
    with app.app_context():
        return service.published_key()


# ---- importing --------------------------------------------------------------------------------------


@pytest.fixture
def trusting(app):
    """This installation trusts its own key as "Northfield Council" (so its records can be imported here)."""
    with app.app_context():
        service.add_issuer(
            {"name": "Northfield Council", "public_key": service.published_key()["public_key"]}, actor=None, now=NOW
        )
        db.session.commit()


def _import(app, person_id, record, *, consent=True, now=NOW):
    with app.app_context():
        from tracker.people.models import Person

        try:
            outcome = service.import_record(
                db.session.get(Person, person_id), record, consent=consent, actor=None, now=now
            )
        except (ValidationFailed, Conflict):
            db.session.rollback()
            raise
        db.session.commit()
        return outcome.status, outcome.added, outcome.removed


def _income(app, person_id) -> list[tuple]:
    with app.app_context():
        return sorted(
            db.session.execute(
                sa.select(OtherIncome.amount, OtherIncome.received_on, OtherIncome.source, OtherIncome.entry_ref).where(
                    OtherIncome.person_id == person_id
                )
            ).all()
        )


def test_import_adds_money_entries_once_as_income_from_the_issuer(app, sam, trusting):
    record = _issue(app, sam)
    alex = builders.saved(app, builders.person, "Alex Other")
    with app.app_context():
        version = db.session.execute(sa.text("SELECT ledger_version FROM person WHERE id = :id"), {"id": alex}).scalar()
    assert _import(app, alex, record) == ("imported", 2, 0)
    income = _income(app, alex)
    assert [(i.amount, i.received_on, i.source) for i in income] == [
        (Decimal("20.00"), date(2025, 5, 2), "Northfield Council"),
        (Decimal("150.00"), date(2025, 4, 9), "Northfield Council"),
    ]
    with app.app_context():
        row = db.session.scalar(sa.select(EarningsImport))
        assert row.verification_code == signing.verification_code(record) and row.total == Decimal("170.00")
        assert row.consented_at == NOW
        cash = db.session.scalar(sa.select(OtherIncome).where(OtherIncome.amount == Decimal("150.00")))
        assert (cash.due_on, cash.worked_on) == (date(2025, 4, 9), date(2025, 4, 3))
        after = db.session.execute(sa.text("SELECT ledger_version FROM person WHERE id = :id"), {"id": alex}).scalar()
        assert after > version
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "earnings_record.imported")).all()
        assert len(events) == 1 and events[0].person_id == alex
        assert len(events[0].after["income"]) == 2 and events[0].after["consent"]["at"]
    # The same record again: nothing changes, not even the audit trail.
    assert _import(app, alex, record) == ("unchanged", 0, 0)
    assert _income(app, alex) == income
    assert builders.count(app, AuditEvent) == _count_after(app)


def _count_after(app) -> int:
    return builders.count(app, AuditEvent)


def test_a_newer_record_for_the_period_replaces_the_older_and_an_older_one_is_refused(app, sam, trusting):
    old = _issue(app, sam, now=datetime(2025, 5, 1, 9, 0))
    with app.app_context():
        db.session.add(builders.payment(sam, "60.00", date(2025, 4, 20)))
        db.session.commit()
    new = _issue(app, sam, now=datetime(2025, 5, 2, 9, 0))
    alex = builders.saved(app, builders.person, "Alex Other")
    _import(app, alex, old)
    assert _import(app, alex, new) == ("replaced", 3, 2)
    assert sorted(i.amount for i in _income(app, alex)) == [Decimal("20.00"), Decimal("60.00"), Decimal("150.00")]
    with pytest.raises(Conflict) as e:
        _import(app, alex, _issue(app, sam, now=datetime(2025, 4, 30, 9, 0)))
    assert e.value.code == "newer_record_imported"
    assert len(_income(app, alex)) == 3
    with app.app_context():
        replaced = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "earnings_record.replaced"))
        assert len(replaced.before["income"]) == 2
    # Re-importing the old one is still a no-op (it was imported once).
    assert _import(app, alex, old)[0] == "unchanged"


def test_consent_is_required(app, sam, trusting):
    record = _issue(app, sam)
    with pytest.raises(ValidationFailed) as e:
        _import(app, sam, record, consent=False)
    assert "Sam Rivers agreed" in e.value.fields["consent"][0]
    assert _income(app, sam) == []


def test_untrusted_tampered_and_revoked_records_are_refused_with_a_reason(app, sam):
    record = _issue(app, sam)
    with pytest.raises(ValidationFailed) as e:
        _import(app, sam, record)
    assert e.value.code == "untrusted_issuer" and "does not trust" in e.value.fields["record"][0]
    with app.app_context():
        issuer = service.add_issuer(
            {"name": "Northfield Council", "public_key": service.published_key()["public_key"]}, actor=None, now=NOW
        )
        db.session.commit()
        issuer_id = issuer.id
    tampered = json.loads(json.dumps(record).replace('"150.00"', '"15.00"'))
    with pytest.raises(ValidationFailed) as e:
        _import(app, sam, tampered)
    assert e.value.code == "bad_signature" and "changed since Northfield Council signed it" in e.value.message
    for junk in ({"format": "something else"}, [], "text"):
        with pytest.raises(ValidationFailed) as e:
            _import(app, sam, junk)
        assert e.value.code == "invalid_record"
    with app.app_context():
        assert service.revoke_issuer(db.session.get(TrustedIssuer, issuer_id), actor=None, now=NOW)
        db.session.commit()
    with pytest.raises(ValidationFailed) as e:
        _import(app, sam, record)
    assert e.value.code == "untrusted_issuer"
    assert _income(app, sam) == []


def test_trusting_an_issuer_is_checked_and_audited(app):
    with app.app_context():
        with pytest.raises(ValidationFailed) as e:
            service.add_issuer({"name": "", "public_key": "nonsense"}, actor=None, now=NOW)
        assert set(e.value.fields) == {"name", "public_key"}
        public = signing.public_b64(signing.new_private_key().public_key())
        issuer = service.add_issuer({"name": "Northfield Council", "public_key": public}, actor=None, now=NOW)
        with pytest.raises(ValidationFailed, match="valid"):
            service.add_issuer({"name": "Again", "public_key": public}, actor=None, now=NOW)
        assert service.revoke_issuer(issuer, actor=None, now=NOW)
        assert not service.revoke_issuer(issuer, actor=None, now=NOW)
        again = service.add_issuer({"name": "Northfield Council (new)", "public_key": public}, actor=None, now=NOW)
        assert again.id == issuer.id and again.revoked_at is None
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.entity_type == "trusted_issuer").order_by(AuditEvent.id)
        ).all()
        assert actions == ["trusted_issuer.added", "trusted_issuer.revoked", "trusted_issuer.added"]


# ---- pages and the API ------------------------------------------------------------------------------


def test_contributor_downloads_their_own_record_only(app, client, sam, login, make_person):
    login("contributor", person_id=sam)
    resp = client.get(f"/people/{sam}/earnings-record?start_on={APRIL[0]}&end_on={APRIL[1]}&format=json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    record = json.loads(resp.data)
    assert signing.verify(record, base64.b64decode(_published(app)["public_key"]))
    pdf = client.get(f"/people/{sam}/earnings-record?start_on={APRIL[0]}&end_on={APRIL[1]}&format=pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    assert "Verification code:" in text and "Sam Rivers" in text and "£150.00" in text
    other = make_person("Someone Else")
    assert (
        client.get(f"/people/{other}/earnings-record?start_on={APRIL[0]}&end_on={APRIL[1]}&format=json").status_code
        == 404
    )
    bad = client.get(f"/people/{sam}/earnings-record?start_on={APRIL[1]}&end_on={APRIL[0]}&format=json")
    assert bad.status_code == 422 and b"cannot be before" in bad.data


def test_api_record_and_import(app, client, sam, api_as, make_person, trusting):
    own = api_as("contributor", person_id=sam)
    resp = own.get(f"/people/{sam}/earnings-record?start_on={APRIL[0]}&end_on={APRIL[1]}")
    assert resp.status_code == 200
    record = resp.get_json()
    other = make_person("Someone Else")
    assert own.get(f"/people/{other}/earnings-record?start_on={APRIL[0]}&end_on={APRIL[1]}").status_code == 404
    assert_error(own.get(f"/people/{sam}/earnings-record?start_on=2025-13-01&end_on={APRIL[1]}"), 422, field="start_on")
    assert own.post(f"/people/{sam}/earnings-records", json={"record": record, "consent": True}).status_code == 403
    assert (
        api_as("finance")
        .post(f"/people/{other}/earnings-records", json={"record": record, "consent": True})
        .status_code
        == 403
    )
    coordinator = api_as("coordinator")
    assert_error(
        coordinator.post(f"/people/{other}/earnings-records", json={"record": record, "consent": False}),
        422,
        field="consent",
    )
    first = coordinator.post(f"/people/{other}/earnings-records", json={"record": record, "consent": True})
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json()["status"] == "imported" and first.get_json()["added"] == 2
    again = coordinator.post(f"/people/{other}/earnings-records", json={"record": record, "consent": True})
    assert again.status_code == 200 and again.get_json()["status"] == "unchanged"
    record["entries"][0]["amount"] = "1.00"
    assert_error(
        coordinator.post(f"/people/{other}/earnings-records", json={"record": record, "consent": True}),
        422,
        "bad_signature",
        "record",
    )


def test_import_page_asks_for_consent_and_shows_the_reason_for_a_refusal(app, client, sam, login, trusting):
    record = _issue(app, sam)
    alex = builders.saved(app, builders.person, "Alex Other")
    login("coordinator")
    page = client.get(f"/people/{alex}/earnings-records/import")
    assert page.status_code == 200 and b"Alex Other agreed to add these earnings" in page.data

    def upload(body: bytes, consent: bool):
        data = {"file": (BytesIO(body), "record.json")}
        if consent:
            data["consent"] = "y"
        return client.post(f"/people/{alex}/earnings-records/import", data=data, content_type="multipart/form-data")

    raw = json.dumps(record).encode()
    refused = upload(raw, consent=False)
    assert refused.status_code == 422 and b"Confirm that Alex Other agreed" in refused.data
    tampered = upload(raw.replace(b'"150.00"', b'"150.50"'), consent=True)
    assert tampered.status_code == 422 and b"has been changed since" in tampered.data
    assert _income(app, alex) == []
    done = upload(raw, consent=True)
    assert done.status_code == 302
    shown = client.get(done.headers["Location"])
    assert b"2 payments from Northfield Council added for Alex Other" in shown.data
    assert signing.verification_code(record).encode() in shown.data
    assert len(_income(app, alex)) == 2


def test_admin_trusts_and_revokes_an_issuer_on_the_page(app, client, login):
    login("admin")
    page = client.get("/admin/trusted-issuers")
    assert page.status_code == 200 and _published(app)["key_id"].encode() in page.data
    public = signing.public_b64(signing.new_private_key().public_key())
    bad = client.post("/admin/trusted-issuers", data={"name": "Northfield Council", "public_key": "abc"})
    assert bad.status_code == 422
    added = client.post("/admin/trusted-issuers", data={"name": "Northfield Council", "public_key": public})
    assert added.status_code == 302
    with app.app_context():
        issuer_id = db.session.scalar(sa.select(TrustedIssuer.id))
    assert client.post(f"/admin/trusted-issuers/{issuer_id}/revoke").status_code == 302
    assert b"No longer trusted since" in client.get("/admin/trusted-issuers").data
    assert client.post("/admin/trusted-issuers/999/revoke").status_code == 404


def test_the_well_known_key_is_published(app, client):
    body = client.get("/.well-known/tracker-earnings-key.json").get_json()
    assert body["organisation"] == app.config["ORGANISATION_NAME"]
    assert body["algorithm"] == "Ed25519"
    public = signing.load_public(body["public_key"])
    assert body["key_id"] == signing.key_id(public)
    assert public == signing.public_bytes(signing.load_private(TEST_EARNINGS_KEY).public_key())


def test_production_without_a_key_signs_nothing(make_app, sam, make_user):
    prod = make_app(ENV_NAME="production", SECRET_KEY="s" * 40, EARNINGS_SIGNING_KEY="", REQUIRE_2FA=False)
    client = prod.test_client()
    resp = client.get("/.well-known/tracker-earnings-key.json")
    assert resp.status_code == 503 and "EARNINGS_SIGNING_KEY" in resp.get_json()["error"]["message"]
    _, token = make_user("coordinator", token=True)
    api = builders.Api(client, token)
    assert_error(
        api.get(f"/people/{sam}/earnings-record?start_on={APRIL[0]}&end_on={APRIL[1]}"), 409, "signing_key_missing"
    )


def test_the_same_record_sent_twice_at_once_is_added_once(app, sam, trusting):
    record = _issue(app, sam)
    alex = builders.saved(app, builders.person, "Alex Other")
    with app.app_context():
        tokens = [builders.token(builders.user("coordinator")) for _ in range(2)]
        db.session.commit()
    codes = builders.at_once(app, tokens, f"/people/{alex}/earnings-records", {"record": record, "consent": True})
    assert codes == [200, 201]
    assert len(_income(app, alex)) == 2
    assert builders.count(app, EarningsImport) == 1
