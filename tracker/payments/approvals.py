"""Bulk approval by a second person: approve many drafts at once, each on its own.

Each payment is approved, or refused with a code and a reason, independently: a refused one is left
exactly as it was. Before approving, the benefit check is run again for the payment's date (the
ledger may have changed since it was recorded): a block that nobody overrode stops it. Neither the
recorder nor the person who gave a payment's override may approve it.

Services flush; the caller commits once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.payments import service
from tracker.payments.models import Payment
from tracker.rules import checks

NOT_FOUND = "not_found"
NOT_DRAFT = "not_draft"
RECORDER = service.RECORDER
OVERRIDER = service.OVERRIDER
BLOCKED = "benefit_rule_block"
MESSAGES = {
    NOT_FOUND: "There is no such payment.",
    NOT_DRAFT: "Only a draft can be approved.",
    **service.APPROVER_REFUSALS,
    BLOCKED: "Paid on its date, this payment would now break a benefit rule, so it stays a draft. "
    "Open it to see the check: cancel it, or record it again with a new date or a reason.",
}


@dataclass(frozen=True)
class Outcome:
    """What happened to one payment: ``approved``, or ``refused`` with a code and a message."""

    id: int
    status: str
    code: str | None = None
    message: str | None = None

    def as_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _refused(payment_id: int, code: str, message: str | None = None) -> Outcome:
    return Outcome(payment_id, "refused", code, message or MESSAGES[code])


def _newly_blocked(payment: Payment, today: date) -> bool:
    """The benefit check again, for the payment as it stands; True at a block with no override."""
    proposed = service.as_proposed(payment)
    result, _ = checks.check(payment.person_id, [proposed], today=today, exclude_payment_id=payment.id)
    return result.blocked and not payment.override_reason


def _why_not(payment: Payment, actor, today: date) -> str | None:
    """The code of the reason a payment cannot be approved by ``actor`` now; None when it can."""
    if payment.status != "draft":
        return NOT_DRAFT
    refusal = service.approver_refusal(payment, actor)
    if refusal is not None:
        return refusal
    # A reversal entry only takes money off: it cannot newly break a rule.
    if payment.reversal_of_id is None and _newly_blocked(payment, today):
        return BLOCKED
    return None


def approve_one(payment: Payment, *, actor, now: datetime, today: date) -> Outcome:
    code = _why_not(payment, actor, today)
    if code is not None:
        return _refused(payment.id, code)
    try:
        service.approve(payment, actor=actor, now=now)
    except DomainError as e:
        return _refused(payment.id, e.code, e.message)
    return Outcome(payment.id, "approved")


def unique(ids) -> list[int]:
    """The ids in the order given, each once."""
    return list(dict.fromkeys(ids))


def approve_many(ids, *, actor, now: datetime, today: date) -> list[Outcome]:
    """Approve each payment named, in the order given; one outcome per distinct id."""
    wanted = unique(ids)
    found = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Payment).options(so.joinedload(Payment.person)).where(Payment.id.in_(wanted))
        )
    }
    return [
        approve_one(found[i], actor=actor, now=now, today=today) if i in found else _refused(i, NOT_FOUND)
        for i in wanted
    ]
