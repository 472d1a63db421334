"""Users, roles and API tokens. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.auth.models import ApiToken, User, new_session_token
from tracker.auth.passwords import hash_password, password_problem, verify_password
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.people.models import Person
from tracker.timeutil import utcnow
from tracker.vocab import ROLES

TOKEN_PREFIX = "trk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _email_problem(email: str) -> str | None:
    if "@" not in email or len(email) > 254:
        return "Enter an email address, like name@example.org."
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        return "There is already a user with this email address."
    return None


def _person_problem(role: str, person_id: int | None) -> str | None:
    """Contributors sign in as one person, who has no other sign-in; nobody else is linked."""
    if role != "contributor":
        return "Only contributors are linked to a person." if person_id is not None else None
    if person_id is None:
        return "A contributor must be linked to a person (--person ID)."
    if db.session.get(Person, person_id) is None:
        return f"There is no person with id {person_id}."
    if db.session.scalar(sa.select(User.id).where(User.person_id == person_id)):
        return "That person already has a sign-in."
    return None


def create_user(
    email: str,
    role: str,
    *,
    actor=None,
    person_id: int | None = None,
    password: str | None = None,
    name: str | None = None,
) -> User:
    email = (email or "").strip().lower()
    problems = {
        "email": _email_problem(email),
        "role": None if role in ROLES else f"Role must be one of: {', '.join(ROLES)}.",
        "person": _person_problem(role, person_id),
        "password": None if password is None else password_problem(password, about=(email, name or "")),
    }
    errors = {field: [message] for field, message in problems.items() if message}
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=email,
        role=role,
        person_id=person_id if role == "contributor" else None,
        name=name,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.created", user, after={"email": email, "role": role, "person_id": user.person_id})
    return user


def change_role(user: User, role: str, *, actor, person_id: int | None = None) -> User:
    if role not in ROLES:
        raise ValidationFailed({"role": [f"Role must be one of: {', '.join(ROLES)}."]})
    before = {"role": user.role, "person_id": user.person_id}
    user.role = role
    user.person_id = person_id if role == "contributor" else None
    user.session_token = new_session_token()
    db.session.flush()
    audit.record(
        actor, "user.role_changed", user, before=before, after={"role": user.role, "person_id": user.person_id}
    )
    return user


def set_password(user: User, password: str, *, actor) -> None:
    problem = password_problem(password, about=(user.email, user.name or ""))
    if problem:
        raise ValidationFailed({"password": [problem]})
    user.password_hash = hash_password(password)
    user.session_token = new_session_token()  # a new password ends every other session
    audit.record(actor, "user.password_changed", user)


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Rotate the session token: every signed-in browser of this user is signed out."""
    user.session_token = new_session_token()


def issue_token(user: User, *, actor=None, label: str | None = None) -> str:
    """Create an API token and return it. Only its hash is stored; show it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), label=label)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "token.issued", row, after={"user_id": user.id, "label": label})
    return token


def revoke_token(row: ApiToken, *, actor) -> None:
    row.revoked_at = utcnow()
    audit.record(actor, "token.revoked", row, after={"user_id": row.user_id})


def user_for_token(token: str) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user
