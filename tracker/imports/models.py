"""An import batch: one uploaded file, from its check to its approval by a second person."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model
from tracker.money import Money
from tracker.timeutil import utcnow

#: checking: read and checked (in the worker for a large file); waiting_approval: its payments are
#: drafts that count only once someone other than the importer approves the whole file;
#: approved: they are paid and count; rejected: they are cancelled; failed: a row or the file had a
#: problem and nothing was written; imported: contributions, which need no approval.
IMPORT_STATUSES = ("checking", "waiting_approval", "approved", "rejected", "failed", "imported")
#: A batch in one of these no longer holds its file's SHA-256: the same file may be tried again.
RELEASED = ("rejected", "failed")


class ImportBatch(Model):
    __tablename__ = "import_batch"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    file_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    # The SHA-256 while the batch holds it (not failed or rejected): the same file twice is refused.
    held_sha256: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="checking")
    uploaded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    finished_at: so.Mapped[datetime | None]
    # Progress: data rows in the file, rows read, and payments checked against the benefit rules.
    rows_total: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    rows_done: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    checks_done: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    rows_imported: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    people: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Payments whose benefit check was overridden with the file's reason.
    overridden: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    total_amount: so.Mapped[Decimal | None] = so.mapped_column(Money())
    # The error report: a problem with the whole file, or [{"line": n, "messages": [...]}].
    error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    problems: so.Mapped[list | None] = so.mapped_column(sa.JSON)
    # The uploaded file, kept only until the worker has read it (large files).
    content: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    approved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    approved_at: so.Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('checking', 'waiting_approval', 'approved', 'rejected', 'failed', 'imported')",
            name="status_known",
        ),
        sa.CheckConstraint("kind IN ('contributions', 'payments')", name="kind_known"),
        sa.Index("ix_import_batch_created", "created_at"),
    )
