"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()
# A hash checked against when the account does not exist, so timing does not reveal accounts.
_DUMMY = _hasher.hash("not-a-real-password")

#: One policy for every password the tracker accepts (set, created, reset, signed in with).
MIN_LENGTH = 12
MAX_LENGTH = 128
#: zxcvbn's score (0-4): below this the password is a common one or an easy pattern
#: ("aaaaaaaaaaaa", "password1234", "qwertyuiop12"); zxcvbn ships its own common-password lists.
MIN_SCORE = 3


def password_problem(password: str, *, about: tuple[str, ...] = ()) -> str | None:
    """Why a new password is refused, or None. ``about``: words the password should not lean on
    (the email address, the name)."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if zxcvbn(password, user_inputs=[w for w in about if w])["score"] < MIN_SCORE:
        return "That password is too common or too easy to guess: try a few unrelated words together."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def set_fast_hashing_for_tests() -> None:
    """Cheap parameters for the test suite only."""
    global _hasher, _DUMMY
    _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    _DUMMY = _hasher.hash("not-a-real-password")
