"""People (contributors), their compensation preferences, consent and benefit claims."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model, one_of
from tracker.money import Money
from tracker.timeutil import utcnow
from tracker.vocab import DOCUMENT_FORMATS, KIND_LABELS, PAYMENT_KINDS

#: The ways a person can choose to be paid, and their words: the vocabulary's payment kinds.
PREFERENCE_KINDS = PAYMENT_KINDS
PREFERENCE_LABELS = KIND_LABELS


class Person(Model):
    __tablename__ = "person"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    notes: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # Bumped by every payment recorded for the person: serialises check-then-record.
    ledger_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # How they like their statements and certificates made: "standard" or "easy_read".
    document_format: so.Mapped[str] = so.mapped_column(sa.String(20), default="standard", server_default="standard")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    preferences: so.Mapped[list[Preference]] = so.relationship(
        back_populates="person", order_by="Preference.position", cascade="all, delete-orphan"
    )
    claims: so.Mapped[list[BenefitClaim]] = so.relationship(
        back_populates="person", order_by="BenefitClaim.start_on", cascade="all, delete-orphan"
    )
    consents: so.Mapped[list[Consent]] = so.relationship(
        back_populates="person", order_by="Consent.id", cascade="all, delete-orphan"
    )

    #: The people list's order (name, then id): a page is read from the index (tracker.keyset).
    __table_args__ = (sa.Index("ix_person_name_id", "name", "id"), one_of("document_format", DOCUMENT_FORMATS))

    @property
    def consent(self) -> Consent | None:
        """The consent in force: the latest one not withdrawn."""
        live = [c for c in self.consents if c.withdrawn_on is None]
        return live[-1] if live else None

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.name!r}>"


class Preference(Model):
    """One entry of a person's ordered list of how they want to be paid."""

    __tablename__ = "preference"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    position: so.Mapped[int]
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    note: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    person: so.Mapped[Person] = so.relationship(back_populates="preferences")

    __table_args__ = (
        sa.UniqueConstraint("person_id", "position"),
        sa.UniqueConstraint("person_id", "kind"),
        one_of("kind", PREFERENCE_KINDS),
        sa.CheckConstraint("position >= 0", name="position_not_negative"),
    )


class Consent(Model):
    """Consent to hold benefit information (special-category data)."""

    __tablename__ = "consent"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    given_on: so.Mapped[date]
    notice_version: so.Mapped[str] = so.mapped_column(sa.String(40))
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    withdrawn_on: so.Mapped[date | None]

    person: so.Mapped[Person] = so.relationship(back_populates="consents")


class BenefitClaim(Model):
    """A benefit the person receives, with what the rules need to know about it."""

    __tablename__ = "benefit_claim"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    benefit: so.Mapped[str] = so.mapped_column(sa.String(10))
    start_on: so.Mapped[date]
    end_on: so.Mapped[date | None]
    attributes: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    #: Answers that decide which rule applies but hold a default the tracker once filled in; a
    #: coordinator confirms them by answering (see ``people.service.claims_to_confirm``).
    answers_to_confirm: so.Mapped[list | None] = so.mapped_column(sa.JSON(none_as_null=True))
    confirmed_on: so.Mapped[date | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    person: so.Mapped[Person] = so.relationship(back_populates="claims")

    __table_args__ = (
        sa.CheckConstraint("end_on IS NULL OR end_on >= start_on", name="end_after_start"),
        one_of("benefit", ("UC", "ESA", "CA", "CSP", "JSA", "HB", "PC", "PIP", "ADP")),
    )

    def active_on(self, day: date) -> bool:
        return self.start_on <= day and (self.end_on is None or day <= self.end_on)


class PartnerEarning(Model):
    """Earnings of the person's partner, recorded on the person (no partner account needed).

    Benefit information: they count only toward household rules (a Universal Credit joint claim,
    Housing Benefit and Pension Credit for a couple), never toward the person's own limits.
    """

    __tablename__ = "partner_earning"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"))
    amount: so.Mapped[Decimal] = so.mapped_column(Money())
    received_on: so.Mapped[date]
    due_on: so.Mapped[date | None]
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_partner_earning_person_received", "person_id", "received_on"),
    )
