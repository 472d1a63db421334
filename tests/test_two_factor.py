"""The second factor: setting it up with a real code, the code step of signing in, recovery codes,
replayed codes, throttling, REQUIRE_2FA for admin and finance, an admin's reset, and the audit trail."""

from __future__ import annotations

import re
import types

import pyotp
import pytest
import sqlalchemy as sa

from tests.builders import PASSWORD
from tracker import create_app
from tracker.audit.models import AuditEvent
from tracker.auth import totp, two_factor_pages
from tracker.auth.models import RecoveryCode, User
from tracker.extensions import db

NOW = 1_796_000_000.0  # a fixed moment, so every code is known
SETUP_KEY = re.compile(r'id="setup-key"><strong>([A-Z2-7 ]+)</strong>')
CODE = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


@pytest.fixture
def clock(monkeypatch):
    """The time the one-time codes are worked out at: ``clock.now`` (seconds), moved by the test."""
    fake = types.SimpleNamespace(now=NOW)
    monkeypatch.setattr(totp, "time", types.SimpleNamespace(time=lambda: fake.now))
    return fake


def _email(app, uid: int) -> str:
    with app.app_context():
        return db.session.get(User, uid).email


def _password(client, email: str, next_: str = ""):
    return client.post("/sign-in" + next_, data={"email": email, "password": PASSWORD})


def _signed_in(app, uid: int):
    client = app.test_client()
    assert _password(client, _email(app, uid)).status_code == 302
    return client


def _enrol(app, uid: int, client=None) -> tuple[str, list[str], object]:
    """Set up the user's second factor through the pages; (secret, recovery codes, signed-in client)."""
    client = client or _signed_in(app, uid)
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SETUP_KEY.search(page).group(1).replace(" ", "")
    resp = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).at(NOW)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    codes = CODE.findall(client.get("/account/two-factor").get_data(as_text=True))
    return secret, codes, client


def _actions(app, action: str) -> list[dict | None]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.after).where(AuditEvent.action == action)))


def _user(app, uid: int) -> User:
    with app.app_context():
        user = db.session.get(User, uid)
        db.session.expunge(user)
        return user


# ---- setting it up ----------------------------------------------------------------------------------


def test_setting_up_needs_a_real_code_and_shows_recovery_codes_once(app, make_user, clock):
    uid = make_user("coordinator")
    client = _signed_in(app, uid)
    page = client.get("/account/two-factor")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<svg role="img"' in text and "<title>QR code to scan" in text  # drawn here, no image fetched
    assert 'autocomplete="one-time-code"' in text and 'inputmode="numeric"' in text
    secret = SETUP_KEY.search(text).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)  # in groups, for typing or reading out
    secret = secret.replace(" ", "")
    assert client.get("/account/two-factor").get_data(as_text=True).count(secret[:4] + " " + secret[4:8]) == 1

    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.get_data(as_text=True) and "There is a problem" in wrong.get_data(
        as_text=True
    )
    assert not _user(app, uid).has_two_factor

    assert client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).at(NOW)}).status_code == 302
    shown = client.get("/account/two-factor").get_data(as_text=True)
    codes = CODE.findall(shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "10 of 10" in shown
    again = client.get("/account/two-factor").get_data(as_text=True)
    assert CODE.findall(again) == [] and secret[:4] + " " not in again  # neither is shown again

    user = _user(app, uid)
    assert user.has_two_factor and secret not in user.totp_secret  # sealed, not stored as typed
    with app.app_context():
        hashes = set(db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == uid)))
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)  # salted, like passwords
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)
    assert _actions(app, "user.two_factor_enrolled") == [{"recovery_codes": 10}]


def test_the_secret_is_sealed_with_a_key_from_secret_key():
    sealed = totp.seal("JBSWY3DPEHPK3PXP", "one secret key of thirty-two characters")
    assert totp.unseal(sealed, "one secret key of thirty-two characters") == "JBSWY3DPEHPK3PXP"
    assert totp.unseal(sealed, "another secret key entirely, also long") is None


