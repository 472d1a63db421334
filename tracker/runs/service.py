"""Payment runs: create from approved bank transfers, mark paid (each payment through the payments
service's pay path, re-checked), cancel, and the rows of the bank file.

Services flush, never commit; they take the actor and today and never read ``current_user``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.audit import service as audit
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.payments import service as payments
from tracker.payments.models import Payment
from tracker.runs import accounts
from tracker.runs.models import BankAccount, PaymentRun, PaymentRunItem

MAX_RUN = 5000
METHOD = "bank transfer"


@dataclass(frozen=True)
class Problem:
    payment_id: int
    code: str
    message: str


@dataclass(frozen=True)
class FileRow:
    payment_id: int
    payee: str
    details: accounts.BankDetails
    amount: Decimal
    reference: str


def _distinct_ids(payment_ids: Sequence[int]) -> list[int]:
    if not payment_ids:
        raise ValidationFailed({"payment_ids": ["Choose at least one approved bank transfer."]})
    if len(payment_ids) > MAX_RUN:
        raise ValidationFailed({"payment_ids": [f"A run holds at most {MAX_RUN:,} payments."]})
    twice = sorted(i for i, n in Counter(payment_ids).items() if n > 1)
    if twice:
        raise ValidationFailed({"payment_ids": [f"Payment {i} is listed more than once." for i in twice]})
    return list(payment_ids)


def _problem(payment: Payment | None, pid: int, banked: set[int], in_run: dict[int, int]) -> Problem | None:
    if payment is None:
        return Problem(pid, "unknown", f"There is no payment {pid}.")
    if payment.kind != "bank_transfer":
        return Problem(pid, "not_bank_transfer", f"Payment {pid} is not a bank transfer.")
    if payment.status != "approved":
        return Problem(pid, "not_approved", f"Payment {pid} is {payment.status}, not approved.")
    if pid in in_run:
        return Problem(pid, "in_run", f"Payment {pid} is already in payment run {in_run[pid]}.")
    if payment.person_id not in banked:
        return Problem(pid, "no_bank_details", f"Payment {pid}: the person has no bank details.")
    return None


def _problems(ids: list[int]) -> tuple[dict[int, Payment], list[Problem]]:
    found = {p.id: p for p in db.session.scalars(sa.select(Payment).where(Payment.id.in_(ids)))}
    people = {p.person_id for p in found.values()}
    banked = set(db.session.scalars(sa.select(BankAccount.person_id).where(BankAccount.person_id.in_(people))))
    rows = db.session.execute(
        sa.select(PaymentRunItem.open_payment_id, PaymentRunItem.run_id).where(PaymentRunItem.open_payment_id.in_(ids))
    )
    in_run: dict[int, int] = {pid: run_id for pid, run_id in rows if pid is not None}
    problems = [p for pid in ids if (p := _problem(found.get(pid), pid, banked, in_run)) is not None]
    return found, problems


# Problems a state change could cure (409); the rest are wrong input (422).
STATE_PROBLEMS = ("not_approved", "in_run")


def refuse(problems: list[Problem]) -> None:
    """One answer naming every offending payment: 409 when all are states, 422 otherwise."""
    fields = {"payment_ids": [p.message for p in problems]}
    extra = {"payments": [{"id": p.payment_id, "problem": p.code, "message": p.message} for p in problems]}
    message = f"{len(problems)} of the payments cannot go in a run; nothing was saved."
    if all(p.code in STATE_PROBLEMS for p in problems):
        raise Conflict(message, code="payments_not_ready", fields=fields, extra=extra)
    error = ValidationFailed(fields, message)
    error.extra = extra
    raise error


def create_run(payment_ids: Sequence[int], pay_on: date, *, actor, today: date) -> PaymentRun:
    ids = _distinct_ids(payment_ids)
    if not isinstance(pay_on, date) or pay_on < today:
        raise ValidationFailed({"pay_on": ["Choose today or a later date for the payments to arrive."]})
    found, problems = _problems(ids)
    if problems:
        refuse(problems)
    run = PaymentRun(pay_on=pay_on, status="open", created_by_id=getattr(actor, "id", None))
    db.session.add(run)
    db.session.flush()
    run.reference = f"RUN-{run.id:06d}"
    rows = [
        {"run_id": run.id, "payment_id": pid, "open_payment_id": pid, "amount": found[pid].amount, "status": "in"}
        for pid in ids
    ]
    try:
        db.session.flush()
        db.session.execute(sa.insert(PaymentRunItem), rows)  # one batched INSERT, no objects to track
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise Conflict(
            "Some of these payments were put in another run at the same moment. Reload and try again.",
            code="payments_not_ready",
        ) from None
    audit.record(
        actor,
        "payment_run.created",
        run,
        after={"pay_on": pay_on, "payment_ids": ids, "total": sum((found[pid].amount for pid in ids), Decimal("0.00"))},
    )
    return run


def items_in(run: PaymentRun) -> list[PaymentRunItem]:
    """The run's payments still in it, with each payment loaded (one query)."""
    return list(
        db.session.scalars(
            sa.select(PaymentRunItem)
            .where(PaymentRunItem.run_id == run.id, PaymentRunItem.status == "in")
            .options(
                so.joinedload(PaymentRunItem.payment).options(
                    so.selectinload(Payment.contributions), so.joinedload(Payment.person)
                )
            )
            .order_by(PaymentRunItem.id)
        )
    )


