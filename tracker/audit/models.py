"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model
from tracker.timeutil import utcnow


class AuditEvent(Model):
    __tablename__ = "audit_event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    entity_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    entity_id: so.Mapped[int | None]
    person_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("person.id"), index=True)
    before: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    after: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(2000))

    actor = so.relationship("User")

    __table_args__ = (sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),)
