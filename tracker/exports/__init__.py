"""CSV and XLSX exports of exactly the filtered rows a list shows."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")

from tracker.exports import views  # noqa: E402,F401
