"""Payment runs and bank details.

A run's payments are listed in ``payment_run_item`` so the payment table is untouched. While its run
is open or paid, an item holds the payment's id in ``open_payment_id`` too: that column is unique, so
a payment is in at most one run that is not cancelled, even when two runs are made at the same moment.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model, one_of
from tracker.money import Money
from tracker.timeutil import utcnow
from tracker.vocab import RUN_STATUSES

ITEM_STATUSES = ("in", "removed")


class BankAccount(Model):
    """A person's bank details, encrypted as one token (tracker/runs/crypto.py)."""

    __tablename__ = "bank_account"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"), unique=True)
    # JSON {"account_name", "sort_code", "account_number"}, Fernet-encrypted.
    secret: so.Mapped[str] = so.mapped_column(sa.Text)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class PaymentRun(Model):
    __tablename__ = "payment_run"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pay_on: so.Mapped[date]
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="open")
    # Shown on the payee's statement and kept as each payment's reference (at most 18 for Bacs).
    reference: so.Mapped[str | None] = so.mapped_column(sa.String(18), unique=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    paid_on: so.Mapped[date | None]
    paid_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    paid_at: so.Mapped[datetime | None]
    cancelled_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    cancelled_at: so.Mapped[datetime | None]

    items: so.Mapped[list[PaymentRunItem]] = so.relationship(back_populates="run", order_by="PaymentRunItem.id")

    __table_args__ = (one_of("status", RUN_STATUSES),)


class PaymentRunItem(Model):
    __tablename__ = "payment_run_item"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("payment_run.id"), index=True)
    payment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("payment.id"), index=True)
    # The payment's id while this run is open or paid and the payment is in it; else NULL.
    open_payment_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("payment.id"), unique=True)
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="in")
    # Why a payment left the run when it was marked paid (a benefit rule would now block it).
    removed_reason: so.Mapped[str | None] = so.mapped_column(sa.String(2000))

    run: so.Mapped[PaymentRun] = so.relationship(back_populates="items")
    payment = so.relationship("Payment", foreign_keys=[payment_id])

    __table_args__ = (
        one_of("status", ("in", "removed")),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.UniqueConstraint("run_id", "payment_id"),
    )
