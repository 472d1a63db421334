"""Who may see and do what. One place, so the role matrix test can hold every route to it."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.people.models import Person

# Who may see which benefits a person receives (special-category data), named here too for the
# modules that import it from auth.
from tracker.vocab import BENEFIT_INFO_ROLES as BENEFIT_INFO_ROLES


def roles_required(*roles: str):
    """Page decorator: signed in, and one of these roles; other roles get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def visible_person(user, person_id: int) -> Person | None:
    """The person if this user may see them; None otherwise (callers answer 404)."""
    if user is None or not user.is_authenticated:
        return None
    if user.role == "contributor" and user.person_id != person_id:
        return None
    return db.session.get(Person, person_id)


def visible_person_or_404(user, person_id: int) -> Person:
    person = visible_person(user, person_id)
    if person is None:
        abort(404)
    return person


def person_for_benefit_staff(user, person_id: int) -> Person:
    """A person for a page only benefit-information staff use: 404 if this user may not see the person
    (another person's page is 404 to a contributor), then 403 unless they are such staff."""
    person = visible_person_or_404(user, person_id)
    if user.role not in BENEFIT_INFO_ROLES:
        abort(403)
    return person


def can_see_benefits(user, person: Person) -> bool:
    if user.role in BENEFIT_INFO_ROLES:
        return True
    return user.role == "contributor" and user.person_id == person.id


def can_edit_person(user, person: Person) -> bool:
    return user.role in BENEFIT_INFO_ROLES or (user.role == "contributor" and user.person_id == person.id)
