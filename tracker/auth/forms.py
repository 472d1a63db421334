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


class CodeForm(FlaskForm):
    """A one-time code from an authenticator app (autocomplete="one-time-code" is set by the template)."""

    code = StringField(
        "Code from your authenticator app",
        validators=[
            DataRequired("Enter the 6-digit code from your authenticator app."),
            Length(max=20, message="Enter the 6-digit code from your authenticator app."),
        ],
        render_kw={"inputmode": "numeric", "spellcheck": "false", "autocapitalize": "off"},
    )


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        "Recovery code",
        validators=[
            DataRequired("Enter one of your recovery codes."),
            Length(max=40, message="A recovery code looks like abcde-fghjk."),
        ],
        render_kw={"spellcheck": "false", "autocapitalize": "off", "autocorrect": "off"},
    )
