"""Contribution and activity pages (placeholder)."""

from flask import render_template

from tracker.auth.access import roles_required
from tracker.contributions import bp


@bp.get("/")
@roles_required("admin", "finance", "coordinator")
def index():
    return render_template("error.html", status=200, title="Contributions", message="")
