"""Users, roles and API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model, one_of
from tracker.timeutil import utcnow

# The roles are the vocabulary's, named here too for the modules that import them from auth.
from tracker.vocab import ROLES as ROLES
from tracker.vocab import STAFF_ROLES as STAFF_ROLES

#: An API token lasts this many days unless another expiry is chosen when it is issued.
TOKEN_DAYS = 90


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def default_token_expiry() -> datetime:
    return utcnow() + timedelta(days=TOKEN_DAYS)


class User(Model):
    __tablename__ = "user_account"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    person_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id"), unique=True)
    active: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    # Part of the signed-in identity: rotating it ends every session of this user.
    session_token: so.Mapped[str] = so.mapped_column(sa.String(64), default=new_session_token)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_sign_in_at: so.Mapped[datetime | None]
    # The second factor (tracker/auth/two_factor.py): the TOTP secret, Fernet-encrypted with a key
    # derived from SECRET_KEY; when it was confirmed; the last time step accepted (a code is used once).
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    totp_enrolled_at: so.Mapped[datetime | None]
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)

    person = so.relationship("Person")
    tokens: so.Mapped[list[ApiToken]] = so.relationship(back_populates="user")

    __table_args__ = (
        one_of("role", ROLES),
        sa.CheckConstraint("(role = 'contributor') = (person_id IS NOT NULL)", name="contributor_has_person"),
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enrolled_at is not None and self.totp_secret is not None

    @property
    def display_name(self) -> str:
        return self.name or self.email


class ApiToken(Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    label: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]
    expires_at: so.Mapped[datetime] = so.mapped_column(default=default_token_expiry)

    user: so.Mapped[User] = so.relationship(back_populates="tokens")


class SetPasswordLink(Model):
    """A single-use, expiring link to choose a password (an invitation or a reset). Only the SHA-256 of
    its secret is stored; the link itself is mailed or shown once."""

    __tablename__ = "set_password_link"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    purpose: so.Mapped[str] = so.mapped_column(sa.String(20))  # "invite" or "reset"
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    used_at: so.Mapped[datetime | None]

    user: so.Mapped[User] = so.relationship()


class RecoveryCode(Model):
    """A single-use code that stands in for a one-time code when the user's device is lost. Only its
    Argon2id hash is stored (salted, as ASVS asks of secrets under 112 bits); the codes are shown once,
    when they are made."""

    __tablename__ = "recovery_code"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    used_at: so.Mapped[datetime | None]
