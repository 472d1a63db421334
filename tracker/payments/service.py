"""Recording payments. Every payment is checked against the benefit rules before it is written.

Services flush; the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.orm.exc import StaleDataError

from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.contributions.models import Contribution
from tracker.engine.core import CheckResult, ProposedPayment
from tracker.errors import Conflict, Forbidden, ValidationFailed
from tracker.extensions import db, table_of
from tracker.money import decimal_field
from tracker.payments.dates import check_due_and_cover, due_after_move
from tracker.payments.models import Payment
from tracker.people.models import Person
from tracker.picks import pick
from tracker.rules import checks, ledger
from tracker.timeutil import day_text
from tracker.vocab import MAX_AMOUNT, NON_MONEY_KINDS, PAYMENT_KINDS


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
    covers_from: date | None = None
    covers_to: date | None = None
    kind_reason: str | None = None


#: The payment's text fields and the most characters each may have.
TEXT_LIMITS = {"charity_name": 200, "note": 1000, "override_reason": 2000, "kind_reason": 1000}

#: Said when an amount is above the ceiling (``vocab.MAX_AMOUNT``).
TOO_MUCH = f"That is more than £{MAX_AMOUNT:,.0f}: check the amount."


def text_field(data: dict, name: str, errors: dict, limit: int, required: bool = False) -> str | None:
    """A stripped text field (None when empty), at most ``limit`` characters."""
    value = (data.get(name) or "").strip() or None
    if required and not value:
        errors[name] = ["This is required."]
    elif value and len(value) > limit:
        errors[name] = [f"Use {limit:,} characters or fewer."]
    return value


def _money_field(data: dict, name: str, errors: dict, *, required: bool) -> Decimal | None:
    """An amount of money from 0 to the ceiling; None when it is missing or not money."""
    words = ("Enter an amount, for example 150.00.", "The amount cannot be negative.", TOO_MUCH)
    return decimal_field(data, name, errors, required=required, maximum=MAX_AMOUNT, words=words)


def _check_amounts(kind: str | None, amount: Decimal | None, benefit_value: Decimal | None, errors: dict) -> None:
    """No money for certificates and declined payments, some for the rest; a declared value for
    training only."""
    if kind in NON_MONEY_KINDS and amount is not None and amount != 0:
        errors["amount"] = [
            f"A {'certificate' if kind == 'certificate' else 'declined payment'} carries no money: "
            "the amount must be 0.00."
        ]
    if kind in PAYMENT_KINDS and kind not in NON_MONEY_KINDS and amount is not None and amount == 0:
        errors["amount"] = ["Enter an amount above 0.00, or record a certificate or a declined payment."]
    if kind != "training" and benefit_value is not None:
        errors["benefit_value"] = ["Only training has a separate declared value."]


def parse_payment(data: dict) -> PaymentInput:
    """Check a payment's fields; raises ValidationFailed with a message per field."""
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in PAYMENT_KINDS:
        errors["kind"] = ["Choose one of: " + ", ".join(PAYMENT_KINDS) + "."]
    amount = _money_field(data, "amount", errors, required=True)
    benefit_value = _money_field(data, "benefit_value", errors, required=False)
    offered = _money_field(data, "amount_offered", errors, required=False)
    _check_amounts(kind, amount, benefit_value, errors)
    paid_on = data.get("paid_on")
    if not isinstance(paid_on, date):
        errors["paid_on"] = ["Enter the date the person receives it, like 2025-04-07."]
    due_on, covers_from, covers_to = check_due_and_cover(data, paid_on, errors)
    texts = {name: text_field(data, name, errors, limit) for name, limit in TEXT_LIMITS.items()}
    if kind == "charity" and not texts["charity_name"]:
        errors["charity_name"] = ["Name the charity the person chose."]
    ids = tuple(data.get("contribution_ids") or ())
    if len(set(ids)) != len(ids):
        errors["contribution_ids"] = ["Each contribution can be listed once."]
    if errors:
        raise ValidationFailed(errors)
    assert kind is not None and amount is not None and paid_on is not None  # a missing one is an error above
    return PaymentInput(
        kind=kind,
        amount=amount,
        paid_on=paid_on,
        contribution_ids=ids,
        benefit_value=benefit_value,
        amount_offered=offered,
        due_on=due_on,
        covers_from=covers_from,
        covers_to=covers_to,
        **texts,
    )


