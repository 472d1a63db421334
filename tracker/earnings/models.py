"""Trusted issuers of earnings records, and the records imported from them.

The entries of an imported record are ``OtherIncome`` rows (``tracker.payments.models``) that name
the import they came from (``earnings_import_id``) and their entry in it (``entry_ref``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model
from tracker.money import Money
from tracker.timeutil import utcnow


class TrustedIssuer(Model):
    """Another organisation whose signed earnings records this installation accepts."""

    __tablename__ = "trusted_issuer"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    # A short hash of the public key (``tracker.earnings.signing.key_id``): records name it.
    key_id: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    # The raw 32-byte Ed25519 public key, base64.
    public_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    added_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    added_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    revoked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    revoked_at: so.Mapped[datetime | None]


class EarningsImport(Model):
    """One signed record imported for a person, with the consent given for it.

    A record is one of a series: the same issuer, the person's reference there and the same
    period. A newer record of a series replaces the older one's entries (``replaced_at``).
    """

    __tablename__ = "earnings_import"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"))
    issuer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("trusted_issuer.id"))
    key_id: so.Mapped[str] = so.mapped_column(sa.String(32))
    record_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    issuer_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    person_ref: so.Mapped[str] = so.mapped_column(sa.String(100))
    start_on: so.Mapped[date]
    end_on: so.Mapped[date]
    issued_at: so.Mapped[datetime]
    verification_code: so.Mapped[str] = so.mapped_column(sa.String(16))
    entry_count: so.Mapped[int]
    total: so.Mapped[Decimal] = so.mapped_column(Money())
    consent_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    consented_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    replaced_at: so.Mapped[datetime | None]

    __table_args__ = (
        sa.UniqueConstraint("person_id", "key_id", "record_id", name="uq_earnings_import_record"),
        sa.Index("ix_earnings_import_series", "person_id", "key_id", "person_ref", "start_on", "end_on"),
    )
