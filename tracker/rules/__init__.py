"""Benefit rules as stored rows: the pack in use, its revisions, and the checks that apply them.

The pure evaluation (periods, engine, pack, planner) lives in ``tracker.engine``."""

from flask import Blueprint

bp = Blueprint("rules", __name__, url_prefix="/rules")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
