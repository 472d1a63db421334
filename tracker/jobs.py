"""Background work is enqueued only after the transaction that asked for it commits, and is done
only once a worker has run it.

``enqueue_after_commit(name, *args)`` writes an outbox row in the caller's transaction and
remembers its id on the session. After the outermost commit the row is sent to the broker and
marked ``sent``. If the transaction (or the savepoint around the call) rolls back, the row is gone
and nothing is sent.

Sending never holds a request up: the broker has ``BROKER_TIMEOUT_SECONDS`` to take the message,
with no retry and no subscription to a result. If it is down or hung the row stays ``pending``, and
for ``BROKER_BACKOFF_SECONDS`` this process's requests do not try the broker at all.

The task marks its row ``running`` when a worker starts it and ``done`` when it ends
(``tracker.celery.TrackerTask``). The periodic sweep (``tracker.outbox.sweep``) sends again every
row still ``pending`` or ``sent`` after ``OUTBOX_REDRIVE_AFTER_SECONDS`` (the broker was down, or
took the message and lost it) and every row ``running`` after ``OUTBOX_RESTART_AFTER_SECONDS``
(its worker was killed). Tasks are idempotent, and a delivery of a row already done does nothing.
Rows done more than ``OUTBOX_RETENTION_HOURS`` ago are purged (``tracker.outbox.purge``).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from tracker.extensions import Model, db, table_of
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)
_PENDING = "tracker.pending_outbox_ids"
_BROKER_RESTING = "tracker.broker_resting_until"
#: A message sent from the outbox has the task id ``outbox-ID``.
TASK_ID_PREFIX = "outbox-"


class OutboxTask(Model):
    __tablename__ = "outbox_task"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    args: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    attempts: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    sent_at: so.Mapped[datetime | None]
    started_at: so.Mapped[datetime | None]
    done_at: so.Mapped[datetime | None]
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'sent', 'running', 'done')", name="status_known"),
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


def send_outbox_rows(ids: list[int], statuses: tuple[str, ...] = ("pending",)) -> int:
    """Send the outbox rows with these ids that are in one of ``statuses``; returns how many were sent.

    Uses its own short transactions, so it can run right after a commit. Rows that no longer
    exist (their transaction or savepoint rolled back) or have moved on are skipped. The first
    failure ends the batch: the broker is down or hung, and the rest would only wait on it too.
    """
    if not ids:
        return 0
    table = table_of(OutboxTask)
    sent = 0
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.id, table.c.task_name, table.c.args, table.c.status).where(
                table.c.id.in_(ids), table.c.status.in_(statuses)
            )
        ).all()
        conn.rollback()
        for row in rows:
            error = _publish(row.task_name, list(row.args or []), row.id)
            values: dict = {"attempts": table.c.attempts + 1}
            if error is None:
                values.update(status="sent", sent_at=utcnow())
            else:
                values["last_error"] = error[:500]
            conn.execute(table.update().where(table.c.id == row.id, table.c.status == row.status).values(**values))
            conn.commit()
            if error is not None:
                _rest_the_broker()
                break
            sent += 1
    return sent


def _rest_the_broker() -> None:
    """After a failed send, requests leave their rows to the sweep for BROKER_BACKOFF_SECONDS."""
    seconds = float(current_app.config.get("BROKER_BACKOFF_SECONDS") or 0)
    current_app.extensions[_BROKER_RESTING] = time.monotonic() + seconds


def _broker_resting() -> bool:
    return time.monotonic() < current_app.extensions.get(_BROKER_RESTING, 0.0)


def _publish(task_name: str, args: list, row_id: int) -> str | None:
    """Hand one message to the broker: no retry, no result subscription. None, or why it failed."""
    try:
        _celery().send_task(task_name, args=args, task_id=f"{TASK_ID_PREFIX}{row_id}", retry=False, ignore_result=True)
    except Exception as exc:  # the broker is down or hung: the sweep will try again
        log.warning("Could not send outbox task %s: %s", row_id, exc)
        return str(exc) or type(exc).__name__
    return None


def redrive(
    older_than_seconds: int, now: datetime | None = None, limit: int = 500, restart_after_seconds: int | None = None
) -> int:
    """Send again the rows a worker has not started (pending or sent) older than the given age, and
    the rows started longer than ``restart_after_seconds`` ago and never finished (the periodic sweep)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    if restart_after_seconds is None:
        restart_after_seconds = int(current_app.config["OUTBOX_RESTART_AFTER_SECONDS"])
    restart_cutoff = now - timedelta(seconds=restart_after_seconds)
    ids = db.session.scalars(
        sa.select(OutboxTask.id)
        .where(
            sa.or_(
                sa.and_(OutboxTask.status == "pending", OutboxTask.created_at <= cutoff),
                sa.and_(OutboxTask.status == "sent", OutboxTask.sent_at <= cutoff),
                sa.and_(OutboxTask.status == "running", OutboxTask.started_at <= restart_cutoff),
            )
        )
        .order_by(OutboxTask.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    return send_outbox_rows(list(ids), ("pending", "sent", "running"))


def outbox_id(task_id: str | None) -> int | None:
    """The outbox row a task message came from (its task id is ``outbox-ID``), or None."""
    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return None
    number = task_id.removeprefix(TASK_ID_PREFIX)
    return int(number) if number.isdigit() else None


def task_started(row_id: int, conn=None) -> bool:
    """A worker starts the task of this row: mark it running. False when it is already done (a second
    delivery), so the task need not run again. In a transaction of its own, or with ``conn`` (the
    task's session) in the caller's, to be committed with the task's first step."""
    if conn is None:
        with db.engine.begin() as own:
            return _mark_running(own, row_id)
    return _mark_running(conn, row_id)


def _mark_running(conn, row_id: int) -> bool:
    table = table_of(OutboxTask)
    changed = conn.execute(
        table.update()
        .where(table.c.id == row_id, table.c.status != "done")
        .values(status="running", started_at=utcnow())
    ).rowcount
    if changed:
        return True
    return conn.scalar(sa.select(table.c.id).where(table.c.id == row_id)) is None


def task_done(row_id: int, error: str | None = None, conn=None) -> None:
    """The task of this row has run (or failed for good): it is not sent again. In a transaction of
    its own, or with ``conn`` (the task's session) in the caller's, committed with the task's work."""
    table = table_of(OutboxTask)
    values: dict = {"status": "done", "done_at": utcnow()}
    if error:
        values["last_error"] = error[:500]
    done = table.update().where(table.c.id == row_id).values(**values)
    if conn is not None:
        conn.execute(done)
        return
    with db.engine.begin() as own:
        own.execute(done)


def purge_done(older_than_hours: int, now: datetime | None = None) -> int:
    """Delete the rows whose task ran more than the given hours ago; flushes. Returns how many."""
    cutoff = (now or utcnow()) - timedelta(hours=older_than_hours)
    result = db.session.execute(sa.delete(OutboxTask).where(OutboxTask.status == "done", OutboxTask.done_at < cutoff))
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


@sa.event.listens_for(so.Session, "after_commit")
def _after_commit(session: so.Session) -> None:
    # The hook also fires when a SAVEPOINT is released; only the outermost commit counts.
    if session.in_nested_transaction():
        return
    ids = session.info.pop(_PENDING, None)
    if ids and has_app_context() and not _broker_resting():
        send_outbox_rows(ids)


@sa.event.listens_for(so.Session, "after_rollback")
def _after_rollback(session: so.Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)
