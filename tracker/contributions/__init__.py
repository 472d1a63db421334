"""Contributions and activities: what people did, session by session, and the rate cards."""

from flask import Blueprint

bp = Blueprint("contributions", __name__, url_prefix="/contributions")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
