"""Wording and table rows for the payment run and bank details pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tracker.money import format_money
from tracker.payments.models import Payment
from tracker.runs.accounts import BankDetails
from tracker.runs.models import PaymentRun, PaymentRunItem
from tracker.timeutil import day_text
from tracker.vocab import PAYMENT_STATUS_LABELS

FORMAT_WORDS = {"csv": "CSV", "xlsx": "Excel (XLSX)", "bacs18": "Bacs Standard 18"}


@dataclass(frozen=True)
class ItemRow:
    payment_id: int
    payee: str
    account: str
    amount: str
    status: str
    reason: str | None = None


def masked_text(details: BankDetails | None) -> str:
    if details is None:
        return "No bank details"
    m = details.masked()
    return f"{m['account_name']}, {m['sort_code']}, {m['account_number']}"


def item_rows(items: list[PaymentRunItem], details: dict[int, BankDetails]) -> list[ItemRow]:
    return [
        ItemRow(
            payment_id=i.payment_id,
            payee=i.payment.person.name,
            account=masked_text(details.get(i.payment.person_id)),
            amount=format_money(i.amount),
            status=PAYMENT_STATUS_LABELS.get(i.payment.status, i.payment.status),
            reason=i.removed_reason,
        )
        for i in items
    ]


def candidate_label(p: Payment) -> str:
    return f"#{p.id} {p.person.name}: {format_money(p.amount)}, due {day_text(p.paid_on)}"


def run_title(run: PaymentRun) -> str:
    return f"Payment run {run.reference or run.id}"


def created(run: PaymentRun, count: int, total: Decimal) -> str:
    return f"{run_title(run)} made: {count} payment{'s' if count != 1 else ''}, {format_money(total)}."


def paid(run: PaymentRun, left: int) -> str:
    if not left:
        return f"{run_title(run)} marked paid."
    return (
        f"{run_title(run)} marked paid. {left} payment{'s' if left != 1 else ''} left the run because a "
        f"benefit rule would now block {'them' if left != 1 else 'it'}: see below."
    )


def cancelled(run: PaymentRun) -> str:
    return f"{run_title(run)} cancelled. Its payments can go in another run."


def saved_details(name: str) -> str:
    return f"Bank details saved for {name}. They are told that their details changed."
