"""Document tasks: thin, idempotent, late-acknowledged. Retries only for transient errors."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app
from sqlalchemy.exc import OperationalError

from tracker.documents import service
from tracker.ops import service as ops

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, OSError)


@shared_task(
    name="tracker.documents.render",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=300,
    soft_time_limit=270,
    max_retries=5,
    outbox_marks_in_steps=True,
)
def render_document(self, document_id: int) -> str:
    """Two commits: the claim (with the outbox row's "running" mark), committed before rendering
    starts, and, once the file is stored, the ready mark (with the outbox row's "done" mark)."""
    try:
        with self.step():
            claim = service.claim_render(document_id)
        if claim is None:  # ready already, or missing: a second look, which may ask the store
            with self.step():
                claim = service.claim_again(document_id)
        if isinstance(claim, str):  # "missing" or "already ready"
            return claim
        return service.finish_render(claim)
    except TRANSIENT as exc:
        if self.request.retries >= self.max_retries:
            with self.step():
                service.mark_failed(
                    document_id, f"Could not store the document after several tries: {type(exc).__name__}"
                )
            raise
        raise self.retry(exc=exc, countdown=min(60, 2**self.request.retries)) from exc
    except Exception as exc:  # a bug or bad data: fail for good, with a reason people can act on
        log.exception("Document %s failed", document_id)
        with self.step():
            service.mark_failed(document_id, f"The document could not be produced ({type(exc).__name__}).")
        raise


@shared_task(name="tracker.documents.redrive")
def redrive() -> int:
    queued = service.redrive_stuck(current_app.config["DOCUMENT_REDRIVE_AFTER_SECONDS"])
    ops.record_heartbeat(ops.DOCUMENTS_REDRIVE)
    return queued
