"""This installation's signing key for earnings records.

``EARNINGS_SIGNING_KEY`` holds an Ed25519 private key (PEM, or base64 of its 32 raw bytes). Under
``TRACKER_ENV=development`` or ``test`` with no setting, a key is made once and kept in the instance
folder (``earnings-signing-key.pem``). In production there is no such fallback: the app starts, but
issuing a record (and publishing the key) is refused with a message naming the setting, so nothing is
ever signed with a key nobody chose.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app

import config as config_module
from tracker.earnings import signing
from tracker.errors import Conflict

DEV_KEY_FILE = "earnings-signing-key.pem"
MISSING = (
    "Earnings records cannot be signed: this installation has no signing key. "
    "An administrator sets EARNINGS_SIGNING_KEY (see docs/earnings-records.md)."
)


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public: bytes
    key_id: str
    organisation: str


def signing_key() -> SigningKey:
    """The key, or a 409 ``signing_key_missing`` (production without the setting, or a bad key)."""
    cfg = current_app.config
    text = cfg.get("EARNINGS_SIGNING_KEY") or ""
    if not text and config_module.is_development(str(cfg.get("ENV_NAME") or "")):
        text = _development_key(Path(current_app.instance_path) / DEV_KEY_FILE)
    if not text:
        raise Conflict(MISSING, code="signing_key_missing")
    try:
        private = signing.load_private(text)
    except signing.BadKey as e:
        raise Conflict(f"{MISSING} {e}", code="signing_key_missing") from None
    public = signing.public_bytes(private.public_key())
    return SigningKey(private, public, signing.key_id(public), str(cfg["ORGANISATION_NAME"]))


def _development_key(path: Path) -> str:
    """Made once and kept (readable by this user only); a concurrent first use keeps the first."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = signing.private_pem(signing.new_private_key())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(pem)
    return path.read_text()
