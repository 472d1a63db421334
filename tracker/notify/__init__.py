"""Notifications to staff: email through SMTP when configured, otherwise an outbox shown in the app."""

from flask import Blueprint

# No pages of its own yet: the outbox is shown on the risk dashboard. The blueprint is here so that
# every area has the same shape and is registered from the one list in tracker/__init__.py.
bp = Blueprint("notify", __name__, url_prefix="/notify")
