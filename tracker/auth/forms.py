from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from tracker.auth.passwords import MAX_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter an email address, like name@example.org."),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Enter your password."),
            Length(max=MAX_LENGTH, message=f"A password has at most {MAX_LENGTH} characters."),
        ],
    )


class EmptyForm(FlaskForm):
    """For button-only POSTs: carries the CSRF token."""


def _code_field(label: str, missing: str, too_long: str, longest: int, **render_kw: str) -> StringField:
    """A short code typed by hand: no spell checking or capitals added by the browser."""
    return StringField(
        label,
        validators=[DataRequired(missing), Length(max=longest, message=too_long)],
        render_kw={**render_kw, "spellcheck": "false", "autocapitalize": "off"},
    )


class CodeForm(FlaskForm):
    """A one-time code from an authenticator app (autocomplete="one-time-code" is set by the template)."""

    code = _code_field(
        "Code from your authenticator app",
        "Enter the 6-digit code from your authenticator app.",
        "Enter the 6-digit code from your authenticator app.",
        20,
        inputmode="numeric",
    )


class RecoveryCodeForm(FlaskForm):
    code = _code_field(
        "Recovery code",
        "Enter one of your recovery codes.",
        "A recovery code looks like abcde-fghjk.",
        40,
        autocorrect="off",
    )
