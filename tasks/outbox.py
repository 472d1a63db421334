from celery import shared_task
from flask import current_app

from tracker import jobs


@shared_task(name="tracker.outbox.sweep")
def sweep() -> int:
    """Re-drive outbox rows that were committed but never reached the broker."""
    return jobs.redrive(current_app.config["OUTBOX_REDRIVE_AFTER_SECONDS"])
