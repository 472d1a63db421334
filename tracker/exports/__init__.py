"""CSV and XLSX exports of exactly the filtered rows a list shows."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
# The views module adds its routes to ``bp``; create_app imports it (not this package), so
# services can import this package without pulling in the views.
