"""Activities (pieces of co-production work) and contributions (a person took part)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model, one_of
from tracker.money import Hours, Money
from tracker.timeutil import utcnow
from tracker.vocab import SERVICE_USER_CONTEXTS

RATE_UNITS = ("hour", "half_day", "day", "session")


class Activity(Model):
    __tablename__ = "activity"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str | None] = so.mapped_column(sa.Text)
    default_rate: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal("0.00"))
    rate_unit: so.Mapped[str] = so.mapped_column(sa.String(20), default="hour")
    includes_preparation: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # Is the person taking part as a service user of a health, social care or housing body?
    # Decides whether expenses and declined fees are disregarded (see the rules reference).
    service_user_context: so.Mapped[str] = so.mapped_column(sa.String(10), default="unknown")
    consulting_body: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    active: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("default_rate >= 0", name="rate_not_negative"),
        one_of("rate_unit", RATE_UNITS),
        one_of("service_user_context", SERVICE_USER_CONTEXTS, "context_known"),
    )


class Contribution(Model):
    __tablename__ = "contribution"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"))
    activity_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("activity.id"))
    worked_on: so.Mapped[date]
    hours: so.Mapped[Decimal] = so.mapped_column(Hours())
    preparation_hours: so.Mapped[Decimal] = so.mapped_column(Hours(), default=Decimal("0.00"))
    role: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    description: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    value_owed: so.Mapped[Decimal] = so.mapped_column(Money(), default=Decimal("0.00"))
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    person = so.relationship("Person")
    activity: so.Mapped[Activity | None] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("hours >= 0 AND hours <= 2400", name="hours_in_range"),
        sa.CheckConstraint("preparation_hours >= 0", name="preparation_not_negative"),
        sa.CheckConstraint("value_owed >= 0", name="value_not_negative"),
        sa.Index("ix_contribution_person_worked", "person_id", "worked_on"),
        sa.Index("ix_contribution_worked_id", "worked_on", "id"),
    )