# ---- the person's choice ----------------------------------------------------------------------


def chosen_kinds(person: Person) -> list[str]:
    """The ways the person chose to be paid, most preferred first (none when they have not said)."""
    return [pref.kind for pref in person.preferences]


def unchosen(person: Person, kind: str) -> bool:
    """A kind the person did not choose: only when they have said how they want to be paid."""
    kinds = chosen_kinds(person)
    return bool(kinds) and kind not in kinds


#: Said when a payment of a kind the person did not choose has no reason.
KIND_REASON_NEEDED = "Say why the person is paid in a way they did not choose."
#: Kinds whose note already says what the person asked for: it is the reason for the kind too.
NOTED_KINDS = frozenset({"declined", "charity"})


def choice_reason(p: PaymentInput) -> str | None:
    """Why the payment is of its kind: the reason given, or the note of a decline or a charity."""
    return p.kind_reason or (p.note if p.kind in NOTED_KINDS else None)


def check_choice(person: Person, p: PaymentInput) -> None:
    """A payment of a kind the person did not choose needs a reason (``kind_reason``)."""
    if unchosen(person, p.kind) and not choice_reason(p):
        raise ValidationFailed({"kind_reason": [KIND_REASON_NEEDED]})


def context_of(contributions) -> str:
    """Whether the work a payment covers is service-user involvement (each contribution's activity
    says): ``yes`` only when every contribution says yes, ``no`` when any says no, else ``unknown``
    (as ``rules.ledger`` reads it)."""
    answers = {c.activity.service_user_context if c.activity else "unknown" for c in contributions}
    if "no" in answers:
        return "no"
    return "yes" if answers == {"yes"} else "unknown"


def offer_of(src: PaymentInput | Payment) -> Decimal | None:
    """The amount offered as the rules read it: a reversal carries minus the offer it reverses."""
    offered = src.amount_offered
    if offered is not None and getattr(src, "reversal_of_id", None) is not None:
        return -offered
    return offered


def _proposed(
    src: PaymentInput | Payment, *, paid_on: date, worked_on: date | None, due_on: date | None, context: str = "unknown"
):
    return ProposedPayment(
        kind=src.kind,
        amount=src.amount,
        paid_on=paid_on,
        worked_on=worked_on,
        benefit_value=src.benefit_value,
        due_on=due_on,
        covers_from=src.covers_from,
        covers_to=src.covers_to,
        offered=offer_of(src),
        service_user_context=context,
    )


def proposed_from(p: PaymentInput, worked_on: date | None = None, context: str = "unknown") -> ProposedPayment:
    return _proposed(p, paid_on=p.paid_on, worked_on=worked_on, due_on=p.due_on, context=context)


def as_proposed(payment: Payment, paid_on: date | None = None) -> ProposedPayment:
    """A recorded payment as the engine checks it, received on ``paid_on`` when it moves (its due
    date moves with it when it was the receipt date: see ``due_after_move``)."""
    on = paid_on or payment.paid_on
    return _proposed(
        payment,
        paid_on=on,
        worked_on=payment.worked_on,
        due_on=due_after_move(payment.due_on, payment.paid_on, on),
        context=context_of((payment.reversal_of or payment).contributions) if payment.amount_offered else "unknown",
    )


def _contributions(person: Person, ids) -> list[Contribution]:
    if not ids:
        return []
    rows = list(db.session.scalars(sa.select(Contribution).where(Contribution.id.in_(ids))))
    found = {c.id for c in rows if c.person_id == person.id}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(
            {"contribution_ids": [f"No contribution {', '.join(map(str, missing))} for this person."]}
        )
    return rows


