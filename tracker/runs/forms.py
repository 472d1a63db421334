"""Forms for the payment run and bank details pages. They parse what was typed; the services hold
the rules, and their messages are put back onto these fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectMultipleField, StringField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.payments.forms import DayField
from tracker.people.forms import Needed


class NewRunForm(FlaskForm):
    payment_ids = SelectMultipleField(
        "Payments in the run",
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    pay_on = DayField("Date the payments arrive", validators=[InputRequired("Enter the date the payments arrive.")])


class MarkPaidForm(FlaskForm):
    paid_on = DayField("Date the payments arrived", validators=[InputRequired("Enter the date the payments arrived.")])


class BankDetailsForm(FlaskForm):
    account_name = StringField(
        "Name on the account",
        validators=[Needed()],
        render_kw={"autocomplete": "off", "maxlength": 18, "spellcheck": "false"},
    )
    sort_code = StringField(
        "Sort code",
        validators=[Needed()],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )
    account_number = StringField(
        "Account number",
        validators=[Needed()],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )


class MyBankDetailsForm(BankDetailsForm):
    password = PasswordField(
        "Your password",
        validators=[InputRequired("Enter your password to save these details.")],
        render_kw={"autocomplete": "current-password"},
    )
