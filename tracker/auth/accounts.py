"""Account pages: the admin's list of users, invitations, role changes, deactivation, password resets
and token revocation; inviting a contributor from their person's page; choosing a password through a
single-use link. Every write goes through ``tracker.pages``; the rules are in ``tracker.auth.service``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from tracker import pages
from tracker.auth import bp, service, two_factor
from tracker.auth.access import person_for_benefit_staff, roles_required
from tracker.auth.forms import EmptyForm
from tracker.auth.models import ApiToken, User
from tracker.auth.passwords import MAX_LENGTH, MIN_LENGTH
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.people.forms import select_choices
from tracker.timeutil import utcnow
from tracker.vocab import ROLE_LABELS, STAFF_ROLES

STAFF_CHOICES = select_choices([(role, ROLE_LABELS[role]) for role in STAFF_ROLES])
EMAIL_CHECKS = [
    DataRequired("Enter their email address."),
    Email("Enter an email address, like name@example.org."),
    Length(max=254, message="Use 254 characters or fewer."),
]


class InviteForm(FlaskForm):
    email = EmailField("Email address", validators=EMAIL_CHECKS)
    name = StringField("Name", validators=[Optional(), Length(max=200, message="Use 200 characters or fewer.")])
    role = SelectField("Role", choices=STAFF_CHOICES, validators=[DataRequired("Choose a role.")])


class ContributorInviteForm(FlaskForm):
    email = EmailField("Their email address", validators=EMAIL_CHECKS)


class RoleForm(FlaskForm):
    role = SelectField("New role", choices=STAFF_CHOICES, validators=[DataRequired("Choose a role.")])


class RevokeForm(FlaskForm):
    token_id = StringField("Token", validators=[DataRequired("Choose a token to revoke.")])


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a password."),
            Length(max=MAX_LENGTH, message=f"Use {MAX_LENGTH} characters or fewer."),
        ],
    )
    confirm = PasswordField(
        "Type it again", validators=[DataRequired("Type the password again."), EqualTo("password", "The two differ.")]
    )


def _hours() -> int:
    return int(current_app.config["INVITE_LINK_HOURS"])


def _base_url() -> str:
    """Where set-password links point. In production always PUBLIC_URL, never the request's Host
    header (which a client chooses); in development and tests the address the page was opened at."""
    import config

    if config.is_development(current_app.config.get("ENV_NAME", "")):
        return request.host_url
    return str(current_app.config["PUBLIC_URL"])


def _sent_or_shown(user: User, secret: str, what: str) -> str:
    """The message after making a link: mailed, or the link itself, shown this once."""
    link = service.send_link(user, secret, base_url=_base_url(), hours=_hours())
    if link is None:
        return f"{what} The link to choose a password has been emailed to {user.email}."
    return f"{what} Give them this link to choose a password. It is shown only now and works once: {link}"


# ---- the admin's pages -------------------------------------------------------------------------


@bp.get("/admin/users")
@roles_required("admin")
def users():
    return render_template("auth/accounts/users.html", rows=service.users_with_token_counts(), labels=ROLE_LABELS)


@bp.route("/admin/users/invite", methods=["GET", "POST"])
@roles_required("admin")
def invite():
    form = InviteForm()
    if done := pages.posted(form, lambda: _invite(form)):
        return done
    return render_template("auth/accounts/invite.html", form=form), pages.status(form)


def _invite(form: InviteForm) -> pages.Done:
    user, secret = service.invite_user(
        form.email.data, form.role.data, actor=current_user, name=form.name.data, hours=_hours()
    )
    message = _sent_or_shown(user, secret, f"{user.email} is invited as {ROLE_LABELS[user.role].lower()}.")
    return pages.Done(url_for("auth.user", user_id=user.id), message)


@bp.get("/admin/users/<int:user_id>")
@roles_required("admin")
def user(user_id: int):
    return _user_page(db.get_or_404(User, user_id))


def _user_page(user: User, failed: FlaskForm | None = None, role_form: RoleForm | None = None):
    now = utcnow()
    role_form = role_form or RoleForm(formdata=None, role=user.role if user.role in STAFF_ROLES else "coordinator")
    return render_template(
        "auth/accounts/user.html",
        user=user,
        tokens=[(row, service.token_usable(row, now)) for row in service.tokens_of(user)],
        labels=ROLE_LABELS,
        role_form=role_form,
        button=EmptyForm(formdata=None),
        failed=failed,
        is_self=user.id == current_user.id,
        recovery_left=two_factor.codes_left(user) if user.has_two_factor else None,
    ), (422 if failed is not None and failed.errors else 200)


def _on_user_page(
    user_id: int, form: FlaskForm, action: Callable[[User], pages.Done], role_form: RoleForm | None = None
) -> Response | tuple:
    """A form on the user's page: run the action, or show the page again with its refusal."""
    user = db.get_or_404(User, user_id)
    if done := pages.posted(form, lambda: action(user)):
        return done
    return _user_page(db.get_or_404(User, user_id), failed=form, role_form=role_form)


