"""Bank details: validation, encryption at rest, masking, audit, key rotation, who may see them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

import config as config_module
import tracker.api.runs  # noqa: F401  (registers the routes whatever the API's wiring)
from tests.conftest import PASSWORD
from tracker.audit.models import AuditEvent
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.notify.models import Notification
from tracker.runs import accounts, crypto
from tracker.runs.models import BankAccount

KEY = Fernet.generate_key().decode()
GOOD = {"account_name": "ALEX EXAMPLE", "sort_code": "12-34-56", "account_number": "87654321"}


@pytest.fixture(autouse=True)
def _key(app, monkeypatch):
    monkeypatch.setitem(app.config, "BANK_DETAILS_KEYS", KEY)


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _raw(app, person_id: int) -> str:
    with app.app_context():
        return db.session.execute(
            sa.text("SELECT secret FROM bank_account WHERE person_id = :p"), {"p": person_id}
        ).scalar_one()


def test_put_returns_masked_details_and_stores_them_encrypted(app, make_person, api_as):
    pid = make_person("Alex")
    resp = api_as("finance").put(f"/people/{pid}/bank-account", json=GOOD)
    assert resp.status_code == 200
    assert resp.get_json() == {
        "person_id": pid,
        "held": True,
        "account_name": "ALEX EXAMPLE",
        "sort_code": "**-**-56",
        "account_number": "****4321",
    }
    raw = _raw(app, pid)
    assert "87654321" not in raw and "123456" not in raw and "ALEX" not in raw
    with app.app_context():
        assert accounts.details_for([pid])[pid] == accounts.BankDetails("ALEX EXAMPLE", "123456", "87654321")


def test_get_is_masked_and_a_staff_view_is_audited(app, make_person, api_as):
    pid = make_person("Alex")
    finance = api_as("finance")
    assert finance.get(f"/people/{pid}/bank-account").get_json()["held"] is False
    finance.put(f"/people/{pid}/bank-account", json=GOOD)
    body = finance.get(f"/people/{pid}/bank-account").get_json()
    assert body["account_number"] == "****4321" and "87654321" not in str(body)
    viewed = _events(app, "bank_account.viewed")
    assert len(viewed) == 2 and {e.person_id for e in viewed} == {pid}
    changed = _events(app, "bank_account.changed")
    assert len(changed) == 1 and changed[0].after["account_number"] == "****4321"
    assert "87654321" not in str(changed[0].after) + str(changed[0].before)


def test_a_change_is_audited_with_masked_before_and_the_person_is_told(app, make_person, make_user, api_as):
    pid = make_person("Alex")
    make_user("contributor", person_id=pid)
    finance = api_as("finance")
    finance.put(f"/people/{pid}/bank-account", json=GOOD)
    finance.put(f"/people/{pid}/bank-account", json={**GOOD, "account_number": "11112222"})
    changed = _events(app, "bank_account.changed")
    assert changed[-1].before["account_number"] == "****4321" and changed[-1].after["account_number"] == "****2222"
    with app.app_context():
        notes = list(db.session.scalars(sa.select(Notification).where(Notification.kind == "bank_details")))
    assert len(notes) == 2 and "ends 2222" in notes[-1].body and "11112222" not in notes[-1].body


@pytest.mark.parametrize(
    "field, value",
    [
        ("account_name", "A" * 19),
        ("account_name", "Name; DROP"),
        ("account_name", "   "),
        ("sort_code", "12345"),
        ("sort_code", "12-34 56"),
        ("sort_code", "ab-cd-ef"),
        ("sort_code", "1234567"),
        ("account_number", "1234567"),
        ("account_number", "123456"),
        ("account_number", "123456789"),
        ("account_number", "1234-678"),
    ],
)
def test_bad_details_are_refused_per_field(app, make_person, api_as, field, value):
    pid = make_person("Alex")
    resp = api_as("finance").put(f"/people/{pid}/bank-account", json={**GOOD, field: value})
    assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], resp.get_json()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BankAccount)) == 0


@pytest.mark.parametrize("raw", ["12-34-56", "12 34 56", "123456"])
def test_sort_code_forms(raw):
    assert accounts.parse_bank_details({**GOOD, "sort_code": raw}).sort_code == "123456"


def test_short_account_numbers_get_a_clear_message():
    with pytest.raises(ValidationFailed) as e:
        accounts.parse_bank_details({**GOOD, "account_number": "1234567"})
    assert "8 digits" in e.value.fields["account_number"][0]


def test_who_may_see_and_set(app, make_person, make_user, api_as):
    own, other = make_person("Own"), make_person("Other")
    contributor = api_as("contributor", person_id=own)
    assert contributor.put(f"/people/{own}/bank-account", json=GOOD).status_code == 200
    assert contributor.get(f"/people/{own}/bank-account").get_json()["account_number"] == "****4321"
    assert contributor.put(f"/people/{other}/bank-account", json=GOOD).status_code == 404
    assert contributor.get(f"/people/{other}/bank-account").status_code == 404
    assert api_as("coordinator").get(f"/people/{own}/bank-account").status_code == 403
    assert api_as("finance").get("/people/999999/bank-account").status_code == 404
    assert _events(app, "bank_account.viewed") == []  # a person's own view is not a staff view


def test_key_rotation_with_two_keys(app, make_person, api_as, monkeypatch):
    pid = make_person("Alex")
    api_as("finance").put(f"/people/{pid}/bank-account", json=GOOD)
    before = _raw(app, pid)
    new = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "BANK_DETAILS_KEYS", f"{new}, {KEY}")
    result = app.test_cli_runner().invoke(args=["bank", "rotate-keys"])
    assert result.exit_code == 0 and "Re-encrypted 1 bank detail record" in result.output
    after = _raw(app, pid)
    assert after != before
    assert Fernet(new.encode()).decrypt(after.encode())  # the first key encrypted it
    monkeypatch.setitem(app.config, "BANK_DETAILS_KEYS", new)  # the old key can now go
    with app.app_context():
        assert accounts.details_for([pid])[pid].account_number == "87654321"
    monkeypatch.setitem(app.config, "BANK_DETAILS_KEYS", Fernet.generate_key().decode())
    resp = api_as("finance").get(f"/people/{pid}/bank-account")
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "bank_details_unavailable"


def test_rotation_refuses_when_a_row_has_an_unknown_key(app, make_person, api_as, monkeypatch):
    pid = make_person("Alex")
    api_as("finance").put(f"/people/{pid}/bank-account", json=GOOD)
    monkeypatch.setitem(app.config, "BANK_DETAILS_KEYS", Fernet.generate_key().decode())
    result = app.test_cli_runner().invoke(args=["bank", "rotate-keys"])
    assert result.exit_code == 2 and _raw(app, pid)


def test_production_refuses_no_key_and_the_development_key(app, make_person, api_as, monkeypatch):
    pid = make_person("Alex")
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    for keys in ("", config_module.DEV_BANK_DETAILS_KEY):
        monkeypatch.setitem(app.config, "BANK_DETAILS_KEYS", keys)
        resp = api_as("finance").put(f"/people/{pid}/bank-account", json=GOOD)
        assert resp.status_code == 409 and "BANK_DETAILS_KEYS" in resp.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BankAccount)) == 0


def test_only_development_and_tests_have_a_default_key():
    assert config_module.Defaults.BANK_DETAILS_KEYS == config_module.DEV_BANK_DETAILS_KEY
    assert config_module.load_config({"BANK_DETAILS_KEYS": "a,b"})["BANK_DETAILS_KEYS"] == "a,b"


def test_a_key_that_is_not_a_fernet_key_is_refused(app):
    with app.test_request_context():
        app.config["BANK_DETAILS_KEYS"] = "not-a-key"
        with pytest.raises(crypto.KeysMissing):
            crypto.encrypt("x")
        app.config["BANK_DETAILS_KEYS"] = KEY


# ---- pages ---------------------------------------------------------------------------------------


def test_finance_page_sets_details_masked_and_audited(app, client, login, make_person):
    pid = make_person("Alex")
    login("finance")
    page = client.get(f"/payment-runs/bank-details/{pid}")
    assert page.status_code == 200 and "Held now: none" in page.get_data(as_text=True)
    bad = client.post(f"/payment-runs/bank-details/{pid}", data={**GOOD, "sort_code": "12"})
    assert bad.status_code == 422 and "error-summary" in bad.get_data(as_text=True)
    assert client.post(f"/payment-runs/bank-details/{pid}", data=GOOD).status_code == 302
    shown = client.get(f"/payment-runs/bank-details/{pid}").get_data(as_text=True)
    assert "****4321" in shown and "87654321" not in shown
    assert len(_events(app, "bank_account.viewed")) >= 2


def test_contributor_sets_their_own_after_typing_their_password(app, client, login, make_person):
    pid = make_person("Alex")
    login("contributor", person_id=pid)
    assert client.get("/me/bank-details").status_code == 200
    wrong = client.post("/me/bank-details", data={**GOOD, "password": "not the password"})
    assert wrong.status_code == 422 and "not your password" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BankAccount)) == 0
    assert client.post("/me/bank-details", data=GOOD).status_code == 422  # no password at all
    ok = client.post("/me/bank-details", data={**GOOD, "password": PASSWORD})
    assert ok.status_code == 302
    page = client.get("/me/bank-details").get_data(as_text=True)
    assert "****4321" in page and "87654321" not in page
    assert _events(app, "bank_account.changed")[0].actor_id is not None


def test_typing_the_password_again_is_throttled(make_app, make_person, make_user):
    pid = make_person("Alex")
    uid = make_user("contributor", person_id=pid)
    app = make_app(RATELIMIT_ENABLED=True, SIGN_IN_LIMIT="3 per minute", BANK_DETAILS_KEYS=KEY)
    client = app.test_client()
    with app.app_context():
        from tracker.auth.models import User

        email = db.session.get(User, uid).email
    assert client.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302
    codes = [client.post("/me/bank-details", data={**GOOD, "password": "wrong password"}).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    assert client.get("/me/bank-details").status_code == 200
