"""Heartbeats of the scheduled jobs, the numbers an operator watches, and which rules look stale.

Services flush, never commit: the task that records a heartbeat commits it with its own work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tracker.documents.models import Document
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

#: Most benefit figures are uprated each April, from 6 April (some from the first assessment
#: period or benefit week that starts after it).
UPRATING_MONTH, UPRATING_DAY = 4, 6
#: A new year's figure may take effect a little before the uprating day (from 1 April, say).
UPRATING_SLACK = timedelta(days=60)


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


def last_uprating(on: date) -> date:
    """The most recent 6 April on or before ``on``."""
    this_year = date(on.year, UPRATING_MONTH, UPRATING_DAY)
    return this_year if on >= this_year else date(on.year - 1, UPRATING_MONTH, UPRATING_DAY)


def stale_families(rules: Iterable[Rule], on: date) -> list[str]:
    """The rule families whose figures look out of date on ``on``: one small rule, to be replaced
    by the verdicts' own notion of staleness when the engine has one.

    A family (one figure across the years) is stale when its newest version has run out
    (``effective_to`` before ``on``) with no newer version loaded, or when it is a figure that
    has been uprated before (two or more versions) and its newest version took effect before this
    year's uprating (6 April, less ``UPRATING_SLACK``), so last year's figure is still being used.
    A family with one open-ended version is a figure that is not uprated yearly: never stale."""
    newest: dict[str, Rule] = {}
    versions: dict[str, int] = {}
    for rule in rules:
        versions[rule.family] = versions.get(rule.family, 0) + 1
        if rule.family not in newest or rule.effective_from > newest[rule.family].effective_from:
            newest[rule.family] = rule
    due = last_uprating(on) - UPRATING_SLACK
    stale = []
    for family, rule in newest.items():
        ran_out = rule.effective_to is not None and rule.effective_to < on
        behind = versions[family] > 1 and rule.effective_from < due
        if ran_out or behind:
            stale.append(family)
    return sorted(stale)


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