def _button(user_id: int, action: Callable[[User], pages.Done]) -> Response | tuple:
    return _on_user_page(user_id, EmptyForm(), action)


def _back(user: User, message: str) -> pages.Done:
    return pages.Done(url_for("auth.user", user_id=user.id), message)


def _admin_button(end: str, endpoint: str, action: Callable[[User], pages.Done]) -> None:
    """A button on a user's page, for admins: POST /admin/users/ID/END runs ``action`` on that user."""

    @roles_required("admin")
    def view(user_id: int) -> Response | tuple:
        return _button(user_id, action)

    bp.add_url_rule(f"/admin/users/<int:user_id>/{end}", endpoint, view, methods=["POST"])


def _reset_two_factor(user: User) -> pages.Done:
    two_factor.reset(user, actor=current_user)
    return _back(user, f"{user.email}'s second factor is removed and they are signed out; they set it up again.")


def _deactivate(user: User) -> pages.Done:
    service.deactivate_user(user, actor=current_user)
    return _back(user, f"{user.email} is deactivated: signed out everywhere, API tokens revoked.")


def _reactivate(user: User) -> pages.Done:
    service.reactivate_user(user, actor=current_user)
    return _back(user, f"{user.email} can sign in again.")


def _reset(user: User) -> pages.Done:
    secret = service.reset_password(user, actor=current_user, hours=_hours())
    return _back(user, _sent_or_shown(user, secret, "A new password link is made."))


#: The admin's one-click buttons on a user's page: the end of the address, the endpoint, the action.
for _end, _endpoint, _action in (
    ("deactivate", "deactivate", _deactivate),
    ("reactivate", "reactivate", _reactivate),
    ("reset", "reset_password", _reset),
    ("reset-2fa", "reset_two_factor", _reset_two_factor),
):
    _admin_button(_end, _endpoint, _action)


@bp.post("/admin/users/<int:user_id>/role")
@roles_required("admin")
def change_role(user_id: int):
    form = RoleForm()
    return _on_user_page(user_id, form, lambda user: _change_role(user, form.role.data), role_form=form)


def _change_role(user: User, role: str) -> pages.Done:
    service.change_staff_role(user, role, actor=current_user)
    return _back(user, f"{user.email} is now {ROLE_LABELS[user.role].lower()}; their sessions and tokens ended.")


@bp.post("/admin/users/<int:user_id>/revoke-token")
@roles_required("admin")
def revoke_token(user_id: int):
    form = RevokeForm()
    return _on_user_page(user_id, form, lambda user: _revoke(user, form.token_id.data))


def _revoke(user: User, raw_id: str | None) -> pages.Done:
    token_id = pages.parse_id(raw_id)
    row = db.session.get(ApiToken, token_id) if token_id else None
    if row is None or row.user_id != user.id or not service.token_usable(row, utcnow()):
        raise ValidationFailed({"token_id": ["Choose one of this user's working tokens."]})
    service.revoke_token(row, actor=current_user)
    return _back(user, f"Token {row.id} is revoked.")


# ---- inviting a contributor from their person's page ---------------------------------------------


@bp.route("/people/<int:person_id>/invite", methods=["GET", "POST"])
@login_required
def invite_contributor(person_id: int):
    person = person_for_benefit_staff(current_user, person_id)
    form = ContributorInviteForm(data={"email": person.email} if request.method == "GET" else None)
    if form.validate_on_submit():

        def action() -> pages.Done:
            user, secret = service.invite_user(
                form.email.data,
                "contributor",
                actor=current_user,
                name=person.name,
                person_id=person.id,
                hours=_hours(),
            )
            message = _sent_or_shown(user, secret, f"{person.name} is invited to see their own records.")
            return pages.Done(url_for("people.detail", person_id=person.id), message)

        done = pages.submit(form, action, rename={"person": "email"})
        if done:
            return done
    return render_template("auth/accounts/invite_contributor.html", form=form, person=person), pages.status(form)


# ---- choosing a password through a link -------------------------------------------------------------


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    link = service.link_for(token)
    if link is None:
        return render_template("auth/accounts/link_gone.html"), 410
    form = SetPasswordForm()
    if form.validate_on_submit():

        def action() -> pages.Done:
            user = service.use_link(link, form.password.data)
            return pages.Done(url_for("auth.sign_in"), f"Your password is set. Sign in with {user.email}.")

        done = pages.submit(form, action)
        if done:
            return done
    return render_template(
        "auth/accounts/set_password.html", form=form, user=link.user, min_length=MIN_LENGTH
    ), pages.status(form)
