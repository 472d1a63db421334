"""Payments and expenses: recorded, checked against the benefit rules, approved and paid."""

from flask import Blueprint

bp = Blueprint("payments", __name__, url_prefix="/payments")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
