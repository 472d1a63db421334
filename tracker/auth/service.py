"""Users, roles and API tokens. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.audit import service as audit
from tracker.auth.models import TOKEN_DAYS, ApiToken, SetPasswordLink, User, new_session_token
from tracker.auth.passwords import hash_password, password_problem, verify_password
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.people.models import Person
from tracker.timeutil import utcnow
from tracker.vocab import ROLES, STAFF_ROLES

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
    revoke_all_tokens(user, actor=actor)
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


def issue_token(user: User, *, actor=None, label: str | None = None, expires_in_days: int = TOKEN_DAYS) -> str:
    """Create an API token and return it. Only its hash is stored; show it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=expires_in_days)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), label=label, expires_at=expires_at)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "token.created", row, after={"user_id": user.id, "label": label, "expires_at": expires_at})
    return token


def revoke_token(row: ApiToken, *, actor) -> None:
    row.revoked_at = utcnow()
    audit.record(actor, "token.revoked", row, after={"user_id": row.user_id})


#: The token and its user by the token's hash: built once, so a request does not build it (and its
#: cache key) again; about half the time of the lookup.
_TOKEN_WITH_USER = (
    sa.select(ApiToken)
    .options(so.joinedload(ApiToken.user, innerjoin=True))
    .where(ApiToken.token_hash == sa.bindparam("token_hash"))
)


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, in one statement: the token row and its user are read
    together, by the unique SHA-256 of the token (tokens are random, so a fast hash is enough)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(_TOKEN_WITH_USER, {"token_hash": hash_token(token)})
    now = utcnow()
    if row is None or not token_usable(row, now) or not row.user.active:
        return None
    _note_use(row, now)
    return row.user


# ---- account lifecycle: tokens, invitations, set-password links, deactivation -----------------

#: A set-password link (an invitation or a reset) works once, for this many hours by default.
LINK_HOURS = 72
#: Passwords chosen through a set-password link.
#: ``last_used_at`` is written at most this often per token, so a busy client costs no extra writes.
TOKEN_USE_GRANULARITY = timedelta(minutes=1)
MAX_TOKEN_DAYS = 3660


def token_usable(row: ApiToken, now: datetime) -> bool:
    """Neither revoked nor expired."""
    return row.revoked_at is None and row.expires_at > now


def _note_use(row: ApiToken, now: datetime) -> None:
    """Note the token's last use, at most once a minute (left pending: the API's authentication commits it
    at once, before the request's own work)."""
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_GRANULARITY:
        row.last_used_at = now


def revoke_all_tokens(user: User, *, actor) -> int:
    """Revoke every token of the user that still works; how many were revoked."""
    now = utcnow()
    rows = [row for row in user.tokens if token_usable(row, now)]
    for row in rows:
        revoke_token(row, actor=actor)
    return len(rows)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))


