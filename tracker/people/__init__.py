"""People, their consent, their payment preferences and the benefits they claim."""

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