def test_codes_are_accepted_one_step_either_side_and_once():
    secret = totp.new_secret()
    step = totp.step_at(NOW)
    for offset in (-1, 0, 1):
        assert totp.matching_step(secret, totp.code_at(secret, NOW + 30 * offset), after=None, moment=NOW) == (
            step + offset
        )
    assert totp.matching_step(secret, totp.code_at(secret, NOW + 60), after=None, moment=NOW) is None
    assert totp.matching_step(secret, totp.code_at(secret, NOW), after=step, moment=NOW) is None
    spaced = totp.code_at(secret, NOW)
    assert totp.matching_step(secret, f"{spaced[:3]} {spaced[3:]}", after=None, moment=NOW) == step
    assert totp.matching_step(secret, "abcdef", after=None, moment=NOW) is None


# ---- signing in ---------------------------------------------------------------------------------------


def test_sign_in_needs_the_code_after_the_password(app, make_user, clock):
    uid = make_user("finance")
    secret, _, _ = _enrol(app, uid)
    client = app.test_client()
    resp = _password(client, _email(app, uid), "?next=/payments/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/sign-in/code"
    assert client.get("/").status_code == 302  # not signed in yet
    page = client.get("/sign-in/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page

    assert client.post("/sign-in/code", data={"code": "123456"}).status_code == 422
    assert client.get("/").status_code == 302
    clock.now = NOW + 30
    resp = client.post("/sign-in/code", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/payments/"
    assert client.get("/").status_code == 200
    assert _user(app, uid).last_sign_in_at is not None


def test_a_used_code_is_refused(app, make_user, clock):
    uid = make_user("admin")
    secret, _, _ = _enrol(app, uid)
    clock.now = NOW + 30
    code = pyotp.TOTP(secret).at(clock.now)
    first = app.test_client()
    _password(first, _email(app, uid))
    assert first.post("/sign-in/code", data={"code": code}).status_code == 302
    second = app.test_client()  # someone who saw the code, within the same 30 seconds
    _password(second, _email(app, uid))
    resp = second.post("/sign-in/code", data={"code": code})
    assert resp.status_code == 422 and "already been used" in resp.get_data(as_text=True)
    # the code used to set it up cannot sign in either: it is older
    assert second.post("/sign-in/code", data={"code": pyotp.TOTP(secret).at(NOW)}).status_code == 422


def test_a_recovery_code_works_once(app, make_user, clock):
    uid = make_user("finance")
    _, codes, _ = _enrol(app, uid)
    client = app.test_client()
    _password(client, _email(app, uid))
    page = client.get("/sign-in/recovery-code")
    assert page.status_code == 200 and "Enter a recovery code" in page.get_data(as_text=True)
    assert client.post("/sign-in/recovery-code", data={"code": "aaaaa-bbbbb"}).status_code == 422
    resp = client.post("/sign-in/recovery-code", data={"code": codes[0].upper().replace("-", " ")})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert _actions(app, "user.recovery_code_used") == [{"left": 9}]

    again = app.test_client()
    _password(again, _email(app, uid))
    assert again.post("/sign-in/recovery-code", data={"code": codes[0]}).status_code == 422
    assert again.get("/").status_code == 302
    assert again.post("/sign-in/recovery-code", data={"code": codes[1]}).status_code == 302


def test_the_code_step_needs_a_recent_correct_password(app, make_user, clock, monkeypatch):
    uid = make_user("coordinator")
    secret, _, _ = _enrol(app, uid)
    stranger = app.test_client()
    resp = stranger.post("/sign-in/code", data={"code": pyotp.TOTP(secret).at(NOW + 30)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/sign-in"
    assert stranger.get("/").status_code == 302

    wrong = app.test_client()
    assert wrong.post("/sign-in", data={"email": _email(app, uid), "password": "not the password"}).status_code == 422
    assert wrong.get("/sign-in/code").headers["Location"] == "/sign-in"

    late = app.test_client()
    _password(late, _email(app, uid))
    real_time = two_factor_pages.time.time
    monkeypatch.setattr(
        two_factor_pages, "time", types.SimpleNamespace(time=lambda: real_time() + two_factor_pages.PENDING_SECONDS + 1)
    )
    resp = late.post("/sign-in/code", data={"code": pyotp.TOTP(secret).at(NOW + 30)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/sign-in"
    assert late.get("/").status_code == 302


def test_wrong_codes_are_throttled_per_account(make_app, make_user, clock):
    app = make_app(RATELIMIT_ENABLED=True, SIGN_IN_ACCOUNT_LIMIT="3 per 15 minutes", SIGN_IN_LIMIT="100 per minute")
    uid = make_user("admin")
    secret, _, _ = _enrol(app, uid)
    client = app.test_client()
    _password(client, _email(app, uid))
    codes = [client.post("/sign-in/code", data={"code": "000000"}).status_code for _ in range(3)]
    assert codes == [422, 422, 422]
    resp = client.post("/sign-in/code", data={"code": pyotp.TOTP(secret).at(NOW + 30)})
    assert resp.status_code == 429 and "too many wrong codes" in resp.get_data(as_text=True)
    assert client.post("/sign-in/recovery-code", data={"code": "aaaaa-bbbbb"}).status_code == 429
    assert client.get("/").status_code == 302


# ---- REQUIRE_2FA -----------------------------------------------------------------------------------------


def test_required_for_admin_and_finance_only(make_app, make_user, make_person, clock):
    app = make_app(REQUIRE_2FA=True)
    for role in ("admin", "finance"):
        uid, token = make_user(role, token=True)
        client = app.test_client()
        resp = _password(client, _email(app, uid))
        assert resp.headers["Location"] == "/account/two-factor", role
        for path in ("/", "/people/", "/payments/"):
            blocked = client.get(path)
            assert blocked.status_code == 302 and blocked.headers["Location"] == "/account/two-factor", (role, path)
        page = client.get("/account/two-factor").get_data(as_text=True)
        assert "Your organisation asks admin and finance staff" in page
        # API bearer tokens are not affected
        assert client.get("/api/v1/rules", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        _enrol(app, uid, client)
        assert client.get("/people/").status_code == 200, role
    for role in ("coordinator", "contributor"):
        uid = make_user(role)
        client = app.test_client()
        assert _password(client, _email(app, uid)).headers["Location"] == "/", role
        assert client.get("/").status_code == 200, role
        assert client.get("/account/two-factor").status_code == 200  # they may choose to


def test_off_in_tests_and_development_on_in_production(app, tmp_path):
    import config

    assert app.config["REQUIRE_2FA"] is False
    base = {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SECRET_KEY": "x" * 48,
        "BROKER_DIR": str(tmp_path),
        "ORGANISATION_PAYER": "public_body",
    }
    assert create_app({**base, "ENV_NAME": "production"}).config["REQUIRE_2FA"] is True
    assert create_app({**base, "ENV_NAME": "development"}).config["REQUIRE_2FA"] is False
    assert create_app({**base, "ENV_NAME": "production", "REQUIRE_2FA": False}).config["REQUIRE_2FA"] is False
    assert create_app({**base, "ENV_NAME": "development", "REQUIRE_2FA": True}).config["REQUIRE_2FA"] is True
    assert config.load_config({"REQUIRE_2FA": "true"})["REQUIRE_2FA"] is True
    assert config.load_config({"REQUIRE_2FA": "0"})["REQUIRE_2FA"] is False
    assert "REQUIRE_2FA" not in config.load_config({})


# ---- recovery codes and an admin's reset ---------------------------------------------------------------------


def test_new_recovery_codes_need_a_current_code(app, make_user, clock):
    uid = make_user("coordinator")
    secret, old, client = _enrol(app, uid)
    refused = client.post("/account/two-factor/recovery-codes", data={"code": "000000"})
    assert refused.status_code == 422 and "That code is not right" in refused.get_data(as_text=True)
    clock.now = NOW + 30
    resp = client.post("/account/two-factor/recovery-codes", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert resp.status_code == 302
    new = CODE.findall(client.get("/account/two-factor").get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert _actions(app, "user.recovery_codes_replaced") == [{"recovery_codes": 10}]
    other = app.test_client()
    _password(other, _email(app, uid))
    assert other.post("/sign-in/recovery-code", data={"code": old[0]}).status_code == 422
    assert other.post("/sign-in/recovery-code", data={"code": new[0]}).status_code == 302


def test_an_admin_resets_a_second_factor(app, make_user, clock):
    uid = make_user("finance")
    _, _, their_browser = _enrol(app, uid)
    admin = make_user("admin")
    admin_client = _signed_in(app, admin)
    listing = admin_client.get("/admin/users").get_data(as_text=True)
    assert 'data-label="Second factor">On<' in listing and 'data-label="Second factor">Not set up<' in listing
    page = admin_client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "recovery codes left" in page and "Reset their second factor" in page

    resp = admin_client.post(f"/admin/users/{uid}/reset-2fa")
    assert resp.status_code == 302
    assert not _user(app, uid).has_two_factor
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.two_factor_reset"))
        assert event.actor_id == admin and event.entity_id == uid
    assert their_browser.get("/").status_code == 302  # signed out everywhere
    # with nothing set up, a password alone signs them in again (and REQUIRE_2FA would ask them to set it up)
    assert _password(app.test_client(), _email(app, uid)).headers["Location"] == "/"
    assert admin_client.post(f"/admin/users/{uid}/reset-2fa").status_code == 422
    assert admin_client.post(f"/admin/users/{admin}/reset-2fa").status_code == 422  # not your own


def test_the_command_line_resets_a_second_factor(app, make_user, clock):
    uid = make_user("admin")
    _enrol(app, uid)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-2fa", _email(app, uid)])
    assert result.exit_code == 0, result.output
    assert not _user(app, uid).has_two_factor
    assert len(_actions(app, "user.two_factor_reset")) == 1
    assert runner.invoke(args=["users", "reset-2fa", "nobody@example.org"]).exit_code == 2
    assert runner.invoke(args=["users", "reset-2fa", _email(app, uid)]).exit_code == 2  # nothing to reset


def test_a_password_reset_does_not_skip_the_second_factor(app, make_user, clock):
    from tracker.auth import service

    uid = make_user("finance")
    _enrol(app, uid)
    with app.app_context():
        secret = service.reset_password(db.session.get(User, uid), actor=None)
        db.session.commit()
    client = app.test_client()
    new_password = "a brand new long passphrase"
    resp = client.post(f"/set-password/{secret}", data={"password": new_password, "confirm": new_password})
    assert resp.status_code == 302 and resp.headers["Location"] == "/sign-in"
    resp = client.post("/sign-in", data={"email": _email(app, uid), "password": new_password})
    assert resp.headers["Location"] == "/sign-in/code"
    assert client.get("/").status_code == 302


def test_a_key_being_set_up_is_not_handed_to_the_next_person_in_the_browser(app, make_user, clock):
    first, second = make_user("coordinator"), make_user("finance")
    browser = _signed_in(app, first)
    first_key = SETUP_KEY.search(browser.get("/account/two-factor").get_data(as_text=True)).group(1)
    browser.post("/sign-out")
    assert _password(browser, _email(app, second)).status_code == 302
    second_key = SETUP_KEY.search(browser.get("/account/two-factor").get_data(as_text=True)).group(1)
    assert second_key != first_key
