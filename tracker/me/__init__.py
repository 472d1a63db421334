"""The contributor's own space: what they did, what they were paid, how they want to be paid."""

from flask import Blueprint

bp = Blueprint("me", __name__, url_prefix="/me")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
