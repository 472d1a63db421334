"""Background work is enqueued only after the transaction that asked for it commits.

``enqueue_after_commit(name, *args)`` writes an outbox row in the caller's transaction and
remembers its id on the session. After the outermost commit the row is sent to the broker and
marked sent. If the transaction (or the savepoint around the call) rolls back, the row is gone
and nothing is sent. If the broker is down, the row stays pending and the periodic sweep
(``tracker.outbox.sweep``) sends it later. Tasks are idempotent, so a second delivery is harmless.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from tracker.extensions import Model, db, table_of
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)
_PENDING = "tracker.pending_outbox_ids"


class OutboxTask(Model):
    __tablename__ = "outbox_task"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    args: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    sent_at: so.Mapped[datetime | None]
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'sent')", name="status_known"),
        sa.Index("ix_outbox_task_status_created", "status", "created_at"),
    )


def enqueue_after_commit(task_name: str, *args) -> OutboxTask:
    """Ask for ``task_name(*args)`` to run once the current transaction commits.

    Arguments must be JSON values (ids, dates as ISO strings), never ORM objects.
    """
    row = OutboxTask(task_name=task_name, args=list(args))
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(row.id)
    return row


def _celery():
    celery_app = current_app.extensions["celery"]
    if celery_app.conf.broker_url == "filesystem://":
        ensure_broker_folders(celery_app.conf.broker_transport_options)
    return celery_app


def ensure_broker_folders(options: dict) -> None:
    """The server-less filesystem broker needs its folders to exist."""
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


def send_outbox_rows(ids: list[int]) -> int:
    """Send the pending outbox rows with these ids; returns how many were sent.

    Uses its own short transactions, so it can run right after a commit. Rows that no longer
    exist (their transaction or savepoint rolled back) or were already sent are skipped.
    """
    if not ids:
        return 0
    table = table_of(OutboxTask)
    sent = 0
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.id, table.c.task_name, table.c.args).where(
                table.c.id.in_(ids), table.c.status == "pending"
            )
        ).all()
        conn.rollback()
        for row in rows:
            try:
                _celery().send_task(row.task_name, args=list(row.args or []), task_id=f"outbox-{row.id}")
            except Exception as exc:  # the broker is unreachable: the sweep will try again
                log.warning("Could not send outbox task %s: %s", row.id, exc)
                conn.execute(
                    table.update()
                    .where(table.c.id == row.id)
                    .values(attempts=table.c.attempts + 1, last_error=str(exc)[:500])
                )
                conn.commit()
                continue
            conn.execute(
                table.update()
                .where(table.c.id == row.id, table.c.status == "pending")
                .values(status="sent", sent_at=utcnow(), attempts=table.c.attempts + 1)
            )
            conn.commit()
            sent += 1
    return sent


def redrive(older_than_seconds: int, now: datetime | None = None, limit: int = 500) -> int:
    """Send pending outbox rows older than the given age (the periodic sweep)."""
    cutoff = (now or utcnow()) - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(
        sa.select(OutboxTask.id)
        .where(OutboxTask.status == "pending", OutboxTask.created_at <= cutoff)
        .order_by(OutboxTask.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    return send_outbox_rows(list(ids))


@sa.event.listens_for(so.Session, "after_commit")
def _after_commit(session: so.Session) -> None:
    # The hook also fires when a SAVEPOINT is released; only the outermost commit counts.
    if session.in_nested_transaction():
        return
    ids = session.info.pop(_PENDING, None)
    if ids and has_app_context():
        send_outbox_rows(ids)


@sa.event.listens_for(so.Session, "after_rollback")
def _after_rollback(session: so.Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
