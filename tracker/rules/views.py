"""Rule administration pages (placeholder). The blueprint lives here, not in tracker/rules/__init__.py,
so the pure engine package imports without Flask."""

from flask import Blueprint, render_template

from tracker.auth.access import roles_required

bp = Blueprint("rules", __name__, url_prefix="/rules")


@bp.get("/")
@roles_required("admin", "finance", "coordinator")
def index():
    return render_template("error.html", status=200, title="Benefit rules", message="")
