"""Risk flags: a person × rule × period at or near its limit, raised by the system or a coordinator."""

from flask import Blueprint

bp = Blueprint("risks", __name__, url_prefix="/risks")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
