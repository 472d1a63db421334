"""Bank details encrypted at rest: Fernet (AES-128-CBC with an HMAC-SHA256 tag) from ``cryptography``.

``BANK_DETAILS_KEYS`` is a comma-separated list of Fernet keys: the first encrypts, every one of
them decrypts, so a new key is put first and ``flask --app wsgi bank rotate-keys`` re-encrypts every
row with it before the old key is dropped (docs/payment-runs.md). Production refuses to store or
read bank details with no key, or with the development key from config.py.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

import config as config_module


class KeysMissing(RuntimeError):
    """No usable key: bank details cannot be stored or read."""


def _configured_keys() -> list[str]:
    raw = current_app.config.get("BANK_DETAILS_KEYS") or ""
    if isinstance(raw, str):
        raw = raw.split(",")
    keys = [k.strip() for k in raw if k and k.strip()]
    if not keys:
        raise KeysMissing("No key is configured for bank details: set BANK_DETAILS_KEYS.")
    if current_app.config.get("ENV_NAME") == "production" and config_module.DEV_BANK_DETAILS_KEY in keys:
        raise KeysMissing("Production may not use the development key for bank details: set BANK_DETAILS_KEYS.")
    return keys


def cipher() -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in _configured_keys()])
    except ValueError:
        raise KeysMissing("A key in BANK_DETAILS_KEYS is not a Fernet key (32 url-safe base64 bytes).") from None


def encrypt(text: str) -> str:
    return cipher().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeysMissing("These bank details were encrypted with a key that is no longer configured.") from None


def rotate(token: str) -> str:
    """The same secret, encrypted with the first key."""
    try:
        return cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise KeysMissing("A row was encrypted with a key that is no longer configured.") from None


def new_key() -> str:
    return Fernet.generate_key().decode()
