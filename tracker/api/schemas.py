"""Strict request bodies for the API. Types only: the services hold the domain rules."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PaymentKind = Literal["cash", "bank_transfer", "voucher", "training", "certificate", "declined", "charity"]


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
    given_on: date
    notice_version: str = Field(min_length=1, max_length=40)


class ClaimIn(Strict):
    benefit: str = Field(min_length=1, max_length=10)
    start_on: date
    end_on: date | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


MoneyText = Annotated[str, Field(pattern=r"^\d{1,9}(\.\d{1,2})?$", max_length=12)]
MONEY_FIELDS = {"amount", "benefit_value", "amount_offered"}


class PaymentIn(Strict):
    person_id: int
    kind: PaymentKind
    amount: MoneyText
    paid_on: date
    due_on: date | None = None
    contribution_ids: list[int] = Field(default_factory=list, max_length=200)
    note: str | None = Field(default=None, max_length=1000)
    override_reason: str | None = Field(default=None, max_length=2000)
    benefit_value: MoneyText | None = None
    amount_offered: MoneyText | None = None
    charity_name: str | None = Field(default=None, max_length=200)


class PayIn(Strict):
    paid_on: date
    method: str = Field(min_length=1, max_length=40)
    reference: str | None = Field(default=None, max_length=100)
    override_reason: str | None = Field(default=None, max_length=2000)


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class EmptyIn(Strict):
    pass
