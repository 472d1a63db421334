"""Sign-in, sign-out, throttling, CSRF, security headers, passwords and API tokens."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tests.builders import PASSWORD
from tracker.auth.models import ApiToken, User
from tracker.extensions import db


def _email(app, uid):
    with app.app_context():
        return db.session.get(User, uid).email


def test_sign_in_and_out(app, client, make_user):
    uid = make_user("coordinator")
    resp = client.post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    resp = client.post("/sign-out")
    assert resp.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_gets_a_plain_message(app, client, make_user):
    uid = make_user("finance")
    resp = client.post("/sign-in", data={"email": _email(app, uid), "password": "wrong password"})
    assert resp.status_code == 422
    assert b"The email address or password is not right." in resp.data
    resp = client.post("/sign-in", data={"email": "nobody@example.org", "password": "whatever12"})
    assert resp.status_code == 422


def test_next_must_stay_on_this_site(app, client, make_user):
    uid = make_user("admin")
    resp = client.post("/sign-in?next=//evil.example/x", data={"email": _email(app, uid), "password": PASSWORD})
    assert resp.headers["Location"] == "/"


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example/phish",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "/\\evil.example",
        "https://evil.example/",
        "%2F%2Fevil.example",
        "/x%0d%0aSet-Cookie:%20a=b",
        "/x%0aLocation:%20//evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site_and_never_crashes(app, client, make_user, target):
    uid = make_user("admin")
    resp = client.post(f"/sign-in?next={target}", data={"email": _email(app, uid), "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"


def test_a_local_next_is_followed(app, client, make_user):
    uid = make_user("admin")
    resp = client.post("/sign-in?next=/people/%3Fq%3Dx", data={"email": _email(app, uid), "password": PASSWORD})
    assert resp.headers["Location"] == "/people/?q=x"


def test_sign_out_ends_the_session_for_a_copied_cookie(app, make_user):
    """A cookie captured before sign-out must not work afterwards."""
    uid = make_user("coordinator")
    browser = app.test_client()
    browser.post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD})
    stolen = browser.get_cookie("session").value
    browser.post("/sign-out")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302
    assert thief.get("/people/").status_code == 302


def test_sign_in_is_throttled(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, SIGN_IN_LIMIT="3 per minute")
    client = app.test_client()
    codes = [
        client.post("/sign-in", data={"email": "x@example.org", "password": "bad password"}).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [422, 422, 422]
    assert codes[3:] == [429, 429]
    # The page itself still loads; only attempts are counted.
    assert client.get("/sign-in").status_code == 200


def test_the_throttled_sign_in_page_says_when_to_try_again_in_words(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SIGN_IN_LIMIT="2 per 10 minutes")
    client = app.test_client()
    pages = [client.post("/sign-in", data={"email": "x@example.org", "password": "bad password"}) for _ in range(3)]
    assert pages[-1].status_code == 429
    text = pages[-1].get_data(as_text=True)
    assert "Too many attempts" in text and "wait 10 minutes and try again" in text
    assert "per 10 minute" not in text and "2 per" not in text  # never the rate limiter's own wording


def test_passwords_are_argon2id(app, make_user):
    uid = make_user("admin")
    with app.app_context():
        stored = db.session.get(User, uid).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_security_headers(client):
    resp = client.get("/sign-in")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp  # no CDN
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(app, client, make_user):
    uid = make_user("admin")
    resp = client.post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _page_post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            yield rule


def test_every_page_post_needs_a_csrf_token(make_app, make_user):
    """With CSRF on, every HTML POST without a token is refused with 400, signed in or not."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    uid = make_user("admin")
    # Sign in with a real token first.
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    rules = list(_page_post_rules(app))
    assert rules, "no page POST routes found"
    for rule in rules:
        url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        resp = client.post(url, data={"anything": "x"})
        assert resp.status_code == 400, f"POST {url} without a CSRF token answered {resp.status_code}"
        assert b"expired" in resp.data


