"""Contributor pages (placeholder)."""

from flask import render_template

from tracker.auth.access import roles_required
from tracker.me import bp


@bp.get("/")
@roles_required("contributor")
def index():
    return render_template("error.html", status=200, title="Your space", message="")
