"""Recording payments. Every payment is checked against the benefit rules before it is written.

Services flush; the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.contributions.models import Contribution
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.money import MoneyError, to_decimal
from tracker.payments.models import MONEY_KINDS, NO_MONEY_KINDS, PAYMENT_KINDS, Payment
from tracker.people.models import Person
from tracker.rules import checks
from tracker.rules.engine import ProposedPayment


@dataclass(frozen=True)
class PaymentInput:
    kind: str
    amount: Decimal
    paid_on: date
    contribution_ids: tuple[int, ...] = ()
    note: str | None = None
    override_reason: str | None = None
    benefit_value: Decimal | None = None
    charity_name: str | None = None
    amount_offered: Decimal | None = None
    due_on: date | None = None


def parse_payment(data: dict) -> PaymentInput:
    """Check a payment's fields; raises ValidationFailed with a message per field."""
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in PAYMENT_KINDS:
        errors["kind"] = ["Choose one of: " + ", ".join(PAYMENT_KINDS) + "."]

    def money(name, required):
        raw = data.get(name)
        if raw is None or raw == "":
            if required:
                errors[name] = ["Enter an amount, for example 150.00."]
            return None
        try:
            value = to_decimal(raw)
        except MoneyError as e:
            errors[name] = [str(e)]
            return None
        if value < 0:
            errors[name] = ["The amount cannot be negative."]
        elif value > Decimal("100000.00"):
            errors[name] = ["That is more than £100,000: check the amount."]
        return value

    amount = money("amount", required=True)
    benefit_value = money("benefit_value", required=False)
    offered = money("amount_offered", required=False)
    if kind in NO_MONEY_KINDS and amount is not None and amount != 0:
        errors["amount"] = [f"A {'certificate' if kind == 'certificate' else 'declined payment'} carries no money: "
                            "the amount must be 0.00."]
    if kind in MONEY_KINDS and amount is not None and amount == 0:
        errors["amount"] = ["Enter an amount above 0.00, or record a certificate or a declined payment."]
    if kind != "training" and benefit_value is not None:
        errors["benefit_value"] = ["Only training has a separate declared value."]
    paid_on = data.get("paid_on")
    if not isinstance(paid_on, date):
        errors["paid_on"] = ["Enter the date the person receives it, like 2025-04-07."]
    charity = (data.get("charity_name") or "").strip() or None
    if kind == "charity" and not charity:
        errors["charity_name"] = ["Name the charity the person chose."]
    if charity and len(charity) > 200:
        errors["charity_name"] = ["Use 200 characters or fewer."]
    note = (data.get("note") or "").strip() or None
    if note and len(note) > 1000:
        errors["note"] = ["Use 1,000 characters or fewer."]
    reason = (data.get("override_reason") or "").strip() or None
    if reason and len(reason) > 2000:
        errors["override_reason"] = ["Use 2,000 characters or fewer."]
    ids = tuple(data.get("contribution_ids") or ())
    if len(set(ids)) != len(ids):
        errors["contribution_ids"] = ["Each contribution can be listed once."]
    if errors:
        raise ValidationFailed(errors)
    return PaymentInput(kind=kind, amount=amount, paid_on=paid_on, contribution_ids=ids, note=note,
                        override_reason=reason, benefit_value=benefit_value, charity_name=charity,
                        amount_offered=offered, due_on=data.get("due_on"))


def proposed_from(p: PaymentInput, worked_on: date | None = None) -> ProposedPayment:
    return ProposedPayment(kind=p.kind, amount=p.amount, paid_on=p.paid_on, worked_on=worked_on,
                           benefit_value=p.benefit_value)


def _contributions(person: Person, ids) -> list[Contribution]:
    if not ids:
        return []
    rows = list(db.session.scalars(sa.select(Contribution).where(Contribution.id.in_(ids))))
    found = {c.id for c in rows if c.person_id == person.id}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed({"contribution_ids": [
            f"No contribution {', '.join(map(str, missing))} for this person."]})
    return rows


def lock_person_ledger(person_id: int) -> None:
    """Serialise check-then-record per person.

    The UPDATE takes the person's row lock on PostgreSQL and the write lock on SQLite, before
    anything is read, so a second payment for the same person waits for the first to commit
    and then sees it.
    """
    db.session.execute(sa.update(Person).where(Person.id == person_id)
                       .values(ledger_version=Person.ledger_version + 1)
                       .execution_options(synchronize_session=False))


def check_payment(person: Person, p: PaymentInput, *, today: date):
    """The what-if check for one proposed payment; writes nothing.

    Returns (contributions, result, JSON body)."""
    contributions = _contributions(person, p.contribution_ids)
    worked_on = max((c.worked_on for c in contributions), default=None)
    result, revisions = checks.check(person.id, [proposed_from(p, worked_on)], today=today)
    return contributions, result, checks.check_json(result, revisions)


def record_payment(person: Person, p: PaymentInput, *, actor, today: date) -> tuple[Payment, dict]:
    """Check and record a draft payment. A ``block`` verdict needs an override reason (audited)."""
    lock_person_ledger(person.id)
    contributions, result, body = check_payment(person, p, today=today)
    worked_on = max((c.worked_on for c in contributions), default=None)
    if result.blocked and not p.override_reason:
        raise Conflict("This payment would break a benefit rule. Choose a suggestion, or give a reason to "
                       "override the check.", code="benefit_rule_block", extra={"check": body})
    payment = Payment(person_id=person.id, kind=p.kind, amount=p.amount, benefit_value=p.benefit_value,
                      amount_offered=p.amount_offered, paid_on=p.paid_on, due_on=p.due_on, worked_on=worked_on,
                      note=p.note, charity_name=p.charity_name,
                      override_reason=p.override_reason if result.blocked else None,
                      check_snapshot={"verdicts": body["verdicts"], "rules_used": body["rules_used"],
                                      "blocked": result.blocked},
                      recorded_by_id=getattr(actor, "id", None), status="draft")
    payment.contributions = contributions
    db.session.add(payment)
    db.session.flush()
    audit.record(actor, "payment.recorded", payment, person_id=person.id, after=payment_snapshot(payment))
    if result.blocked:
        audit.record(actor, "payment.override", payment, person_id=person.id, reason=p.override_reason,
                     after={"verdicts": [v for v in body["verdicts"] if v["status"] == "over"]})
    return payment, body


def payment_snapshot(p: Payment) -> dict:
    return {"kind": p.kind, "amount": p.amount, "benefit_value": p.benefit_value, "paid_on": p.paid_on,
            "status": p.status, "note": p.note, "charity_name": p.charity_name,
            "contribution_ids": [c.id for c in p.contributions]}
