"""The append-only audit trail: every change to people, benefit information, money, rules,
roles and tokens, and every view of benefit information."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
