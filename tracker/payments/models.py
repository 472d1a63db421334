"""Payments (the ledger), expenses and other income.

The ledger never loses history: a paid payment is never edited or deleted. A reversal is a new
row with ``reversal_of_id`` set and the opposite amount, so a plain SUM nets it out.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model, db, one_of
from tracker.money import Money
from tracker.timeutil import utcnow
from tracker.vocab import PAYMENT_STATUSES, SERVICE_USER_CONTEXTS

payment_contribution = sa.Table(
    "payment_contribution",
    db.metadata,
    sa.Column("payment_id", sa.ForeignKey("payment.id"), primary_key=True),
    sa.Column("contribution_id", sa.ForeignKey("contribution.id"), primary_key=True),
)


class Payment(Model):
    __tablename__ = "payment"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    # What the payment is worth for the rules (training's declared value); None means `amount`.
    benefit_value: so.Mapped[Decimal | None] = so.mapped_column(Money())
    # For declined, reduced and charity choices: what was offered.
    amount_offered: so.Mapped[Decimal | None] = so.mapped_column(Money())
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="GBP")
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="draft")
    # When it is due: CA, CSP, ESA and JSA count earnings from this date (recorded as the receipt
    # date unless told otherwise; older rows may hold none, which the rules read as ``paid_on``).
    due_on: so.Mapped[date | None]
    # The date the person receives it: Universal Credit counts receipt.
    paid_on: so.Mapped[date]
    worked_on: so.Mapped[date | None]
    # The period of work it pays for, if any: rules that spread a payment count it evenly across it.
    covers_from: so.Mapped[date | None]
    covers_to: so.Mapped[date | None]
    method: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    reference: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    # What "other" means, or the free text an older method was mapped from.
    method_note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    note: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    charity_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    override_reason: so.Mapped[str | None] = so.mapped_column(sa.String(2000))
    # The verdicts shown when it was recorded, and the rule versions behind them.
    check_snapshot: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    reversal_of_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("payment.id"), unique=True)
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(2000))
    # The import (tracker.imports) the payment came from: it counts once that import is approved.
    import_batch_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("import_batch.id"), index=True)
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    approved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    paid_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    approved_at: so.Mapped[datetime | None]
    paid_at: so.Mapped[datetime | None]
    cancelled_at: so.Mapped[datetime | None]
    # Optimistic lock: two staff acting on the same payment at once cannot both win.
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")

    person = so.relationship("Person")
    contributions = so.relationship("Contribution", secondary=payment_contribution)
    reversal_of: so.Mapped[Payment | None] = so.relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('cash', 'bank_transfer', 'voucher', 'training', 'certificate', 'declined', 'charity')",
            name="kind_known",
        ),
        one_of("status", PAYMENT_STATUSES),
        # Ordinary entries are positive; a reversal entry is the negative of what it reverses.
        sa.CheckConstraint(
            "(reversal_of_id IS NULL AND amount >= 0) OR (reversal_of_id IS NOT NULL AND amount <= 0)",
            name="amount_sign",
        ),
        sa.CheckConstraint("kind NOT IN ('certificate', 'declined') OR amount = 0", name="no_money_kinds"),
        sa.CheckConstraint(
            "benefit_value IS NULL OR benefit_value >= 0 OR reversal_of_id IS NOT NULL", name="benefit_value_sign"
        ),
        sa.CheckConstraint("amount_offered IS NULL OR amount_offered >= 0", name="offered_not_negative"),
        sa.CheckConstraint("currency = 'GBP'", name="currency_gbp"),
        sa.CheckConstraint(
            "(covers_from IS NULL AND covers_to IS NULL) OR "
            "(covers_from IS NOT NULL AND covers_to IS NOT NULL AND covers_from <= covers_to)",
            name="covers_in_order",
        ),
        sa.Index("ix_payment_person_paid_on", "person_id", "paid_on"),
        # Rules that count the due date read a person's payments by it as well.
        sa.Index("ix_payment_person_due_on", "person_id", "due_on"),
        sa.Index("ix_payment_status_paid_on", "status", "paid_on"),
        # The lists' order (newest first): a page is read from the index, not sorted from the table.
        sa.Index("ix_payment_paid_on_id", "paid_on", "id"),
        # The other orders a list may ask for (sort=amount, sort=status), a page at a time too.
        sa.Index("ix_payment_amount_id", "amount", "id"),
        sa.Index("ix_payment_status_id", "status", "id"),
    )


def counts(c=Payment.__table__.c) -> sa.ColumnElement[bool]:
    """The payments that count in totals and benefit checks: every payment that is not cancelled,
    and a reversal entry or an imported payment only once a second person has approved it (then
    it is paid)."""
    return sa.and_(
        c.status != "cancelled",
        sa.or_(sa.and_(c.reversal_of_id.is_(None), c.import_batch_id.is_(None)), c.status == "paid"),
    )


class Expense(Model):
    """Reimbursement of actual costs; kept apart from payments because rules treat it differently."""

    __tablename__ = "expense"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="GBP")
    incurred_on: so.Mapped[date]
    paid_on: so.Mapped[date]
    description: so.Mapped[str] = so.mapped_column(sa.String(500))
    receipt_ref: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    service_user_context: so.Mapped[str] = so.mapped_column(sa.String(10), default="unknown")
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    person = so.relationship("Person")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        one_of("service_user_context", SERVICE_USER_CONTEXTS, "context_known"),
        sa.CheckConstraint("paid_on >= incurred_on", name="paid_after_incurred"),
        sa.Index("ix_expense_person_paid_on", "person_id", "paid_on"),
        # The expenses list's order (newest first), read a page at a time.
        sa.Index("ix_expense_paid_on_id", "paid_on", "id"),
    )


class OtherIncome(Model):
    """Earnings the person declared from elsewhere, so headroom is honest."""

    __tablename__ = "other_income"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    received_on: so.Mapped[date]
    source: so.Mapped[str] = so.mapped_column(sa.String(200))
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # From a signed earnings record (tracker.earnings): the import and its entry; the other dates
    # the issuing organisation gave (received_on is what the rules count).
    earnings_import_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("earnings_import.id"))
    entry_ref: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    due_on: so.Mapped[date | None]
    worked_on: so.Mapped[date | None]

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_other_income_person_received", "person_id", "received_on"),
        sa.Index("ix_other_income_earnings_import", "earnings_import_id"),
    )
