"""The commit boundary for web pages, as ``tracker.api.base.writes`` is for the API.

A page view parses its form, then hands the write to ``submit`` (``posted`` does both)::

    if done := pages.posted(form, lambda: _create(form)):
        return done
    return render_template(...), pages.status(form)

The action calls one or more services (which flush, never commit) and returns a ``Done``: what to
flash and where to go. ``submit`` owns the rest: on success it commits once, flashes and redirects
(post/redirect/get); on a ``ValidationFailed`` or ``Conflict`` it rolls back, puts the messages on
the form (the error summary shows them) and returns ``None`` so the view renders the form again with
status 422. Nothing is written when anything fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import flash, redirect
from werkzeug.wrappers import Response

from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.vocab import MAX_ID


@dataclass(frozen=True)
class Done:
    """What a successful page write says and where it goes next."""

    to: str
    message: str | None = None
    category: str = "success"


def put_errors(form, fields: Mapping[str, list[str]], rename: Mapping[str, str] | None = None) -> None:
    """Put per-field messages onto the form's fields.

    ``rename`` maps a service's field name to the form's; a message for no field on this form goes
    to the form itself (shown in the error summary).
    """
    rename = rename or {}
    for key, messages in fields.items():
        name = rename.get(key, key)
        if name in form and name != "csrf_token":
            form[name].errors = list(form[name].errors) + list(messages)
        else:
            form.form_errors.extend(messages)


def parse_id(raw: object) -> int | None:
    """A record's id typed in a form or a query argument: a positive whole number that fits a database
    id, else None (so a huge number is "not found", never an overflow in the database driver)."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def status(form) -> int:
    """422 when the form carries errors, 200 otherwise."""
    return 422 if form.errors else 200


def submit(
    form,
    action: Callable[[], Done],
    *,
    rename: Mapping[str, str] | None = None,
    on_error: Callable[[ValidationFailed], None] | None = None,
) -> Response | None:
    """Run ``action`` inside the page commit boundary.

    Returns the redirect on success; ``None`` after a refused write (rolled back, messages on the
    form). ``on_error`` replaces the default placing of a ``ValidationFailed``'s messages.
    """
    try:
        done = action()
    except ValidationFailed as e:
        db.session.rollback()
        if on_error is not None:
            on_error(e)
        else:
            put_errors(form, e.fields or {"": [e.message]}, rename)
        return None
    except Conflict as e:
        db.session.rollback()
        form.form_errors.append(e.message)
        return None
    db.session.commit()
    if done.message:
        flash(done.message, done.category)
    return redirect(done.to)


def commit(done: Done) -> Response:
    """Commit a write that needs no form (a button), flash and redirect."""
    db.session.commit()
    if done.message:
        flash(done.message, done.category)
    return redirect(done.to)


def keep_audit() -> None:
    """Commit the audit event a page that only reads has recorded (a view of benefit information).

    Such a page changes nothing else: there is no form to fill and nowhere to redirect.
    """
    db.session.commit()


def posted(form, action: Callable[[], Done], **options) -> Response | None:
    """``submit`` when the form was posted and is valid; None otherwise (the view renders the form)."""
    if not form.validate_on_submit():
        return None
    return submit(form, action, **options)
