"""The JSON API under /api/v1: bearer tokens, one error shape, Idempotency-Key on every POST."""

from flask import Blueprint

#: Bearer tokens only, so create_app exempts this blueprint from CSRF: another site cannot send one.
bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Its routes are in the modules views.py names, which create_app imports (see tracker.AREAS): the
# API's models and schemas can be imported without pulling in its routes.
