from celery import shared_task
from flask import current_app

from tracker import jobs
from tracker.ops import service as ops


@shared_task(name="tracker.outbox.sweep")
def sweep() -> int:
    """Re-drive outbox rows that were committed but never reached the broker; note the sweep ran."""
    sent = jobs.redrive(current_app.config["OUTBOX_REDRIVE_AFTER_SECONDS"])
    ops.record_heartbeat(ops.OUTBOX_SWEEP)
    return sent
