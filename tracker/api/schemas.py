"""Strict request bodies for the API. Types only: the services hold the domain rules."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracker.timeutil import EARLIEST_DAY, LATEST_DAY

# The codes are spelled out so that a type checker can read them; tests/test_api_vocab.py holds them to
# tracker.vocab (PAYMENT_KINDS, SERVICE_USER_CONTEXTS).
PaymentKind = Literal["cash", "bank_transfer", "voucher", "training", "certificate", "declined", "charity"]


#: Every date in a request body lies from 2000 to 2100 (tracker.vocab's FIRST_YEAR and LAST_YEAR).
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PreferenceIn(Strict):
    kind: PaymentKind
    note: str | None = Field(default=None, max_length=500)


class PersonIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    preferences: list[PreferenceIn] = Field(default_factory=list, max_length=7)


class ConsentIn(Strict):
    given_on: Day
    notice_version: str = Field(min_length=1, max_length=40)


class ClaimIn(Strict):
    benefit: str = Field(min_length=1, max_length=10)
    start_on: Day
    end_on: Day | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


MoneyText = Annotated[str, Field(pattern=r"^\d{1,9}(\.\d{1,2})?$", max_length=12)]
MONEY_FIELDS = {"amount", "benefit_value", "amount_offered", "default_rate", "value_owed"}


class PaymentIn(Strict):
    person_id: int
    kind: PaymentKind
    amount: MoneyText
    paid_on: Day
    due_on: Day | None = None
    contribution_ids: list[int] = Field(default_factory=list, max_length=200)
    note: str | None = Field(default=None, max_length=1000)
    override_reason: str | None = Field(default=None, max_length=2000)
    benefit_value: MoneyText | None = None
    amount_offered: MoneyText | None = None
    charity_name: str | None = Field(default=None, max_length=200)


class PayIn(Strict):
    paid_on: Day
    method: str = Field(min_length=1, max_length=40)
    method_note: str | None = Field(default=None, max_length=200)
    reference: str | None = Field(default=None, max_length=100)
    override_reason: str | None = Field(default=None, max_length=2000)


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class EmptyIn(Strict):
    pass


HoursText = Annotated[str, Field(pattern=r"^\d{1,2}(\.\d{1,2})?$", max_length=5)]
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
    person_id: int
    worked_on: Day
    hours: HoursText
    activity_id: int | None = None
    preparation_hours: HoursText | None = None
    role: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    value_owed: MoneyText | None = None


class _PersonAmountIn(Strict):
    """An amount of money about a person: what expenses and other income have in common."""

    person_id: int
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


class DocumentIn(Strict):
    person_id: int
    kind: Literal["statement", "certificate", "training_certificate"]
    start_on: Day
    end_on: Day
    cover_letter: bool = False
    signatory: str | None = Field(default=None, max_length=100)
    training: str | None = Field(default=None, max_length=200)
    fresh: bool = False


class BatchIn(Strict):
    kind: Literal["statement", "certificate"] = "statement"
    start_on: Day
    end_on: Day


class RiskIn(Strict):
    person_id: int
    note: str = Field(min_length=1, max_length=2000)
    rule: str | None = Field(default=None, max_length=60)


class NoteIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


PaymentIdIn = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ApproveManyIn(Strict):
    ids: list[PaymentIdIn] = Field(min_length=1, max_length=500)
