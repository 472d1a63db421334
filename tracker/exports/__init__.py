"""CSV and XLSX exports of exactly the filtered rows a list shows."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
