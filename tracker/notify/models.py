from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model
from tracker.timeutil import utcnow


class Notification(Model):
    __tablename__ = "notification"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    to_email: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))  # flag, digest
    # pending: to be emailed; outbox: no SMTP configured, shown in the app; sent; failed
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    sent_at: so.Mapped[datetime | None]
    read_at: so.Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'outbox', 'sent', 'failed')", name="status_known"),
        sa.Index("ix_notification_status_created", "status", "created_at"),
    )