def test_api_is_exempt_from_csrf_but_needs_a_token(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    _, token = make_user("coordinator", token=True)
    resp = app.test_client().post(
        "/api/v1/people", json={"name": "Via API"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 201


def test_cli_creates_user_with_token_on_last_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "New.Person@Example.org", "--role", "finance", "--password-stdin", "--token"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("trk_")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.org"))
        assert user.role == "finance"
        stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1
    resp = app.test_client().get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200


@pytest.mark.parametrize(
    "args, message",
    [
        (["users", "create", "c@example.org", "--role", "contributor"], "person"),
        (["users", "create", "c@example.org", "--role", "contributor", "--person", "9999"], "no person"),
        (["users", "create", "not-an-email", "--role", "admin"], "email"),
    ],
)
def test_cli_refuses_bad_users(app, args, message):
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2
    assert message in result.output.lower()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


@pytest.mark.parametrize(
    "password, message",
    [
        ("short pass", "at least 12 characters"),
        ("aaaaaaaaaaaa", "too common or too easy to guess"),
        ("password1234", "too common or too easy to guess"),
        ("qwertyuiop12", "too common or too easy to guess"),
        ("a long enough password " * 6, "at most 128 characters"),
    ],
)
def test_cli_refuses_weak_or_overlong_passwords(app, password, message):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "p@example.org", "--role", "admin", "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code == 2
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_setting_a_password_follows_the_same_policy(app, make_user):
    from tracker.auth import service
    from tracker.errors import ValidationFailed

    uid = make_user("coordinator")
    with app.app_context():
        user = db.session.get(User, uid)
        for weak in ("aaaaaaaaaaaa", "password1234", "x" * 129):
            with pytest.raises(ValidationFailed):
                service.set_password(user, weak, actor=None)
        service.set_password(user, "plum kettle orbit seven", actor=None)
        db.session.rollback()


def test_a_password_over_the_maximum_is_refused_at_sign_in_without_a_crash(app, client, make_user):
    uid = make_user("admin")
    resp = client.post("/sign-in", data={"email": _email(app, uid), "password": "p" * 129})
    assert resp.status_code == 422
    assert "at most 128 characters" in resp.get_data(as_text=True)


def test_contributor_user_links_to_person(app, make_person):
    pid = make_person()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "me@example.org", "--role", "contributor", "--person", str(pid)]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.person_id).where(User.email == "me@example.org")) == pid


def test_revoked_token_stops_working(app, client, make_user):
    from tracker.auth import service

    uid, token = make_user("admin", token=True)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/people", headers=headers).status_code == 200
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == uid))
        service.revoke_token(row, actor=None)
        db.session.commit()
    assert client.get("/api/v1/people", headers=headers).status_code == 401


