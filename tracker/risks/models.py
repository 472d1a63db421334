from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model, one_of
from tracker.timeutil import utcnow
from tracker.vocab import FLAG_STATUSES

FLAG_LEVELS = ("near", "over", "manual")


class RiskFlag(Model):
    __tablename__ = "risk_flag"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"))
    # The rule family (e.g. CA_EARN) and the rule version seen; empty for a general manual flag.
    rule_family: so.Mapped[str] = so.mapped_column(sa.String(60), default="")
    rule_code: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    benefit: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    title: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    period_start: so.Mapped[date]
    period_end: so.Mapped[date]
    level: so.Mapped[str] = so.mapped_column(sa.String(10))
    source: so.Mapped[str] = so.mapped_column(sa.String(12), default="system")
    status: so.Mapped[str] = so.mapped_column(sa.String(14), default="open")
    total: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    limit: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    raised_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    raised_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    acknowledged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    acknowledged_at: so.Mapped[datetime | None]
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    resolved_at: so.Mapped[datetime | None]

    person = so.relationship("Person")
    notes: so.Mapped[list[RiskNote]] = so.relationship(
        back_populates="flag", order_by="RiskNote.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # One flag per person × rule × period.
        sa.UniqueConstraint("person_id", "rule_family", "period_start"),
        one_of("status", FLAG_STATUSES),
        one_of("level", FLAG_LEVELS),
        one_of("source", ("system", "coordinator")),
        sa.CheckConstraint("period_end >= period_start", name="end_after_start"),
        sa.Index("ix_risk_flag_status_period", "status", "period_end"),
        # The API's list of flags (latest period first), read a page at a time.
        sa.Index("ix_risk_flag_period_end_id", "period_end", "id"),
    )


class RiskNote(Model):
    __tablename__ = "risk_note"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    flag_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("risk_flag.id", ondelete="CASCADE"), index=True)
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    text: so.Mapped[str] = so.mapped_column(sa.String(2000))

    flag: so.Mapped[RiskFlag] = so.relationship(back_populates="notes")
    author = so.relationship("User")


class JobLock(Model):
    """A lease so two runs of a scheduled job never overlap, whatever machine they run on."""

    __tablename__ = "job_lock"

    name: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    holder: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    locked_until: so.Mapped[datetime]


class RiskPosition(Model):
    """A person's worst verdict on a day, kept so that the dashboard can put thousands of people in
    order without working out everyone's position on every view (``tracker/risks/positions.py``).

    One row for all of a person's benefits together (``benefit`` is empty) and one for each benefit
    they have a verdict for. The rows are only trusted while the day, the rules (``rules_key``) and
    the person's ``ledger_version`` are the ones they were worked out from; otherwise they are worked
    out again. They hold no figures shown to anyone: the page's rows are always worked out afresh.
    """

    __tablename__ = "risk_position"

    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    benefit: so.Mapped[str] = so.mapped_column(sa.String(10), primary_key=True)
    on_date: so.Mapped[date]
    rules_key: so.Mapped[str] = so.mapped_column(sa.String(100))
    ledger_version: so.Mapped[int]
    # The worst verdict's result (None when no rule gave one) and the room left as a fraction of
    # its limit (``positions.room_key``: None without a limit), as exact decimal text so both
    # databases keep every digit: it is only used to put people in order, in Python, exactly as
    # ``positions.verdict_key`` does.
    status: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    room: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    # What the worst verdict costs the person (``vocab.EFFECTS``): the first key of the order.
    effect: so.Mapped[str | None] = so.mapped_column(sa.String(10))
