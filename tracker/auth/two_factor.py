"""The second factor: enrolment, checking a one-time code or a recovery code, new recovery codes, and
an admin's reset. Services flush; the caller commits.

When ``REQUIRE_2FA`` is on (the default in production), admin and finance users must enrol before they
can do anything else; coordinators and contributors may enrol if they choose. API bearer tokens are
not affected: they are issued on the command line or by an admin, to people who are signed in.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from tracker.audit import service as audit
from tracker.auth import totp
from tracker.auth.models import RecoveryCode, User
from tracker.auth.passwords import hash_password, verify_password
from tracker.auth.service import end_sessions
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.timeutil import utcnow
from tracker.vocab import TWO_FACTOR_ROLES

log = logging.getLogger(__name__)

WRONG_CODE = "That code is not right, or it has already been used. Enter the newest code your app shows."
WRONG_RECOVERY_CODE = "That recovery code is not right, or it has already been used."


def required(user: User) -> bool:
    """Must this user have a second factor? Only admin and finance, and only with REQUIRE_2FA on."""
    return bool(current_app.config.get("REQUIRE_2FA")) and user.role in TWO_FACTOR_ROLES


def must_enrol(user: User) -> bool:
    return required(user) and not user.has_two_factor


def _key() -> str:
    return str(current_app.config["SECRET_KEY"])


def seal(secret: str) -> str:
    return totp.seal(secret, _key())


def unseal(sealed: str | None) -> str | None:
    return totp.unseal(sealed, _key()) if sealed else None


def _store_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes for the user (every earlier one stops working); returned to show once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    hashes = [hash_password(totp.normal_recovery_code(code)) for code in codes]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=code_hash) for code_hash in hashes)
    db.session.flush()
    return codes


def enrol(user: User, secret: str, code: str | None, *, actor) -> list[str]:
    """Confirm the secret with a current code from the user's app; returns the recovery codes."""
    if user.has_two_factor:
        raise ValidationFailed({"code": ["Your second factor is already set up."]})
    step = totp.matching_step(secret, code, after=None)
    if step is None:
        raise ValidationFailed({"code": [WRONG_CODE]})
    user.totp_secret = seal(secret)
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step
    codes = _store_recovery_codes(user)
    audit.record(actor, "user.two_factor_enrolled", user, after={"recovery_codes": len(codes)})
    return codes


def _claim_step(user: User, step: int) -> bool:
    """Record ``step`` as used, once: one statement, so two requests with the same code cannot both win."""
    result = cast(
        sa.CursorResult[Any],
        db.session.execute(
            sa.update(User)
            .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def check_code(user: User, code: str | None) -> bool:
    """Is this the user's current one-time code, not used before? Using it marks it used."""
    secret = unseal(user.totp_secret)
    if secret is None:
        if user.totp_secret:
            log.warning("user %s: second-factor secret unreadable (was SECRET_KEY changed?)", user.id)
        return False
    step = totp.matching_step(secret, code, after=user.totp_last_step)
    return step is not None and _claim_step(user, step)


def use_recovery_code(user: User, code: str | None) -> bool:
    """Use one of the user's recovery codes (each works once); audited with how many are left."""
    typed = totp.normal_recovery_code(code)
    unused = sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    found = next((row for row in db.session.scalars(unused) if typed and verify_password(row.code_hash, typed)), None)
    if found is None:
        return False
    result = cast(  # one statement, so two requests with the same code cannot both use it
        sa.CursorResult[Any],
        db.session.execute(
            sa.update(RecoveryCode)
            .where(RecoveryCode.id == found.id, RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        return False
    audit.record(user, "user.recovery_code_used", user, after={"left": codes_left(user)})
    return True


def codes_left(user: User) -> int:
    unused = sa.and_(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    return db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(unused)) or 0


def new_recovery_codes(user: User, code: str | None, *, actor) -> list[str]:
    """Replace the user's recovery codes, on a current one-time code; returns the new ones to show once."""
    if not user.has_two_factor:
        raise ValidationFailed({"code": ["Set up your second factor first."]})
    if not check_code(user, code):
        raise ValidationFailed({"code": [WRONG_CODE]})
    codes = _store_recovery_codes(user)
    audit.record(actor, "user.recovery_codes_replaced", user, after={"recovery_codes": len(codes)})
    return codes


def reset(user: User, *, actor) -> None:
    """Remove the user's second factor and recovery codes, and sign them out everywhere: they set it up
    again at their next sign-in (at once when it is required of them)."""
    if actor is not None and getattr(actor, "id", None) == user.id:
        raise ValidationFailed({"": ["You cannot reset your own second factor here; ask another administrator."]})
    if not user.has_two_factor:
        raise ValidationFailed({"": ["This user has no second factor set up."]})
    before = {"enrolled_at": user.totp_enrolled_at}
    user.totp_secret = user.totp_enrolled_at = user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_sessions(user)
    db.session.flush()
    audit.record(actor, "user.two_factor_reset", user, before=before)
