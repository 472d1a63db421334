"""Accounts in the app: invitations, set-password links, deactivation, roles, resets, API token expiry,
revocation and last use; the same through the command line. Every change is audited."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.builders import PASSWORD, count
from tracker.audit.models import AuditEvent
from tracker.auth.models import ApiToken, SetPasswordLink, User
from tracker.extensions import db
from tracker.notify.models import Notification
from tracker.timeutil import utcnow

NEW_PASSWORD = "a new long passphrase"
LINK = re.compile(r"https?://[^\s<]+/set-password/[A-Za-z0-9_-]+")


def _email(app, uid: int) -> str:
    with app.app_context():
        return db.session.get(User, uid).email


def _signed_in(app, uid: int, password: str = PASSWORD):
    client = app.test_client()
    resp = client.post("/sign-in", data={"email": _email(app, uid), "password": password})
    assert resp.status_code == 302, resp.status_code
    return client


def _admin(app, make_user):
    uid = make_user("admin")
    return uid, _signed_in(app, uid)


def _user(app, uid: int) -> User:
    with app.app_context():
        user = db.session.get(User, uid)
        db.session.expunge(user)
        return user


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def _link_in(resp) -> str:
    found = LINK.search(html.unescape(resp.get_data(as_text=True)))
    assert found, "no set-password link on the page"
    return "/set-password/" + found.group(0).rsplit("/", 1)[1]


def _api_status(client, token: str) -> int:
    return client.get("/api/v1/rules", headers={"Authorization": f"Bearer {token}"}).status_code


# ---- pages -------------------------------------------------------------------------------------


def test_admin_lists_users_with_role_state_and_tokens(app, make_user):
    _, client = _admin(app, make_user)
    uid, _ = make_user("finance", token=True)
    page = client.get("/admin/users")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _email(app, uid) in text and "Finance" in text and "Never" in text
    detail = client.get(f"/admin/users/{uid}")
    assert detail.status_code == 200 and "Revoke token" in detail.get_data(as_text=True)


@pytest.mark.parametrize("role", ["finance", "coordinator", "contributor"])
def test_only_admins_manage_accounts(app, make_user, role):
    target = make_user("coordinator")
    client = _signed_in(app, make_user(role))
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/invite", data={"email": "x@example.org", "role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{target}/deactivate").status_code == 403
    assert client.post(f"/admin/users/{target}/role", data={"role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{target}/reset").status_code == 403
    assert _user(app, target).active and _user(app, target).role == "coordinator"


def test_an_invitation_link_works_once(app, make_user):
    _, admin = _admin(app, make_user)
    resp = admin.post(
        "/admin/users/invite", data={"email": "New.Person@example.org", "name": "New Person", "role": "finance"}
    )
    assert resp.status_code == 302
    path = _link_in(admin.get(resp.headers["Location"]))
    assert "user.invited" in _actions(app)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.org"))
        assert user.role == "finance" and user.password_hash is None
        stored = db.session.scalar(sa.select(SetPasswordLink.token_hash))
    assert path.rsplit("/", 1)[1] not in stored  # only the hash is kept

    visitor = app.test_client()
    assert visitor.get(path).status_code == 200
    short = visitor.post(path, data={"password": "too short", "confirm": "too short"})
    assert short.status_code == 422 and "at least 12" in short.get_data(as_text=True)
    done = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")
    assert (
        visitor.post("/sign-in", data={"email": "new.person@example.org", "password": NEW_PASSWORD}).status_code == 302
    )
    again = app.test_client().post(path, data={"password": "another passphrase", "confirm": "another passphrase"})
    assert again.status_code == 410
    assert app.test_client().get(path).status_code == 410


def test_an_invitation_link_expires(app, make_user):
    _, admin = _admin(app, make_user)
    resp = admin.post("/admin/users/invite", data={"email": "late@example.org", "role": "coordinator"})
    path = _link_in(admin.get(resp.headers["Location"]))
    with app.app_context():
        link = db.session.scalar(sa.select(SetPasswordLink))
        assert timedelta(hours=71) < link.expires_at - utcnow() <= timedelta(hours=72)
        link.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert app.test_client().post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 410
    with app.app_context():
        assert db.session.scalar(sa.select(User.password_hash).where(User.email == "late@example.org")) is None


def test_with_a_mail_server_the_link_is_mailed_not_shown(app, make_user, monkeypatch, sent):
    _, admin = _admin(app, make_user)
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.invalid")
    resp = admin.post("/admin/users/invite", data={"email": "mailed@example.org", "role": "coordinator"})
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "emailed to mailed@example.org" in page and "/set-password/" not in page
    with app.app_context():
        note = db.session.scalar(sa.select(Notification).where(Notification.kind == "account"))
        assert note.to_email == "mailed@example.org" and "/set-password/" in note.body
    assert [name for name, _ in sent] == ["tracker.notify.send"]


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not-an-email", "role": "finance"},
        {"email": "ok@example.org", "role": "contributor"},
        {"email": "ok@example.org", "role": "owner"},
        {"email": "", "role": "admin"},
    ],
)
def test_a_bad_invitation_is_a_form_error_and_writes_nothing(app, make_user, data):
    _, admin = _admin(app, make_user)
    users, events = count(app, User), count(app, AuditEvent)
    resp = admin.post("/admin/users/invite", data=data)
    assert resp.status_code == 422 and "There is a problem" in resp.get_data(as_text=True)
    assert (count(app, User), count(app, AuditEvent), count(app, SetPasswordLink)) == (users, events, 0)


def test_inviting_an_existing_email_is_a_form_error(app, make_user):
    _, admin = _admin(app, make_user)
    taken = _email(app, make_user("finance"))
    users = count(app, User)
    resp = admin.post("/admin/users/invite", data={"email": taken, "role": "finance"})
    assert resp.status_code == 422 and "already a user" in resp.get_data(as_text=True)
    assert count(app, User) == users


def test_a_contributor_invitation_links_the_user_to_the_person(app, make_user, make_person):
    pid = make_person("Robin Contributor", email="robin@example.org")
    coordinator = _signed_in(app, make_user("coordinator"))
    assert "Invite to see their own records" in coordinator.get(f"/people/{pid}").get_data(as_text=True)
    form = coordinator.get(f"/people/{pid}/invite")
    assert form.status_code == 200 and 'value="robin@example.org"' in form.get_data(as_text=True)
    resp = coordinator.post(f"/people/{pid}/invite", data={"email": "robin@example.org"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/people/{pid}")
    path = _link_in(coordinator.get(resp.headers["Location"]))
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "robin@example.org"))
        assert (user.role, user.person_id, user.name) == ("contributor", pid, "Robin Contributor")
    again = coordinator.post(f"/people/{pid}/invite", data={"email": "robin2@example.org"})
    assert again.status_code == 422 and "already has a sign-in" in again.get_data(as_text=True)

    robin = app.test_client()
    robin.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    robin.post("/sign-in", data={"email": "robin@example.org", "password": NEW_PASSWORD})
    assert robin.get("/me/").status_code == 200


def test_finance_cannot_invite_a_contributor(app, make_user, make_person):
    pid = make_person("Sam", email="sam@example.org")
    finance = _signed_in(app, make_user("finance"))
    assert "Invite to see their own records" not in finance.get(f"/people/{pid}").get_data(as_text=True)
    assert finance.post(f"/people/{pid}/invite", data={"email": "sam@example.org"}).status_code == 403
    assert count(app, User) == 1  # only the finance user


def test_deactivation_ends_sessions_and_revokes_tokens(app, make_user):
    _, admin = _admin(app, make_user)
    uid, token = make_user("coordinator", token=True)
    them = _signed_in(app, uid)
    assert them.get("/").status_code == 200 and _api_status(them, token) == 200
    assert admin.post(f"/admin/users/{uid}/deactivate").status_code == 302
    assert them.get("/").status_code == 302  # signed out
    assert _api_status(app.test_client(), token) == 401
    assert app.test_client().post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD}).status_code == 422
    assert {"user.deactivated", "token.revoked"} <= set(_actions(app))
    assert admin.post(f"/admin/users/{uid}/reactivate").status_code == 302
    assert "user.reactivated" in _actions(app)
    _signed_in(app, uid)  # can sign in again; the revoked token stays revoked
    assert _api_status(app.test_client(), token) == 401


def test_an_admin_cannot_deactivate_or_demote_themselves(app, make_user):
    uid, admin = _admin(app, make_user)
    events = count(app, AuditEvent)
    for resp in (
        admin.post(f"/admin/users/{uid}/deactivate"),
        admin.post(f"/admin/users/{uid}/role", data={"role": "finance"}),
    ):
        assert resp.status_code == 422 and "your own account" in resp.get_data(as_text=True)
    assert _user(app, uid).active and _user(app, uid).role == "admin" and count(app, AuditEvent) == events


def test_a_role_change_revokes_tokens_and_ends_sessions(app, make_user):
    _, admin = _admin(app, make_user)
    uid, token = make_user("finance", token=True)
    them = _signed_in(app, uid)
    assert admin.post(f"/admin/users/{uid}/role", data={"role": "coordinator"}).status_code == 302
    assert _user(app, uid).role == "coordinator"
    assert them.get("/").status_code == 302
    assert _api_status(app.test_client(), token) == 401
    assert {"user.role_changed", "token.revoked"} <= set(_actions(app))


@pytest.mark.parametrize("role", ["owner", "contributor", ""])
def test_a_bad_role_is_a_form_error(app, make_user, role):
    _, admin = _admin(app, make_user)
    uid, token = make_user("finance", token=True)
    events = count(app, AuditEvent)
    assert admin.post(f"/admin/users/{uid}/role", data={"role": role}).status_code == 422
    assert _user(app, uid).role == "finance" and count(app, AuditEvent) == events
    assert _api_status(app.test_client(), token) == 200


def test_a_password_reset_sends_a_new_link(app, make_user):
    _, admin = _admin(app, make_user)
    uid = make_user("finance")
    first = _link_in(admin.get(admin.post(f"/admin/users/{uid}/reset").headers["Location"]))
    second = _link_in(admin.get(admin.post(f"/admin/users/{uid}/reset").headers["Location"]))
    assert app.test_client().get(first).status_code == 410  # a newer link replaces it
    them = _signed_in(app, uid)
    app.test_client().post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert them.get("/").status_code == 302  # the new password ends the old sessions
    assert app.test_client().post("/sign-in", data={"email": _email(app, uid), "password": PASSWORD}).status_code == 422
    _signed_in(app, uid, NEW_PASSWORD)
    assert _actions(app).count("user.password_reset") == 2


def test_revoking_one_token_on_the_page(app, make_user):
    _, admin = _admin(app, make_user)
    uid, token = make_user("coordinator", token=True)
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == uid))
    assert admin.post(f"/admin/users/{uid}/revoke-token", data={"token_id": "999999"}).status_code == 422
    assert _api_status(app.test_client(), token) == 200
    assert admin.post(f"/admin/users/{uid}/revoke-token", data={"token_id": str(token_id)}).status_code == 302
    assert _api_status(app.test_client(), token) == 401
    assert "token.revoked" in _actions(app)


# ---- API tokens ----------------------------------------------------------------------------------


def test_an_expired_token_is_401(app, make_user):
    uid, token = make_user("coordinator", token=True)
    client = app.test_client()
    assert _api_status(client, token) == 200
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == uid))
        assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert _api_status(client, token) == 401


def test_last_used_at_is_written_at_most_once_a_minute(app, make_user):
    uid, token = make_user("finance", token=True)
    client = app.test_client()

    def last_used():
        with app.app_context():
            return db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.user_id == uid))

    assert last_used() is None
    _api_status(client, token)
    first = last_used()
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    _api_status(client, token)
    assert last_used() == first


# ---- the command line ------------------------------------------------------------------------------


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["users", *args])


def test_cli_lists_users_and_tokens(app, make_user):
    uid, _ = make_user("finance", token=True)
    email = _email(app, uid)
    listed = _cli(app, "list")
    assert listed.exit_code == 0 and email in listed.output and "tokens 1" in listed.output
    made = _cli(app, "token", email, "--expires-in-days", "7", "--name", "reports")
    assert made.exit_code == 0 and made.output.strip().splitlines()[-1].startswith("trk_")
    assert _api_status(app.test_client(), made.output.strip().splitlines()[-1]) == 200
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.label == "reports"))
        assert timedelta(days=6) < row.expires_at - utcnow() <= timedelta(days=7)
        token_id = row.id
    tokens = _cli(app, "tokens", email)
    assert tokens.exit_code == 0 and "reports" in tokens.output and len(tokens.output.strip().splitlines()) == 2
    assert "token.created" in _actions(app)
    assert _cli(app, "revoke", str(token_id)).exit_code == 0
    assert _api_status(app.test_client(), made.output.strip().splitlines()[-1]) == 401
    assert "token.revoked" in _actions(app)


def test_cli_deactivate_role_and_reset(app, make_user):
    uid, token = make_user("finance", token=True)
    email = _email(app, uid)
    assert _cli(app, "role", email, "coordinator").exit_code == 0
    assert _user(app, uid).role == "coordinator" and _api_status(app.test_client(), token) == 401
    reset = _cli(app, "reset", email)
    assert reset.exit_code == 0
    path = "/set-password/" + reset.output.strip().splitlines()[-1].rsplit("/", 1)[1]
    assert app.test_client().get(path).status_code == 200
    assert _cli(app, "deactivate", email).exit_code == 0
    assert not _user(app, uid).active
    assert app.test_client().get(path).status_code == 410  # a deactivated user's link stops working
    assert {"user.role_changed", "user.password_reset", "user.deactivated"} <= set(_actions(app))


def test_cli_refuses_bad_input_and_writes_nothing(app, make_user):
    uid = make_user("contributor")
    email = _email(app, uid)
    events = count(app, AuditEvent)
    assert _cli(app, "deactivate", "nobody@example.org").exit_code == 2
    assert _cli(app, "role", email, "finance").exit_code == 2  # a contributor stays their person's
    assert _cli(app, "token", email, "--expires-in-days", "0").exit_code == 2
    assert _cli(app, "revoke", "99999999999999999999").exit_code == 2
    assert count(app, AuditEvent) == events and count(app, ApiToken) == 0


def test_password_links_never_follow_the_host_header_in_production(app, monkeypatch):
    from tracker.auth import accounts

    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://tracker.example.org/")
    with app.test_request_context("/admin/users/invite", base_url="http://evil.example/"):
        assert accounts._base_url() == "https://tracker.example.org/"
    monkeypatch.setitem(app.config, "ENV_NAME", "test")
    with app.test_request_context("/admin/users/invite", base_url="http://127.0.0.1:5000/"):
        assert accounts._base_url() == "http://127.0.0.1:5000/"