def users_with_token_counts() -> list[tuple[User, int]]:
    """Every user, by email, with how many of their API tokens still work."""
    now = utcnow()
    working = sa.and_(ApiToken.user_id == User.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    count = sa.select(sa.func.count(ApiToken.id)).where(working).correlate(User).scalar_subquery()
    return [(user, n) for user, n in db.session.execute(sa.select(User, count).order_by(User.email)).all()]


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def check_token_days(days: int) -> None:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed({"expires_in_days": [f"Choose between 1 and {MAX_TOKEN_DAYS} days."]})


def _not_yourself(user: User, actor, what: str) -> None:
    if actor is not None and getattr(actor, "id", None) == user.id:
        raise ValidationFailed({"": [f"You cannot {what} your own account here; ask another administrator."]})


def new_link(user: User, purpose: str, *, hours: int = LINK_HOURS) -> str:
    """A new set-password link's secret for the user. Any earlier unused link of theirs stops working."""
    now = utcnow()
    db.session.execute(
        sa.update(SetPasswordLink)
        .where(SetPasswordLink.user_id == user.id, SetPasswordLink.used_at.is_(None))
        .values(used_at=now)
    )
    secret = secrets.token_urlsafe(32)
    link = SetPasswordLink(
        user_id=user.id, token_hash=hash_token(secret), purpose=purpose, expires_at=now + timedelta(hours=hours)
    )
    db.session.add(link)
    db.session.flush()
    return secret


def invite_user(
    email: str, role: str, *, actor, name: str | None = None, person_id: int | None = None, hours: int = LINK_HOURS
) -> tuple[User, str]:
    """A new user with no password yet, and the secret of their set-password link."""
    user = create_user(email, role, actor=actor, person_id=person_id, name=(name or "").strip() or None)
    secret = new_link(user, "invite", hours=hours)
    audit.record(actor, "user.invited", user, after={"role": role, "person_id": user.person_id, "hours": hours})
    return user, secret


def reset_password(user: User, *, actor, hours: int = LINK_HOURS) -> str:
    """A new set-password link for the user (their current password keeps working until they use it)."""
    if not user.active:
        raise ValidationFailed({"": ["This user is deactivated. Reactivate them first."]})
    secret = new_link(user, "reset", hours=hours)
    audit.record(actor, "user.password_reset", user, after={"hours": hours})
    return secret


def link_for(secret: str) -> SetPasswordLink | None:
    """The link this secret opens, while it is unused, unexpired and its user active."""
    if not secret or len(secret) > 100:
        return None
    link = db.session.scalar(sa.select(SetPasswordLink).where(SetPasswordLink.token_hash == hash_token(secret)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow() or not link.user.active:
        return None
    return link


def use_link(link: SetPasswordLink, password: str) -> User:
    """Set the user's password through the link (the one password rule: tracker.auth.passwords);
    the link is then used up."""
    user = link.user
    set_password(user, password or "", actor=user)
    link.used_at = utcnow()
    db.session.flush()
    return user


def deactivate_user(user: User, *, actor) -> User:
    """The user can no longer sign in: their sessions end and their API tokens are revoked."""
    _not_yourself(user, actor, "deactivate")
    if not user.active:
        raise ValidationFailed({"": ["This user is already deactivated."]})
    user.active = False
    end_sessions(user)
    revoked = revoke_all_tokens(user, actor=actor)
    db.session.flush()
    audit.record(actor, "user.deactivated", user, after={"tokens_revoked": revoked})
    return user


def reactivate_user(user: User, *, actor) -> User:
    if user.active:
        raise ValidationFailed({"": ["This user is already active."]})
    user.active = True
    db.session.flush()
    audit.record(actor, "user.reactivated", user)
    return user


def change_staff_role(user: User, role: str, *, actor) -> User:
    """Move a staff member to another staff role (a contributor's sign-in stays their person's)."""
    _not_yourself(user, actor, "change the role of")
    if user.role == "contributor" or role not in STAFF_ROLES:
        raise ValidationFailed({"role": ["Only staff move between the staff roles: admin, coordinator, finance."]})
    if role == user.role:
        raise ValidationFailed({"role": [f"This user is already {role}."]})
    return change_role(user, role, actor=actor)


def send_link(user: User, secret: str, *, base_url: str, hours: int) -> str | None:
    """Mail the set-password link through the notifications when a mail server is configured (None);
    otherwise return the link, to be shown once to whoever made it."""
    from flask import current_app

    from tracker.notify import service as notify

    url = f"{base_url.rstrip('/')}/set-password/{secret}"
    if not current_app.config.get("SMTP_HOST"):
        return url
    body = (
        f"Hello {user.display_name},\n\nChoose your password for {current_app.config['ORGANISATION_NAME']}'s "
        f"payment tracker here. The link works once, for {hours} hours:\n\n{url}\n\n"
        "If you did not expect this email, you can ignore it.\n"
    )
    notify.queue(user, "Choose your password for the payment tracker", body, "account")
    return None
