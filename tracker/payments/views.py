"""Payment pages (placeholder)."""

from flask import render_template

from tracker.auth.access import roles_required
from tracker.payments import bp


@bp.get("/")
@roles_required("admin", "finance", "coordinator")
def index():
    return render_template("error.html", status=200, title="Payments", message="")


@bp.get("/month-end")
@roles_required("admin", "finance")
def month_end():
    return render_template("error.html", status=200, title="Month end", message="")
