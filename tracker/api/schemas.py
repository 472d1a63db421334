"""Strict request bodies for the API. Types only: the services hold the domain rules.

The OpenAPI document is generated from these models, so each field also states, in its JSON schema,
what the service behind it accepts (a date's years, an amount's ceiling, a sort code's shape), from the
same constants the services check: a request that follows the document reaches the logic.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracker.timeutil import EARLIEST_DAY, LATEST_DAY
from tracker.vocab import (
    BENEFIT_INFO,
    CLAIMABLE_CODES,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_AMOUNT,
    MAX_ID,
    PAY_METHOD_CHOICES,
    PAYMENT_KINDS,
)

# The codes are spelled out so that a type checker can read them; tests/test_api_vocab.py holds them to
# tracker.vocab (PAYMENT_KINDS, SERVICE_USER_CONTEXTS).
PaymentKind = Literal["cash", "bank_transfer", "voucher", "training", "certificate", "declined", "charity"]


def year_pattern(first: int, last: int) -> str:
    """A regular expression for the four-digit years ``first`` to ``last``: the largest aligned block of
    years (a century, a decade, a year) at a time, so 2000 to 2100 reads ``(20[0-9][0-9]|2100)``."""
    parts = []
    year = first
    while year <= last:
        width = next(w for w in (100, 10, 1) if year % w == 0 and year + w - 1 <= last)
        digits = len(str(width)) - 1
        parts.append(str(year)[: 4 - digits] + "[0-9]" * digits)
        year += width
    return "(" + "|".join(parts) + ")"


#: How the document states a date: ISO, from FIRST_YEAR to LAST_YEAR (the pattern bounds the year for
#: generators that do not read formatMinimum / formatMaximum).
DAY_SCHEMA = {
    "type": "string",
    "format": "date",
    "pattern": "^" + year_pattern(FIRST_YEAR, LAST_YEAR) + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
    "formatMinimum": EARLIEST_DAY.isoformat(),
    "formatMaximum": LATEST_DAY.isoformat(),
    "description": f"A date from {FIRST_YEAR} to {LAST_YEAR}, YYYY-MM-DD; any other is a 422.",
}
#: Every date in a request body lies from 2000 to 2100 (tracker.vocab's FIRST_YEAR and LAST_YEAR).
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY, json_schema_extra=DAY_SCHEMA)]
#: The id of a row: a database integer. A bigger number is a 422, never a 500.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


#: A person lists each way of being paid at most once.
MAX_PREFERENCES = len(PAYMENT_KINDS)
#: Every claim attribute any benefit has (tracker.vocab's BENEFIT_INFO); the people service refuses
#: an attribute the claim's benefit does not have.
CLAIM_ATTRIBUTES = sorted({a.name for b in BENEFIT_INFO.values() for a in b.attributes})


class PreferenceIn(Strict):
    kind: PaymentKind
    note: str | None = Field(default=None, max_length=500)


class PersonIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    preferences: list[PreferenceIn] = Field(default_factory=list, max_length=MAX_PREFERENCES)


class ConsentIn(Strict):
    given_on: Day
    notice_version: str = Field(min_length=1, max_length=40)


class ClaimIn(Strict):
    # The people service refuses any other code, with the list in its message.
    benefit: str = Field(min_length=1, max_length=10, json_schema_extra={"enum": list(CLAIMABLE_CODES)})
    start_on: Day
    end_on: Day | None = None
    attributes: dict[str, Any] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"enum": list(CLAIM_ATTRIBUTES)}}
    )


def up_to(maximum: Decimal, places: int = 2) -> str:
    """A regular expression for decimal text from 0 to ``maximum`` (a power of ten) with up to ``places``
    decimals, so the document states the ceiling the services check."""
    whole = int(maximum)
    if maximum != whole or str(whole).rstrip("0") != "1":
        raise ValueError(f"{maximum} is not a power of ten: write its pattern by hand.")
    digits = len(str(whole)) - 1
    return rf"^([0-9]{{1,{digits}}}(\.[0-9]{{1,{places}}})?|{whole}(\.0{{1,{places}}})?)$"


#: An amount as text. The services refuse more than MAX_AMOUNT with their own message; the document
#: states the ceiling in the pattern.
MoneyText = Annotated[
    str, Field(pattern=r"^[0-9]{1,9}(\.[0-9]{1,2})?$", max_length=12, json_schema_extra={"pattern": up_to(MAX_AMOUNT)})
]
MONEY_FIELDS = {"amount", "benefit_value", "amount_offered", "default_rate", "value_owed"}


class PaymentIn(Strict):
    person_id: Id
    kind: PaymentKind
    amount: MoneyText
    paid_on: Day
    #: What it pays for: the contributions, and when it is due and the work it covers.
    contribution_ids: list[Id] = Field(default_factory=list, max_length=200)
    due_on: Day | None = None
    covers_from: Day | None = None
    covers_to: Day | None = None
    benefit_value: MoneyText | None = None
    amount_offered: MoneyText | None = None
    note: str | None = Field(default=None, max_length=1000)
    override_reason: str | None = Field(default=None, max_length=2000)
    charity_name: str | None = Field(default=None, max_length=200)
    kind_reason: str | None = Field(
        default=None,
        max_length=1000,
        description="Why the person is paid in a way they did not choose: needed when `kind` is not among "
        "their preferences (422 with `fields.kind_reason` without it); kept in the audit log",
    )


class PayIn(Strict):
    paid_on: Day
    method: str = Field(
        min_length=1,
        max_length=40,
        json_schema_extra={
            "enum": list(PAY_METHOD_CHOICES),
            "description": "How it was paid; other needs method_note. Older spellings (BACS, faster payment) "
            "are still read as bank transfer.",
        },
    )
    method_note: str | None = Field(default=None, max_length=200)
    reference: str | None = Field(default=None, max_length=100)
    override_reason: str | None = Field(default=None, max_length=2000)


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class EmptyIn(Strict):
    pass


#: Hours as text, up to tracker.vocab's MAX_HOURS a day (the contributions service refuses more): the
#: pattern in the document states that ceiling.
HOURS_PATTERN = r"^((1?[0-9]|2[0-3])(\.[0-9]{1,2})?|24(\.0{1,2})?)$"
HoursText = Annotated[
    str, Field(pattern=r"^[0-9]{1,2}(\.[0-9]{1,2})?$", max_length=5, json_schema_extra={"pattern": HOURS_PATTERN})
]
ServiceUserContext = Literal["yes", "no", "unknown"]


class ActivityIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    default_rate: MoneyText
    rate_unit: Literal["hour", "half_day", "day", "session"] = "hour"
    includes_preparation: bool = False
    service_user_context: ServiceUserContext = "unknown"
    consulting_body: str | None = Field(default=None, max_length=200)


class ContributionIn(Strict):
    person_id: Id
    worked_on: Day
    hours: HoursText
    activity_id: Id | None = None
    preparation_hours: HoursText | None = None
    role: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    value_owed: MoneyText | None = None


class _PersonAmountIn(Strict):
    """An amount of money about a person: what expenses and other income have in common."""

    person_id: Id
    amount: MoneyText


class ExpenseIn(_PersonAmountIn):
    incurred_on: Day
    paid_on: Day
    description: str = Field(min_length=1, max_length=500)
    receipt_ref: str | None = Field(default=None, max_length=100)
    service_user_context: ServiceUserContext | None = None


class OtherIncomeIn(_PersonAmountIn):
    received_on: Day
    source: str = Field(min_length=1, max_length=200)


class PartnerEarningIn(Strict):
    """An amount the person's partner earned (household benefit rules only)."""

    amount: MoneyText
    received_on: Day
    due_on: Day | None = None
    note: str | None = Field(default=None, max_length=200)


class DocumentIn(Strict):
    person_id: Id
    kind: Literal["statement", "certificate", "training_certificate"]
    start_on: Day
    end_on: Day
    cover_letter: bool = False
    signatory: str | None = Field(default=None, max_length=100)
    training: str | None = Field(default=None, max_length=200)
    fresh: bool = False
    #: "standard" or "easy_read"; without it, the person's preferred format.
    format: Literal["standard", "easy_read"] | None = None


class BatchIn(Strict):
    kind: Literal["statement", "certificate"] = "statement"
    start_on: Day
    end_on: Day


class RiskIn(Strict):
    person_id: Id
    note: str = Field(min_length=1, max_length=2000)
    rule: str | None = Field(default=None, max_length=60)


class NoteIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


class NoteTextIn(Strict):
    """A note added to a flag: required, and more than spaces (the risks service says so)."""

    note: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": r"\S"})


class ApproveManyIn(Strict):
    ids: list[Id] = Field(min_length=1, max_length=500)