def lock_person_ledger(person_id: int) -> None:
    """The ledger event for a payment, raised before anything is read: serialises check-then-record
    per person.

    Its UPDATE takes the person's row lock on PostgreSQL and the write lock on SQLite, so a second
    payment for the same person waits for the first to commit and then sees it.
    """
    ledger.changed(db.session, [person_id])


def check_payment(person: Person, p: PaymentInput, *, today: date):
    """The what-if check for one proposed payment; writes nothing.

    Returns (contributions, result, JSON body)."""
    contributions = _contributions(person, p.contribution_ids)
    worked_on = max((c.worked_on for c in contributions), default=None)
    proposed = proposed_from(p, worked_on, context_of(contributions))
    result, revisions = checks.check(person.id, [proposed], today=today)
    return contributions, result, checks.check_json(result, revisions)


def record_payment(person: Person, p: PaymentInput, *, actor, today: date) -> tuple[Payment, dict]:
    """Check and record a draft payment. A ``block`` verdict needs an override reason (audited)."""
    lock_person_ledger(person.id)
    contributions, result, body = check_payment(person, p, today=today)
    worked_on = max((c.worked_on for c in contributions), default=None)
    if result.blocked and not p.override_reason:
        raise Conflict(
            "This payment would break a benefit rule. Choose a suggestion, or give a reason to override the check.",
            code="benefit_rule_block",
            extra={"check": body},
        )
    payment = Payment(
        person_id=person.id,
        **pick(p, ("kind", "amount", "benefit_value", "amount_offered", "paid_on", "due_on", "note", "charity_name")),
        covers_from=p.covers_from,
        covers_to=p.covers_to,
        worked_on=worked_on,
        override_reason=p.override_reason if result.blocked else None,
        check_snapshot={"verdicts": body["verdicts"], "rules_used": body["rules_used"], "blocked": result.blocked},
        recorded_by_id=getattr(actor, "id", None),
        status="draft",
    )
    payment.contributions = contributions
    db.session.add(payment)
    db.session.flush()
    audit.record(actor, "payment.recorded", payment, person_id=person.id, after=payment_snapshot(payment))
    if choice_reason(p) and unchosen(person, p.kind):
        audit.record(
            actor,
            "payment.unchosen_kind",
            payment,
            person_id=person.id,
            reason=choice_reason(p),
            after={"kind": p.kind, "chosen": chosen_kinds(person)},
        )
    if result.blocked:
        audit.record(
            actor,
            "payment.override",
            payment,
            person_id=person.id,
            reason=p.override_reason,
            after={"verdicts": [v for v in body["verdicts"] if v["status"] in ("over", "unknown")]},
        )
    # A payment that takes someone near or over a limit raises a flag for coordinators at once.
    from tracker.risks import service as risks

    risks.raise_from_verdicts(person.id, result.verdicts, actor=actor)
    return payment, body


def payment_snapshot(p: Payment) -> dict:
    return {
        **pick(p, ("kind", "amount", "benefit_value", "paid_on", "due_on", "status", "note", "charity_name")),
        **({"covers_from": p.covers_from, "covers_to": p.covers_to} if p.covers_from else {}),
        "contribution_ids": [c.id for c in p.contributions],
    }


# ---- the payment state machine ----------------------------------------------------------------
#
# One table of allowed moves. A paid payment is never edited: "reverse" leaves it paid and adds
# a reversal entry in draft. The entry has its own table: a second person approves it (then it is
# paid and nets the payment out) or it is cancelled.

TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "approve"): "approved",
    ("draft", "cancel"): "cancelled",
    ("approved", "pay"): "paid",
    ("approved", "cancel"): "cancelled",
    ("paid", "reverse"): "paid",
}
REVERSAL_TRANSITIONS: dict[tuple[str, str], str] = {("draft", "approve"): "paid", ("draft", "cancel"): "cancelled"}
#: An imported payment waits in draft for its whole file to be approved or rejected
#: (``tracker.imports.service``); once approved it is paid, and is reversed like any other.
IMPORTED_TRANSITIONS: dict[tuple[str, str], str] = {("paid", "reverse"): "paid"}
MOVES = ("approve", "pay", "cancel", "reverse")

