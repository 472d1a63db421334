"""People pages (placeholder: being written)."""

from flask import render_template
from flask_login import current_user

from tracker.auth.access import roles_required, visible_person_or_404
from tracker.people import bp


@bp.get("/")
@roles_required("admin", "coordinator", "finance")
def index():
    return render_template("error.html", status=200, title="People", message="")


@bp.get("/new")
@roles_required("admin", "coordinator")
def new():
    return render_template("error.html", status=200, title="Add a person", message="")


@bp.get("/<int:person_id>")
@roles_required("admin", "coordinator", "finance", "contributor")
def detail(person_id: int):
    person = visible_person_or_404(current_user, person_id)
    return render_template("error.html", status=200, title=person.name, message="")
