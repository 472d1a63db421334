"""Signed earnings records: issue one for a person and a period, and import another organisation's."""

from flask import Blueprint

bp = Blueprint("earnings", __name__)
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
