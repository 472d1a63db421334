"""Import of historical contributions and payments from CSV or XLSX: a dry run, then all or nothing."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")
# The views module adds its routes to ``bp``; create_app imports it (not this package), so
# services can import this package without pulling in the views.
