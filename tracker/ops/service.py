"""Heartbeats of the scheduled jobs, the numbers an operator watches, and which rules look stale.

Services flush, never commit: the task that records a heartbeat commits it with its own work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tracker.documents.models import Document
from tracker.engine import coverage
from tracker.engine.model import Rule
from tracker.extensions import db
from tracker.jobs import OutboxTask
from tracker.ops.models import Heartbeat
from tracker.timeutil import utcnow

#: The scheduled jobs, named as in the beat schedule (config.celery_settings). Each one's task
#: records its heartbeat when it has done its work.
OUTBOX_SWEEP = "outbox-sweep"
DOCUMENTS_REDRIVE = "documents-redrive"
RISK_SCAN = "risk-scan"
RISK_DIGEST = "risk-digest"
SCHEDULED_JOBS = (OUTBOX_SWEEP, DOCUMENTS_REDRIVE, RISK_SCAN, RISK_DIGEST)


def record_heartbeat(name: str, at: datetime | None = None) -> None:
    """Note that the scheduled job ``name`` has just done its work (flushes; the task commits)."""
    at = at or utcnow()
    updated = db.session.execute(sa.update(Heartbeat).where(Heartbeat.name == name).values(beat_at=at))
    if getattr(updated, "rowcount", 0) == 1:
        return
    try:
        with db.session.begin_nested():  # the job's first run, perhaps on two workers at once
            db.session.add(Heartbeat(name=name, beat_at=at))
    except IntegrityError:
        db.session.execute(sa.update(Heartbeat).where(Heartbeat.name == name).values(beat_at=at))


def heartbeats() -> dict[str, datetime]:
    """When each scheduled job last did its work; a job that never has is missing."""
    return dict(db.session.execute(sa.select(Heartbeat.name, Heartbeat.beat_at)).tuples().all())


def age_seconds(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else max(0.0, (now - at).total_seconds())


def outbox_backlog() -> tuple[int, datetime | None]:
    """How many outbox rows wait to reach the broker, and when the oldest of them was written."""
    count, oldest = db.session.execute(
        sa.select(sa.func.count(OutboxTask.id), sa.func.min(OutboxTask.created_at)).where(
            OutboxTask.status == "pending"
        )
    ).one()
    return int(count), oldest


def documents_waiting() -> int:
    """Documents asked for and not yet produced (queued: waiting for, or in, a render)."""
    return int(db.session.scalar(sa.select(sa.func.count(Document.id)).where(Document.status == "queued")) or 0)


def stale_families(rules: Iterable[Rule], on: date) -> list[str]:
    """The rule families whose figure is stale on ``on``, as verdicts mark it (``stale: true``): the
    newest figure is used on or after its next expected uprating (``next_uprating``) with no newer
    one loaded (``tracker.engine.coverage.is_stale``). A family whose figure has run out with nothing
    after it is not stale but uncovered: its verdicts are "not checked" (unknown), which block."""
    return sorted({rule.family for rule in rules if coverage.is_stale(rule, on)})


def _stamp(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat(timespec="seconds") + "Z"


def scheduler_report(beats: dict[str, datetime], now: datetime) -> dict:
    """What /readyz says about the scheduler: its heartbeat (the newest run of any scheduled job)
    and each job's last run, in UTC, with their ages in whole seconds (null: never)."""
    newest = max(beats.values(), default=None)

    def entry(at: datetime | None) -> dict:
        age = age_seconds(at, now)
        return {"last_at": _stamp(at), "age_seconds": None if age is None else int(age)}

    return {"heartbeat": entry(newest), "jobs": {job: entry(beats.get(job)) for job in SCHEDULED_JOBS}}