def test_health_endpoints(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["checks"] == {"database": "ok", "broker": "ok"}
    assert resp.get_json()["rule_pack"] == {"loaded": 0, "stale": 0, "awaiting_uprating": 0}


def test_readyz_reports_the_rule_pack_and_never_fails_on_staleness(client, rules, monkeypatch):
    """Issue 11 item 7: the rule pack is reported (how many rules, how many stale), not a failure."""
    import tracker.timeutil

    monkeypatch.setattr(tracker.timeutil, "today", lambda: date(2027, 6, 1))
    resp = client.get("/readyz")
    assert resp.status_code == 200
    pack = resp.get_json()["rule_pack"]
    assert pack["loaded"] > 30 and pack["stale"] >= 7 and pack["awaiting_uprating"] >= 7
    monkeypatch.setattr(tracker.timeutil, "today", lambda: date(2026, 12, 7))
    assert client.get("/readyz").get_json()["rule_pack"]["stale"] == 0


def test_readyz_reports_a_missing_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.sqlite")
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"].startswith("error")


def test_behind_a_proxy_the_client_address_is_used_for_throttling(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SIGN_IN_LIMIT="2 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()

    def attempt(addr):
        return client.post(
            "/sign-in", data={"email": "x@example.org", "password": "bad password"}, headers={"X-Forwarded-For": addr}
        ).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [422, 422, 429]
    assert attempt("203.0.113.2") == 422  # another person behind the same proxy is not locked out


def test_api_is_throttled_per_token(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, API_LIMIT="2 per minute")
    _, a = make_user("admin", token=True)
    _, b = make_user("admin", token=True)
    client = app.test_client()
    codes = [client.get("/api/v1/people", headers={"Authorization": f"Bearer {a}"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/v1/people", headers={"Authorization": f"Bearer {b}"}).status_code == 200


def test_api_throttling_reads_the_store_once_and_a_429_says_when_to_retry(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, API_LIMIT="1 per minute")
    _, a = make_user("admin", token=True)
    client = app.test_client()
    ok = client.get("/api/v1/people", headers={"Authorization": f"Bearer {a}"})
    assert ok.status_code == 200
    assert not [h for h in ok.headers.keys() if h.lower().startswith("x-ratelimit")]
    refused = client.get("/api/v1/people", headers={"Authorization": f"Bearer {a}"})
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "too_many_requests"
    assert refused.headers["Retry-After"] == "60"


def test_sign_in_is_throttled_per_account_whatever_the_address(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, TRUSTED_PROXIES=1, SIGN_IN_ACCOUNT_LIMIT="5 per 15 minutes")
    uid = make_user("admin")
    email = _email(app, uid)
    client = app.test_client()

    def attempt(n: int, password: str = "wrong password!") -> int:
        # a new address every time: the per-address limit never applies
        headers = {"X-Forwarded-For": f"198.51.100.{n}"}
        return client.post("/sign-in", data={"email": email.upper(), "password": password}, headers=headers).status_code

    assert [attempt(n) for n in range(5)] == [422] * 5
    resp = client.post(
        "/sign-in", data={"email": email, "password": PASSWORD}, headers={"X-Forwarded-For": "198.51.100.99"}
    )
    assert resp.status_code == 429  # even the right password waits
    page = resp.get_data(as_text=True)
    assert "too many failed sign-ins for this account" in page and "try again in 15 minutes" in page
    # another account is not held up
    other = _email(app, make_user("admin"))
    resp = client.post(
        "/sign-in", data={"email": other, "password": PASSWORD}, headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert resp.status_code == 302


def test_invalid_api_tokens_are_throttled_per_address_and_valid_ones_are_not(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=True, API_BAD_TOKEN_LIMIT="3 per minute")
    _, good = make_user("admin", token=True)
    client = app.test_client()
    codes = [
        client.get("/api/v1/people", headers={"Authorization": f"Bearer trk_guess{n}"}).status_code for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    assert client.get("/api/v1/people", headers={"Authorization": f"Bearer {good}"}).status_code == 200


@pytest.mark.parametrize(
    "later, ended, message", [(29 * 60, False, None), (31 * 60, True, "after 30 minutes without activity")]
)
def test_idle_sessions_end_after_30_minutes(app, client, make_user, monkeypatch, later, ended, message):
    from tracker.auth import timeouts

    start = 1_800_000_000
    monkeypatch.setattr(timeouts, "_now", lambda: start)
    uid = make_user("contributor")
    client.post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD})
    assert client.get("/me/").status_code == 200
    monkeypatch.setattr(timeouts, "_now", lambda: start + later)
    resp = client.get("/me/")
    if not ended:
        assert resp.status_code == 200
        return
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/sign-in?next=/me/")
    assert message in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert client.get("/me/").status_code == 302  # signed out for good


def test_sessions_end_12_hours_after_signing_in_however_busy(app, client, make_user, monkeypatch):
    from tracker.auth import timeouts

    clock = [1_800_000_000]
    monkeypatch.setattr(timeouts, "_now", lambda: clock[0])
    uid = make_user("finance")
    client.post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD})
    for _ in range(12 * 4):  # a request every 15 minutes for 12 hours
        clock[0] += 15 * 60
        assert client.get("/payments/").status_code == 200
    clock[0] += 15 * 60
    resp = client.get("/payments/")
    assert resp.status_code == 302
    assert "12 hours after signing in" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_a_session_cookie_without_its_times_counts_as_ended(app, client, make_user):
    uid = make_user("coordinator")
    client.post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD})
    with client.session_transaction() as s:
        s.pop("signed_in_at")
    assert client.get("/people/").status_code == 302
