"""What the people pages say: a claim's answers in plain words, the form data of a stored claim or
list of preferences, where a service's messages go on the form, and the flash messages."""

from __future__ import annotations

from datetime import date
from typing import cast

from tracker.errors import ValidationFailed
from tracker.people.forms import ATTR_PREFIX, ORDINALS, attr_choices, plain_words
from tracker.people.models import PREFERENCE_LABELS, BenefitClaim, Person
from tracker.timeutil import day_text
from tracker.vocab import BENEFIT_INFO, KIND_DESCRIPTIONS, Attr


def claim_name(code: str) -> str:
    """A claimed benefit's name as the people pages show it (an unknown code as it is)."""
    b = BENEFIT_INFO.get(code)
    return b.name if b else code


def _long_date(value: object) -> str:
    try:
        d = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return day_text(d)


#: Said after an answer the tracker once filled in with a default, until someone confirms it.
TO_CONFIRM = " (not confirmed: filled in by the tracker, please check it)"


def attribute_text(a: Attr, value: object) -> str:
    """One claim attribute's value in plain words."""
    if a.kind == "bool" and not (a.decides_rule and value is None):
        return "Yes" if value else "No"
    if value is None or value == "":
        return "Not given"
    if a.kind == "choice":
        choice = cast(str, value)  # a choice attribute holds one of its choices' codes
        return dict(attr_choices(a)).get(choice, plain_words(choice))
    if a.kind == "date":
        return _long_date(value)
    return str(value)


def describe_attributes(claim: BenefitClaim) -> list[tuple[str, str]]:
    """A claim's attributes in plain words: [(label, value)]."""
    b = BENEFIT_INFO.get(claim.benefit)
    if b is None:
        return []
    values = claim.attributes or {}
    to_confirm = set(claim.answers_to_confirm or ())
    return [
        (a.label, attribute_text(a, values.get(a.name, a.default)) + (TO_CONFIRM if a.name in to_confirm else ""))
        for a in b.attributes
        if a.asked_when(values)
    ]


def _form_value(a: Attr, value: object) -> object:
    if a.kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value


def claim_form_data(claim: BenefitClaim) -> dict:
    """The claim form's starting values for a stored claim."""
    data: dict = {"start_on": claim.start_on, "end_on": claim.end_on}
    values = claim.attributes or {}
    to_confirm = set(claim.answers_to_confirm or ())
    for a in BENEFIT_INFO[claim.benefit].attributes:
        asked = a.name not in to_confirm and a.asked_when(values)  # a question not asked had no answer
        value = values.get(a.name, a.default) if asked else None
        if a.decides_rule and a.kind == "bool":
            value = "" if value is None else ("yes" if value else "no")
        data[ATTR_PREFIX + a.name] = _form_value(a, value)
    return data


def chosen_kinds(person: Person, picked: list[str]) -> list[str]:
    """The ways ticked, known ones only, once each: those already chosen in their order, then the rest
    in the vocabulary's order."""
    known = [k for k in PREFERENCE_LABELS if k in picked]
    before = [p.kind for p in person.preferences if p.kind in known]
    return before + [k for k in known if k not in before]


def order_form_data(person: Person, kinds: list[str]) -> dict:
    """Step 2's starting values: each way in the order given, with the note already kept for it."""
    notes = {p.kind: p.note or "" for p in person.preferences}
    data: dict[str, str] = {}
    for n, kind in enumerate(kinds, start=1):
        data[f"rank_{kind}"], data[f"note_{kind}"] = str(n), notes.get(kind, "")
    return data


def ordered_preferences(form, kinds: list[str]) -> list[dict]:
    """The chosen ways in the order the person gave; a ValidationFailed (on the fields) when two share
    a place or a place is missing."""
    ranks = {k: (form[f"rank_{k}"].data or "").strip() for k in kinds}
    wanted = {str(n) for n in range(1, len(kinds) + 1)}
    if set(ranks.values()) != wanted:
        message = f"Give each way a different place in the order, from 1st to {ORDINALS[len(kinds) - 1]}."
        shared = [k for k in kinds if list(ranks.values()).count(ranks[k]) != 1 or ranks[k] not in wanted]
        raise ValidationFailed({f"rank_{k}": [message] for k in shared or kinds})
    return [{"kind": k, "note": form[f"note_{k}"].data} for k in sorted(kinds, key=lambda k: int(ranks[k]))]


def preference_errors(fields: dict[str, list[str]], kinds: list[str]) -> dict[str, list[str]]:
    """The service's "preferences.N.note" messages moved to the field of the way they came from."""
    out: dict[str, list[str]] = {}
    for key, messages in fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(kinds):
            out[f"{parts[2]}_{kinds[int(parts[1])]}"] = messages
        else:
            out[key] = messages
    return out


def way_rows(kinds: list[str], labels: dict[str, str]) -> list[tuple[str, str, str]]:
    """(kind, label, what it means for benefits) for the checkboxes."""
    return [(k, labels.get(k, k), KIND_DESCRIPTIONS[k]) for k in kinds]


def person_added(name: str) -> str:
    return f"{name} has been added."


def claim_added(code: str) -> str:
    return f"{claim_name(code)} has been added."


def claim_saved(code: str) -> str:
    return f"{claim_name(code)} has been saved."


def claim_removed(name: str) -> str:
    return f"{name} has been removed."


def details_saved(is_self: bool) -> str:
    return "Your details have been saved." if is_self else "The details have been saved."


def preferences_saved(is_self: bool) -> str:
    return "How you want to be paid has been saved." if is_self else "The ways of being paid have been saved."


def document_format_saved(is_self: bool) -> str:
    return "How you want your documents has been saved." if is_self else "How their documents are made has been saved."


CONSENT_RECORDED = "Consent to hold benefit information has been recorded."
CONSENT_WITHDRAWN = "Consent has been withdrawn, and the benefit information held has been removed."
ALREADY_REMOVED = "That benefit had already been removed."
CHOOSE_BENEFIT = "Choose a benefit from the list."


def to_confirm_rows(claims: list[BenefitClaim]) -> list[dict]:
    """One row per claim with answers to confirm: the person, the benefit and the questions."""
    rows = []
    for c in claims:
        b = BENEFIT_INFO[c.benefit]
        labels = {a.name: a.label for a in b.attributes}
        rows.append(
            {
                "claim": c,
                "person": c.person,
                "benefit": b.name,
                "questions": [labels.get(name, name) for name in c.answers_to_confirm or ()],
            }
        )
    return rows


# ---- a partner's earnings -----------------------------------------------------------------------

PARTNER_EARNING_RECORDED = (
    "The partner's earnings have been recorded. Household benefit checks (a Universal Credit joint claim, "
    "and Housing Benefit or Pension Credit for a couple) now count them."
)
PARTNER_EARNING_REMOVED = "The partner's earnings entry has been removed. Benefit checks no longer count it."
PARTNER_EARNING_ALREADY_REMOVED = "That entry had already been removed."
