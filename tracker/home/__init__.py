"""The home page: what each role needs first."""

from flask import Blueprint

bp = Blueprint("home", __name__)
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
