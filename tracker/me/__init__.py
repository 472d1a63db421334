"""The contributor's own space: what they did, what they were paid, how they want to be paid."""

from flask import Blueprint

bp = Blueprint("me", __name__, url_prefix="/me")
# The views module adds its routes to ``bp``; create_app imports it (not this package), so
# services can import this package without pulling in the views.
