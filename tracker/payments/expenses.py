"""Expenses (reimbursed costs, kept apart from payments) and income declared from elsewhere."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TypeVar

from tracker.audit import service as audit
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import MoneyError, to_decimal
from tracker.payments.models import Expense, OtherIncome
from tracker.payments.service import TOO_MUCH, text_field
from tracker.people.models import Person
from tracker.rules import ledger
from tracker.vocab import MAX_AMOUNT, SERVICE_USER_CONTEXTS

R = TypeVar("R", Expense, OtherIncome)


def positive_amount(data: dict, errors: dict, name: str = "amount") -> Decimal | None:
    """An amount above 0.00 and at most the ceiling (``vocab.MAX_AMOUNT``)."""
    try:
        value = to_decimal(data.get(name))
    except MoneyError as e:
        errors[name] = [str(e)]
        return None
    if value <= 0:
        errors[name] = ["Enter an amount above 0.00."]
    elif value > MAX_AMOUNT:
        errors[name] = [TOO_MUCH]
    return value


def _record(model: type[R], person: Person, values: dict, *, actor, action: str) -> R:
    """Add a checked row for the person, mark their ledger changed and audit the values recorded."""
    row = model(person_id=person.id, **values, recorded_by_id=getattr(actor, "id", None))
    db.session.add(row)
    ledger.changed(db.session, [person.id])
    db.session.flush()
    audit.record(actor, action, row, person_id=person.id, after=values)
    return row


def record_expense(person: Person, data: dict, *, actor) -> Expense:
    errors: dict[str, list[str]] = {}
    amount = positive_amount(data, errors)
    incurred, paid = data.get("incurred_on"), data.get("paid_on")
    if not isinstance(incurred, date):
        errors["incurred_on"] = ["Enter the date of the cost, like 2025-04-07."]
    if not isinstance(paid, date):
        errors["paid_on"] = ["Enter the date the person is paid back, like 2025-04-07."]
    elif isinstance(incurred, date) and paid < incurred:
        errors["paid_on"] = ["The repayment cannot be before the cost."]
    description = text_field(data, "description", errors, 500, required=True)
    receipt = text_field(data, "receipt_ref", errors, 100)
    context = data.get("service_user_context") or "unknown"
    if context not in SERVICE_USER_CONTEXTS:
        errors["service_user_context"] = ["Choose yes, no or unknown."]
    if errors:
        raise ValidationFailed(errors)
    values = {
        "amount": amount,
        "incurred_on": incurred,
        "paid_on": paid,
        "description": description,
        "receipt_ref": receipt,
        "service_user_context": context,
    }
    return _record(Expense, person, values, actor=actor, action="expense.recorded")


def record_other_income(person: Person, data: dict, *, actor) -> OtherIncome:
    errors: dict[str, list[str]] = {}
    amount = positive_amount(data, errors)
    received = data.get("received_on")
    if not isinstance(received, date):
        errors["received_on"] = ["Enter the date it was received, like 2025-04-07."]
    source = text_field(data, "source", errors, 200, required=True)
    if errors:
        raise ValidationFailed(errors)
    values = {"amount": amount, "received_on": received, "source": source}
    return _record(OtherIncome, person, values, actor=actor, action="other_income.recorded")
