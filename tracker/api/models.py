"""Stored responses for the Idempotency-Key header."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model
from tracker.timeutil import utcnow


class IdempotencyRecord(Model):
    __tablename__ = "idempotency_record"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    key: so.Mapped[str] = so.mapped_column(sa.String(200))
    request_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    status_code: so.Mapped[int]
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)
