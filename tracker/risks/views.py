"""Risk pages (placeholder). The blueprint is defined here."""

from flask import Blueprint, render_template

from tracker.auth.access import roles_required

bp = Blueprint("risks", __name__, url_prefix="/risks")


@bp.get("/")
@roles_required("admin", "finance", "coordinator")
def dashboard():
    return render_template("error.html", status=200, title="Risks", message="")