RECORDER = "approver_is_recorder"
OVERRIDER = "approver_gave_override"
#: Why someone may not approve a payment: two people for every payment, override and reversal.
APPROVER_REFUSALS = {
    RECORDER: "Someone other than the person who recorded a payment must approve it.",
    OVERRIDER: "Someone other than the person who overrode the benefit check must approve it.",
}
#: Said when paying on a new date that needs an override puts the payment back to draft.
BACK_TO_DRAFT = (
    "Paid on this date, the payment would break a benefit rule. Your reason to override the check and the "
    "new date are recorded, and the payment is back in draft: someone other than you must approve it "
    "before it is paid."
)


class InvalidTransition(Conflict):
    code = "invalid_transition"


def _table(payment: Payment) -> dict[tuple[str, str], str]:
    if payment.import_batch_id is not None:
        return IMPORTED_TRANSITIONS
    return REVERSAL_TRANSITIONS if payment.reversal_of_id is not None else TRANSITIONS


def allowed_moves(payment: Payment) -> list[str]:
    moves = [m for (s, m) in _table(payment) if s == payment.status]
    if "reverse" in moves and is_reversed(payment):
        moves.remove("reverse")
    return moves


def reversal_entry(payment: Payment) -> Payment | None:
    """The reversal entry of a payment (live or cancelled), if any: there is at most one row."""
    return db.session.scalar(sa.select(Payment).where(Payment.reversal_of_id == payment.id))


def is_reversed(payment: Payment) -> bool:
    """True when the payment has a live reversal: one waiting for approval, or approved."""
    live = sa.select(sa.func.count(Payment.id)).where(
        Payment.reversal_of_id == payment.id, Payment.status != "cancelled"
    )
    return db.session.execute(live).scalar_one() > 0


def _move(payment: Payment, move: str) -> str:
    target = _table(payment).get((payment.status, move))
    if target is None and payment.import_batch_id is not None and payment.status == "draft":
        raise InvalidTransition(
            f"This payment was imported from a file: approve or reject the whole import (import "
            f"{payment.import_batch_id}) instead.",
            extra={"status": payment.status, "allowed": [], "import_batch_id": payment.import_batch_id},
        )
    if target is None:
        what = "a reversal entry" if payment.reversal_of_id is not None else "a payment"
        raise InvalidTransition(
            f"You cannot {move} {what} that is {payment.status}.",
            extra={"status": payment.status, "allowed": allowed_moves(payment)},
        )
    return target


