"""Documents: statements and certificates, asked for on a page and made by a worker."""

from flask import Blueprint

bp = Blueprint("documents", __name__, url_prefix="/documents")
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
