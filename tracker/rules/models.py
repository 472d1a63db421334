"""Benefit rules stored in the database, one row per revision.

A rule's history is never lost: an edit, a confirmation or a retirement adds a new revision and
marks the previous one superseded. Payments keep the (code, revision) pairs they were checked
against, so later edits never rewrite what was shown then.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model, one_of
from tracker.timeutil import utcnow
from tracker.vocab import RULE_STATUSES


class RuleRevision(Model):
    __tablename__ = "rule_revision"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(60))
    revision: so.Mapped[int]
    family: so.Mapped[str] = so.mapped_column(sa.String(60))
    benefit: so.Mapped[str] = so.mapped_column(sa.String(10))
    definition: so.Mapped[dict] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="active")
    change: so.Mapped[str] = so.mapped_column(sa.String(20))  # loaded, edited, confirmed, retired
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(2000))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    created_by = so.relationship("User")

    __table_args__ = (
        sa.UniqueConstraint("code", "revision"),
        one_of("status", RULE_STATUSES),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
        sa.Index("ix_rule_revision_status", "status"),
    )
