"""One-time codes and recovery codes, with no database and no Flask: RFC 6238 TOTP (pyotp; 30 seconds,
6 digits, one step either side accepted for clock drift), the QR code drawn here as inline SVG (segno;
nothing is fetched), and the secret sealed with Fernet under a key derived from SECRET_KEY (HKDF-SHA256).

Recovery codes are 10 random characters (about 49 bits), drawn with ``secrets``; they are stored as
Argon2id hashes, like passwords (tracker/auth/two_factor.py).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DIGITS = 6
INTERVAL = 30
#: Steps either side of now that are accepted (a phone's clock a little off).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: Lower-case letters and digits without the look-alikes 0, 1, i, l and o.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10
_KEY_INFO = b"tracker: second-factor secrets at rest"


def new_secret() -> str:
    """A new base32 secret of 160 bits (RFC 4226's recommendation)."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, to type by hand or have read out."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> str:
    """The provisioning address as an inline SVG QR code with a title (its accessible name)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, title=title, svgclass="qr-code", lineclass=None, dark="#0b0c0c", light="#ffffff"
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


def step_at(moment: float | None = None) -> int:
    """The TOTP time step (30-second counter) at this Unix time, or now."""
    return int(time.time() if moment is None else moment) // INTERVAL


def normal_code(raw: str | None) -> str:
    """A typed one-time code without the spaces or hyphens people add."""
    return "".join(ch for ch in (raw or "") if ch not in " -\t")


def matching_step(secret: str, raw_code: str | None, *, after: int | None, moment: float | None = None) -> int | None:
    """The time step whose code this is (now, or one step either side), when that step is later than
    ``after`` (the last step used); None otherwise. A code is therefore accepted once only."""
    code = normal_code(raw_code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    now = step_at(moment)
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, moment: float | None = None) -> str:
    """The code an authenticator app shows at this time (for tests and the command line)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).at(int(time.time() if moment is None else moment))


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def unseal(sealed: str, secret_key: str) -> str | None:
    """The secret, or None when it was sealed under another SECRET_KEY."""
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def new_recovery_codes() -> list[str]:
    """Ten codes shown as ``abcde-fghjk``."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(raw[:5] + "-" + raw[5:])
    return codes


def normal_recovery_code(raw: str | None) -> str:
    """A typed recovery code in lower case without spaces or dashes; "" when it cannot be one."""
    code = "".join(ch for ch in (raw or "").lower() if ch.isalnum())
    return code if len(code) == RECOVERY_LENGTH else ""
