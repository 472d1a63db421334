"""Forms for the people pages.

They only parse what was typed (text, whole numbers, real dates, ticked or not) and never build
ORM objects: the rules about what is allowed live in tracker.people.service and
tracker.people.benefits, whose ValidationFailed messages the views put back onto these fields.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional

try:  # WTForms 3.3 deprecates (value, label) tuples for choices
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - WTForms before 3.3
    SelectChoice = None

from tracker.forms import DateInputField
from tracker.people.benefits import BENEFITS, CLAIMABLE_CODES, WEEKDAYS, Attr
from tracker.people.models import PREFERENCE_LABELS
from tracker.vocab import DOCUMENT_FORMAT_LABELS

MAX_PREFERENCES = 7
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th")
ATTR_PREFIX = "attr_"


class Needed:
    """Marks a field as needed (no "(optional)" on its label); the service says what is wrong."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


class PlainDateField(DateInputField):
    """A date typed as day, month and year (the GOV.UK date input, tracker.forms), from 2000 to
    2100. A blank date is left to InputRequired/Optional; a date that does not exist is a plain
    form error."""


def select_choices(pairs) -> list:
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def plain_words(value: str) -> str:
    """lone_parent -> Lone parent."""
    return str(value).replace("_", " ").capitalize()


# ---- people -------------------------------------------------------------------------------


class SearchForm(Form):
    """The GET search box on the people list (no CSRF: it changes nothing)."""

    q = StringField("Search by name or email")


class PersonForm(FlaskForm):
    name = StringField("Full name", validators=[Needed()])
    email = EmailField("Email address")
    phone = TelField("Phone number")
    notes = TextAreaField("Notes")


class ChooseWaysForm(FlaskForm):
    """Step 1 of "how you want to be paid": which ways (checkboxes); the order comes next."""

    kinds = SelectMultipleField("Ways of being paid", choices=select_choices(PREFERENCE_LABELS.items()))


def order_form_class(kinds: list[str]):
    """Step 2: for each chosen way, its place in the order (1 = most preferred) and a note."""

    class OrderWaysForm(FlaskForm):
        pass

    places = select_choices([(str(n), ORDINALS[n - 1]) for n in range(1, len(kinds) + 1)])
    for kind in kinds:
        # validate_choice=False: the view says in words what is wrong with the order.
        setattr(OrderWaysForm, f"rank_{kind}", SelectField("Order", choices=places, validate_choice=False))
        setattr(OrderWaysForm, f"note_{kind}", StringField("Anything to add"))
    return OrderWaysForm


class ConsentForm(FlaskForm):
    given_on = PlainDateField("Date consent was given", validators=[InputRequired("Enter the date consent was given")])
    notice_version = StringField("Version of the privacy notice", validators=[Needed()])


# ---- benefit claims -----------------------------------------------------------------------


class ChooseBenefitForm(Form):
    """The GET form that picks which benefit to add (no CSRF: it changes nothing)."""

    benefit = SelectField(
        "Benefit",
        choices=select_choices([("", "Choose a benefit")] + [(code, BENEFITS[code].name) for code in CLAIMABLE_CODES]),
        default="",
        validators=[Needed()],
        validate_choice=False,
    )


def attr_choices(a: Attr) -> list[tuple[str, str]]:
    if a.choices == WEEKDAYS:
        return [(d, d.capitalize()) for d in a.choices]
    return [(c, plain_words(c)) for c in a.choices]


#: The answers to a yes-or-no question that decides which rule applies (nothing is chosen at first).
ANSWER_CHOICES = [("", "Choose an answer"), ("yes", "Yes"), ("no", "No")]


def _answer_field(a: Attr):
    """A question whose answer decides which rule applies: never pre-selected, never defaulted."""
    pairs = ANSWER_CHOICES if a.kind == "bool" else [("", "Choose an answer"), *attr_choices(a)]
    validators = [] if a.only_if else [Needed()]
    return SelectField(a.label, choices=select_choices(pairs), default="", validators=validators, validate_choice=False)


def _attr_field(a: Attr):
    if a.decides_rule:
        return _answer_field(a)
    if a.kind == "int":
        render_kw: dict[str, str | int] = {"inputmode": "numeric"}
        if a.minimum is not None:
            render_kw["min"] = a.minimum
        if a.maximum is not None:
            render_kw["max"] = a.maximum
        validators = [Optional()] + ([Needed()] if a.required else [])
        return IntegerField(
            a.label,
            validators=validators,
            default=a.default,
            render_kw=render_kw,
            invalid_value_message=f"{a.label} must be a whole number.",
        )
    if a.kind == "bool":
        return BooleanField(a.label, default=bool(a.default))
    if a.kind == "choice":
        return SelectField(
            a.label,
            choices=select_choices(attr_choices(a)),
            default=a.default,
            validators=[Needed()],
            validate_choice=False,
        )
    if a.kind == "date":
        return PlainDateField(a.label, validators=[Optional()] + ([Needed()] if a.required else []))
    return StringField(a.label, validators=[Needed()] if a.required else [])


def claim_form_class(benefit_code: str):
    """The claim form for one benefit: start and end dates, then that benefit's attributes."""
    benefit = BENEFITS[benefit_code]

    class ClaimForm(FlaskForm):
        start_on = PlainDateField(
            "Date the benefit started", validators=[InputRequired("Enter the date the benefit started")]
        )
        end_on = PlainDateField("Date the benefit ended", validators=[Optional()])

    for a in benefit.attributes:
        setattr(ClaimForm, ATTR_PREFIX + a.name, _attr_field(a))
    return ClaimForm


def attributes_from(form, benefit_code: str) -> dict:
    """The attribute values as the service expects them (it checks and fills in defaults)."""
    out = {}
    for a in BENEFITS[benefit_code].attributes:
        value = form[ATTR_PREFIX + a.name].data
        if a.decides_rule and a.kind == "bool":
            value = {"yes": True, "no": False}.get(value or "")
        if a.kind == "date" and value is not None:
            value = value.isoformat()
        out[a.name] = value
    return out


def attribute_fields(benefit_code: str) -> dict[str, str]:
    """The service's names for the claim attributes ("attributes.ap_start_day") mapped to this form's fields."""
    return {f"attributes.{a.name}": ATTR_PREFIX + a.name for a in BENEFITS[benefit_code].attributes}


def upload_field(label: str, missing: str, extensions: list[str], wrong: str, accept: str | None = None) -> FileField:
    """A required upload whose name ends in one of ``extensions``; ``accept`` narrows the browser's chooser."""
    return FileField(
        label,
        validators=[FileRequired(missing), FileAllowed(extensions, wrong)],
        render_kw={"accept": accept} if accept else None,
    )


class DocumentFormatForm(FlaskForm):
    """How statements and certificates are made for the person: standard or easy read."""

    document_format = RadioField(
        "How should statements and certificates be made?",
        choices=select_choices(DOCUMENT_FORMAT_LABELS.items()),
        validate_choice=False,
    )
