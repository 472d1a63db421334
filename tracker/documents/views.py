"""Document pages (placeholder). The blueprint is defined here."""

from flask import Blueprint, render_template

from tracker.auth.access import roles_required

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.get("/")
@roles_required("admin", "finance", "coordinator", "contributor")
def index():
    return render_template("error.html", status=200, title="Documents", message="")