def last_actor(payment: Payment, action: str) -> int | None:
    """Who took the payment's newest audited ``action`` (for example ``payment.override``)."""
    return db.session.scalar(
        sa.select(AuditEvent.actor_id)
        .where(AuditEvent.action == action, AuditEvent.entity_type == "payment", AuditEvent.entity_id == payment.id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def overrider_id(payment: Payment) -> int | None:
    """Who gave the payment's current override of the benefit check (the newest ``payment.override``)."""
    if not payment.override_reason or payment.id is None:
        return None
    return last_actor(payment, "payment.override")


def approver_refusal(payment: Payment, actor) -> str | None:
    """The code of the reason ``actor`` may not approve the payment (they gave its override, or
    recorded it); None when they may."""
    actor_id = getattr(actor, "id", None)
    if actor_id is None:
        return None
    if overrider_id(payment) == actor_id:
        return OVERRIDER
    if payment.recorded_by_id == actor_id:
        return RECORDER
    return None


def _flush_or_conflict() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(
            "Someone else changed this payment at the same moment. Reload it and try again.", code="payment_changed"
        ) from None


def approve(payment: Payment, *, actor, now) -> Payment:
    """Approve a draft as a second person. A reversal entry approved is paid: it counts from now."""
    target = _move(payment, "approve")
    refusal = approver_refusal(payment, actor)
    if refusal is not None:
        raise Forbidden(APPROVER_REFUSALS[refusal], code=refusal)
    ledger.changed(db.session, [payment.person_id])
    before = payment_snapshot(payment)
    payment.status, payment.approved_by_id, payment.approved_at = target, actor.id, now
    if payment.reversal_of_id is not None:
        payment.paid_by_id, payment.paid_at = actor.id, now
    _flush_or_conflict()
    action = "payment.reversal_approved" if payment.reversal_of_id is not None else "payment.approved"
    audit.record(actor, action, payment, person_id=payment.person_id, before=before, after=payment_snapshot(payment))
    return payment


def _pay_fields(method: str, reference: str | None, paid_on: date) -> tuple[str, str | None]:
    """The method and reference, stripped; raises ValidationFailed with a message per field."""
    errors = {}
    method = (method or "").strip()
    if not method:
        errors["method"] = ["Say how it was paid, for example bank transfer or cash."]
    elif len(method) > 40:
        errors["method"] = ["Use 40 characters or fewer."]
    reference = (reference or "").strip() or None
    if reference and len(reference) > 100:
        errors["reference"] = ["Use 100 characters or fewer."]
    if not isinstance(paid_on, date):
        errors["paid_on"] = ["Enter the date the person receives it, like 2025-04-07."]
    if errors:
        raise ValidationFailed(errors)
    return method, reference


def check_again(payment: Payment, *, today: date, paid_on: date | None = None) -> tuple[CheckResult, dict]:
    """The benefit check for a recorded payment against the ledger as it is today (without the
    payment itself), received on ``paid_on`` when it moves: (result, JSON body). Writes nothing."""
    proposed = as_proposed(payment, paid_on)
    result, revisions = checks.check(payment.person_id, [proposed], today=today, exclude_payment_id=payment.id)
    return result, checks.check_json(result, revisions)


def _check_new_date(payment: Payment, paid_on: date, reason: str, today: date) -> tuple[bool, dict]:
    """The benefit check for the payment on a new date: (blocked, JSON body). A block with no
    reason is refused (409 ``benefit_rule_block``)."""
    result, body = check_again(payment, today=today, paid_on=paid_on)
    if result.blocked and not reason:
        raise Conflict(
            "Paid on this date, the payment would break a benefit rule. Pick another date, or "
            "give a reason to override the check.",
            code="benefit_rule_block",
            extra={"check": body},
        )
    payment.check_snapshot = {"verdicts": body["verdicts"], "rules_used": body["rules_used"], "blocked": result.blocked}
    return result.blocked, body


def _back_to_draft(payment: Payment, *, actor, paid_on: date, reason: str, body: dict) -> Payment:
    """An override on paying: the new date and the reason are recorded and the payment goes back to
    draft, for someone other than the overrider to approve."""
    before = payment_snapshot(payment)
    payment.due_on = due_after_move(payment.due_on, payment.paid_on, paid_on)
    payment.status, payment.paid_on, payment.override_reason = "draft", paid_on, reason
    payment.approved_by_id, payment.approved_at = None, None
    _flush_or_conflict()
    audit.record(
        actor,
        "payment.override",
        payment,
        person_id=payment.person_id,
        reason=reason,
        before=before,
        after={
            **payment_snapshot(payment),
            "verdicts": [v for v in body["verdicts"] if v["status"] in ("over", "unknown")],
        },
    )
    return payment


def pay(
    payment: Payment,
    *,
    actor,
    paid_on: date,
    method: str,
    reference: str | None,
    now,
    today: date,
    override_reason: str | None = None,
) -> tuple[Payment, dict | None]:
    """Mark as paid on the date the person receives it. A new date is checked again: one that needs
    an override puts the payment back to draft (see ``BACK_TO_DRAFT``) instead of paying it."""
    _move(payment, "pay")
    method, reference = _pay_fields(method, reference, paid_on)
    body = None
    lock_person_ledger(payment.person_id)
    if paid_on != payment.paid_on:
        blocked, body = _check_new_date(payment, paid_on, (override_reason or "").strip(), today)
        if blocked:
            return _back_to_draft(
                payment, actor=actor, paid_on=paid_on, reason=(override_reason or "").strip(), body=body
            ), body
    before = payment_snapshot(payment)
    payment.due_on = due_after_move(payment.due_on, payment.paid_on, paid_on)
    payment.status, payment.paid_on, payment.method, payment.reference = "paid", paid_on, method, reference
    payment.paid_by_id, payment.paid_at = actor.id, now
    _flush_or_conflict()
    audit.record(
        actor,
        "payment.paid",
        payment,
        person_id=payment.person_id,
        before=before,
        after={**payment_snapshot(payment), "method": method, "reference": reference},
    )
    return payment, body


def _reason(reason: str | None, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": [f"Say why the payment is being {what}."]})
    if len(reason) > 2000:
        raise ValidationFailed({"reason": ["Use 2,000 characters or fewer."]})
    return reason


def cancel(payment: Payment, *, actor, reason: str, now) -> Payment:
    _move(payment, "cancel")
    reason = _reason(reason, "cancelled")
    ledger.changed(db.session, [payment.person_id])
    before = payment_snapshot(payment)
    payment.status, payment.reason, payment.cancelled_at = "cancelled", reason, now
    _flush_or_conflict()
    action = "payment.reversal_cancelled" if payment.reversal_of_id is not None else "payment.cancelled"
    audit.record(
        actor,
        action,
        payment,
        person_id=payment.person_id,
        before=before,
        after=payment_snapshot(payment),
        reason=reason,
    )
    return payment


def _reversal_row(payment: Payment) -> Payment:
    """The row a new reversal is written in: a cancelled reversal is recorded again in its row (one
    row per payment), otherwise a new row."""
    entry = reversal_entry(payment)
    if entry is not None and entry.status != "cancelled":
        raise InvalidTransition(
            "This payment has already been reversed.", extra={"status": payment.status, "allowed": []}
        )
    if entry is None:
        entry = Payment(person_id=payment.person_id, reversal_of_id=payment.id)
        db.session.add(entry)
    return entry


def reverse(payment: Payment, *, actor, reason: str, now) -> Payment:
    """Record a reversal entry, in draft, for a paid payment. It nets the payment out only once
    someone other than its recorder approves it (``approve``). The payment itself is not changed."""
    _move(payment, "reverse")
    reason = _reason(reason, "reversed")
    if is_reversed(payment):
        raise InvalidTransition(
            "This payment has already been reversed.", extra={"status": payment.status, "allowed": []}
        )
    ledger.changed(db.session, [payment.person_id])
    entry = _reversal_row(payment)
    entry.kind, entry.amount, entry.paid_on, entry.worked_on = (
        payment.kind,
        -payment.amount,
        payment.paid_on,
        payment.worked_on,
    )
    entry.benefit_value = -payment.benefit_value if payment.benefit_value is not None else None
    # the offer, kept positive: the rules read a reversal's offer as minus it (notional earnings)
    entry.amount_offered = payment.amount_offered
    # the same dates, so it nets out the payment in every period the rules count it in
    entry.due_on, entry.covers_from, entry.covers_to = payment.due_on, payment.covers_from, payment.covers_to
    entry.status, entry.method, entry.reference, entry.charity_name = (
        "draft",
        payment.method,
        payment.reference,
        payment.charity_name,
    )
    entry.reason, entry.recorded_by_id, entry.cancelled_at = reason, actor.id, None
    try:
        # The unique reversal_of_id makes a second reversal at the same moment fail here.
        db.session.flush()
    except (sa.exc.IntegrityError, StaleDataError):
        db.session.rollback()
        raise Conflict(
            "This payment was reversed by someone else at the same moment.", code="payment_changed"
        ) from None
    db.session.expire(payment)
    audit.record(
        actor,
        "payment.reversal_recorded",
        entry,
        person_id=payment.person_id,
        reason=reason,
        before=payment_snapshot(payment),
        after=payment_snapshot(entry),
    )
    return entry


# ---- paying many at once (a payment run) ------------------------------------------------------


def pay_many(
    payments: list[Payment], *, actor, paid_on: date, method: str, reference: str | None, now, today: date
) -> dict[int, str]:
    """``pay`` for many approved payments on one date, in one pass: the people's ledgers locked with
    one ledger event (``ledger.changed``), every payment re-checked for ``paid_on`` (``checks.check_moves``:
    bulk reads, one pass, each seeing the ones paid before it), then one batched UPDATE guarded by each
    payment's version, and the audit events in one INSERT. No override: a payment a ``block`` verdict
    would now stop, or one that is no longer approved, is left as it was.

    Returns {payment id: why it was not paid}."""
    method, reference = _pay_fields(method, reference, paid_on)
    refused: dict[int, str] = {}
    movable = []
    for payment in payments:
        try:
            _move(payment, "pay")
            movable.append(payment)
        except InvalidTransition as e:
            refused[payment.id] = e.message
    if not movable:
        return refused
    ledger.changed(db.session, {p.person_id for p in movable})
    proposals = [(p.id, p.person_id, as_proposed(p, paid_on)) for p in movable]
    results = checks.check_moves(proposals, paid_on, today=today)
    paying = []
    for payment in movable:
        result, revisions = results[payment.id]
        if result.blocked:
            refused[payment.id] = f"Paid on {day_text(paid_on)} it would break a benefit rule."
        else:
            paying.append((payment, checks.check_json(result, revisions)))
    _write_paid(paying, actor=actor, paid_on=paid_on, method=method, reference=reference, now=now)
    return refused


_PAYMENTS = table_of(Payment)
_PAY_MANY = sa.update(_PAYMENTS).where(
    _PAYMENTS.c.id == sa.bindparam("b_id"),
    _PAYMENTS.c.version == sa.bindparam("b_version"),
    _PAYMENTS.c.status == "approved",
)


def _write_paid(
    paying: list[tuple[Payment, dict]], *, actor, paid_on: date, method: str, reference: str | None, now
) -> None:
    """One executemany UPDATE; the loaded payments are brought up to date without another flush."""
    if not paying:
        return
    values = {
        "status": "paid",
        "paid_on": paid_on,
        "method": method,
        "reference": reference,
        "paid_by_id": actor.id,
        "paid_at": now,
    }
    befores = {p.id: payment_snapshot(p) for p, _ in paying}
    dues = {p.id: due_after_move(p.due_on, p.paid_on, paid_on) for p, _ in paying}
    rows = [
        {"b_id": p.id, "b_version": p.version, "check_snapshot": _snapshot(body), "due_on": dues[p.id]}
        for p, body in paying
    ]
    db.session.execute(_PAY_MANY.values(version=_PAYMENTS.c.version + 1, **values), rows)
    ids = [p.id for p, _ in paying]
    done = db.session.scalar(
        sa.select(sa.func.count(Payment.id)).where(
            Payment.id.in_(ids), Payment.status == "paid", Payment.paid_at == now
        )
    )
    if done != len(ids):
        db.session.rollback()
        raise Conflict(
            "Someone else changed one of these payments at the same moment. Reload and try again.",
            code="payment_changed",
        )
    for payment, body in paying:
        row = {**values, "check_snapshot": _snapshot(body), "version": payment.version + 1, "due_on": dues[payment.id]}
        for name, value in row.items():
            so.attributes.set_committed_value(payment, name, value)
    audit.record_many(
        actor,
        "payment.paid",
        "payment",
        [
            {
                "entity_id": p.id,
                "person_id": p.person_id,
                "before": befores[p.id],
                "after": {**payment_snapshot(p), "method": method, "reference": reference},
            }
            for p, _ in paying
        ],
    )


def _snapshot(body: dict) -> dict:
    return {"verdicts": body["verdicts"], "rules_used": body["rules_used"], "blocked": body["blocked"]}
