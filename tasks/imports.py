"""The import task: check and write a large file in the worker, keeping its progress on the batch."""

from __future__ import annotations

import logging

from celery import shared_task

from tracker.auth.models import User
from tracker.extensions import db
from tracker.imports import batches
from tracker.imports.models import ImportBatch
from tracker.timeutil import today, utcnow

log = logging.getLogger(__name__)


@shared_task(
    name=batches.RUN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=600, soft_time_limit=540
)
def run_import(self, batch_id: int) -> str:
    """Progress is committed as it goes (``self.commit_step``); the rows are written in the last
    transaction, all or nothing. A second delivery of a finished batch does nothing."""
    batch = db.session.get(ImportBatch, batch_id)
    actor = db.session.get(User, batch.uploaded_by_id) if batch and batch.uploaded_by_id else None
    try:
        return batches.run(batch_id, actor=actor, today=today(), now=utcnow(), save=self.commit_step)
    except Exception as exc:  # a bug or the database: the batch says so, and the file may be tried again
        log.exception("Import %s failed", batch_id)
        db.session.rollback()
        with self.step():
            batches.mark_failed(batch_id, f"The file could not be imported ({type(exc).__name__}).", now=utcnow())
        raise
