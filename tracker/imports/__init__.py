"""Import of historical contributions and payments from CSV or XLSX: a dry run, then all or nothing."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")

from tracker.imports import views  # noqa: E402,F401
