"""The page commit boundary: one commit on success, nothing written on a refused write."""

from __future__ import annotations

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import StringField

from tracker import pages
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.people.models import Person


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Person))


def test_submit_commits_flashes_and_redirects(app):
    with app.test_request_context("/", method="POST", data={"name": "Ada"}):
        form = NameForm()

        def action() -> pages.Done:
            db.session.add(Person(name=form.name.data))
            db.session.flush()
            return pages.Done("/people/", "Ada has been added.")

        resp = pages.submit(form, action)
        assert resp is not None and resp.status_code == 302 and resp.location == "/people/"
        from flask import get_flashed_messages

        assert get_flashed_messages(with_categories=True) == [("success", "Ada has been added.")]
        db.session.rollback()  # a later rollback cannot undo what submit committed
        assert _count() == 1
        assert pages.status(form) == 200


def test_submit_rolls_back_and_puts_messages_on_fields(app):
    with app.test_request_context("/", method="POST", data={"name": "Ada"}):
        form = NameForm()

        def action() -> pages.Done:
            db.session.add(Person(name="Written then refused"))
            db.session.flush()
            raise ValidationFailed({"full_name": ["Enter a shorter name."], "other": ["Not on this form."]})

        assert pages.submit(form, action, rename={"full_name": "name"}) is None
        assert form.name.errors == ["Enter a shorter name."]
        assert form.form_errors == ["Not on this form."]
        assert pages.status(form) == 422
        assert _count() == 0


def test_submit_turns_a_conflict_into_a_form_error(app):
    with app.test_request_context("/", method="POST", data={"name": "Ada"}):
        form = NameForm()

        def action() -> pages.Done:
            db.session.add(Person(name="Written then refused"))
            db.session.flush()
            raise Conflict("This payment has already been approved.")

        assert pages.submit(form, action) is None
        assert form.form_errors == ["This payment has already been approved."]
        assert _count() == 0


def test_submit_hands_validation_errors_to_on_error(app):
    seen: list[ValidationFailed] = []
    with app.test_request_context("/", method="POST", data={"name": "Ada"}):
        form = NameForm()

        def action() -> pages.Done:
            raise ValidationFailed({"name": ["No."]})

        assert pages.submit(form, action, on_error=seen.append) is None
        assert [e.fields for e in seen] == [{"name": ["No."]}]
        assert not form.name.errors
