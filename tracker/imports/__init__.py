"""Import of historical contributions and payments from CSV or XLSX: a dry run, then all or nothing,
then a second admin's approval before imported payments count (docs/imports.md)."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
