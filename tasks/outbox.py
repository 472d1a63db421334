from celery import shared_task
from flask import current_app

from tracker import jobs
from tracker.api import idempotency
from tracker.ops import service as ops


@shared_task(name="tracker.outbox.sweep")
def sweep() -> int:
    """Send again outbox rows that never reached the broker, that the broker lost, or whose worker
    died; note that the sweep ran (the scheduler's heartbeat)."""
    cfg = current_app.config
    sent = jobs.redrive(cfg["OUTBOX_REDRIVE_AFTER_SECONDS"], restart_after_seconds=cfg["OUTBOX_RESTART_AFTER_SECONDS"])
    ops.record_heartbeat(ops.OUTBOX_SWEEP)
    return sent


@shared_task(name="tracker.outbox.purge")
def purge() -> dict:
    """Forget outbox rows whose task ran, and idempotency records, once past their retention."""
    cfg = current_app.config
    return {
        "outbox": jobs.purge_done(cfg["OUTBOX_RETENTION_HOURS"]),
        "idempotency": idempotency.purge(cfg["IDEMPOTENCY_TTL_HOURS"]),
    }