def removed_items(run: PaymentRun) -> list[PaymentRunItem]:
    return [i for i in run.items if i.status == "removed"]


def total_of(run: PaymentRun) -> Decimal:
    return sum((i.amount for i in run.items if i.status == "in"), Decimal("0.00"))


def count_of(run: PaymentRun) -> int:
    return sum(1 for i in run.items if i.status == "in")


def _require_open(run: PaymentRun, what: str) -> None:
    if run.status != "open":
        raise Conflict(
            f"You cannot {what} a {run.status} payment run.", code="run_not_open", extra={"status": run.status}
        )


def _remove(item: PaymentRunItem, reason: str) -> None:
    item.status, item.open_payment_id, item.removed_reason = "removed", None, reason[:2000]


def _left_because(reason: str) -> str:
    if "benefit rule" in reason:
        return f"{reason} It stays approved: check it on its own page."
    return f"It is no longer approved: {reason}"


def mark_paid(run: PaymentRun, *, actor, paid_on: date, now: datetime, today: date) -> list[PaymentRunItem]:
    """Every payment in the run to paid, with the run's reference, in the caller's one transaction.

    Each is re-checked for ``paid_on``; one that a benefit rule would now block leaves the run (the
    reason is kept on its item) and stays approved. Returns the items that left."""
    _require_open(run, "mark paid")
    if not isinstance(paid_on, date):
        raise ValidationFailed({"paid_on": ["Enter the date the payments arrive, like 2025-04-07."]})
    items = items_in(run)
    refused = payments.pay_many(
        [i.payment for i in items],
        actor=actor,
        paid_on=paid_on,
        method=METHOD,
        reference=run.reference,
        now=now,
        today=today,
    )
    for item in items:
        if item.payment_id in refused:
            _remove(item, _left_because(refused[item.payment_id]))
    left = [i for i in items if i.status == "removed"]
    run.status, run.paid_on, run.paid_by_id, run.paid_at = "paid", paid_on, actor.id, now
    db.session.flush()
    audit.record(
        actor,
        "payment_run.paid",
        run,
        after={
            "paid_on": paid_on,
            "reference": run.reference,
            "paid": [i.payment_id for i in items if i.status == "in"],
            "left": {str(i.payment_id): i.removed_reason for i in left},
        },
    )
    return left


def cancel_run(run: PaymentRun, *, actor, now: datetime) -> PaymentRun:
    """Cancel before it is paid: its payments are free for another run."""
    _require_open(run, "cancel")
    db.session.execute(
        sa.update(PaymentRunItem)
        .where(PaymentRunItem.run_id == run.id)
        .values(open_payment_id=None)
        .execution_options(synchronize_session=False)
    )
    run.status, run.cancelled_by_id, run.cancelled_at = "cancelled", getattr(actor, "id", None), now
    db.session.flush()
    db.session.expire(run, ["items"])
    audit.record(actor, "payment_run.cancelled", run, before={"status": "open"}, after={"status": "cancelled"})
    return run


def file_rows(run: PaymentRun, *, actor, file_format: str) -> list[FileRow]:
    """The rows of the bank file, with bank details in full; the download is audited."""
    if run.status == "cancelled":
        raise Conflict("A cancelled payment run has no bank file.", code="run_not_open", extra={"status": run.status})
    items = items_in(run)
    details = accounts.details_for(i.payment.person_id for i in items)
    missing = [i.payment_id for i in items if i.payment.person_id not in details]
    if missing:
        refuse([Problem(pid, "no_bank_details", f"Payment {pid}: the person has no bank details.") for pid in missing])
    audit.record(actor, "payment_run.file", run, after={"format": file_format, "person_ids": sorted(details)})
    return [
        FileRow(
            payment_id=i.payment_id,
            payee=i.payment.person.name,
            details=details[i.payment.person_id],
            amount=i.amount,
            reference=run.reference or "",
        )
        for i in items
    ]
