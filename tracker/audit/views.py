"""Audit log page (placeholder)."""

from flask import Blueprint, render_template

from tracker.auth.access import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@roles_required("admin", "finance")
def index():
    return render_template("error.html", status=200, title="Audit log", message="")
