"""The JSON API under /api/v1: bearer tokens, one error shape, Idempotency-Key on every POST."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from tracker.api import base, documents, meta, payments, people, records, risks, rules  # noqa: E402,F401
