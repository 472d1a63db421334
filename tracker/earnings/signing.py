"""Canonical form, Ed25519 signatures and verification codes for earnings records. Pure: no Flask.

A record is a JSON object. What is signed is its canonical form without ``signature``: keys sorted,
no whitespace, UTF-8 (non-ASCII characters as themselves). ``signature`` is the base64 Ed25519
signature of those bytes. The verification code is the first ten base32 characters of the SHA-256
of the same bytes, so a person can match a printed record to the file (docs/earnings-records.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "tracker-earnings-record/1"


class BadKey(ValueError):
    """A key that is not an Ed25519 key in a form we read."""


def canonical(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8. Floats are refused: money is text."""
    _no_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _no_floats(value: Any) -> None:
    if isinstance(value, float):
        raise ValueError("A signed record holds no floating-point numbers; money is text.")
    if isinstance(value, dict):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list):
        for item in value:
            _no_floats(item)


def signed_bytes(record: dict) -> bytes:
    """The bytes a record's signature covers: everything but ``signature``, in canonical form."""
    return canonical({k: v for k, v in record.items() if k != "signature"})


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_bytes(key)).decode()


def key_id(public: bytes) -> str:
    """A short name for a public key: 16 lowercase base32 characters of its SHA-256."""
    return base64.b32encode(hashlib.sha256(public).digest()).decode().lower()[:16]


def verification_code(record: dict) -> str:
    """Ten base32 characters of the SHA-256 of the signed bytes, shown as two groups of five."""
    code = base64.b32encode(hashlib.sha256(signed_bytes(record)).digest()).decode()[:10]
    return f"{code[:5]}-{code[5:]}"


def sign(body: dict, key: Ed25519PrivateKey) -> dict:
    """The record: the body with its signature."""
    signature = key.sign(signed_bytes(body))
    return {**body, "signature": base64.b64encode(signature).decode()}


def verify(record: dict, public: bytes) -> bool:
    """True when the record's signature was made over its content with this public key."""
    raw = record.get("signature")
    if not isinstance(raw, str):
        return False
    try:
        signature = base64.b64decode(raw, validate=True)
        Ed25519PublicKey.from_public_bytes(public).verify(signature, signed_bytes(record))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def load_private(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or the base64 of its 32 raw bytes."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error):
        raise BadKey("The signing key is not an Ed25519 private key (PEM, or base64 of 32 bytes).") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKey("The signing key is not an Ed25519 key.")
    return key


def load_public(text: str) -> bytes:
    """The raw 32 bytes of an Ed25519 public key given as base64 of the raw bytes, or PEM."""
    text = (text or "").strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise BadKey("This is not an Ed25519 public key.")
            return public_bytes(key)
        raw = base64.b64decode(text, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError, binascii.Error):
        raise BadKey("Give the public key as base64 (44 characters) or PEM, as the issuer publishes it.") from None
    return raw
