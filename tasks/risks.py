"""Scheduled risk work: the scan (never overlapping) and the daily digest."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from tracker.ops import service as ops
from tracker.risks import service

#: How long a scan's lease lasts: a worker that dies mid-scan holds it no longer than this.
LEASE_SECONDS = 900


def _day(on: str | None) -> date:
    return date.fromisoformat(on) if on else date.today()


@shared_task(name="tracker.risks.scan", bind=True)
def scan(self, on: str | None = None, lease_seconds: int = LEASE_SECONDS) -> dict:
    """Three steps: take the lease (seen at once by any other scan), scan, give the lease back
    (also after a failure). A scan that finds the lease taken does nothing."""
    with self.step():
        holder = service.acquire_lock(service.SCAN_LOCK, lease_seconds)
    if holder is None:
        return {"skipped": True, "raised": 0, "resolved": 0}
    try:
        with self.step():
            done = service.scan(_day(on))
            ops.record_heartbeat(ops.RISK_SCAN)
    finally:
        with self.step():
            service.release_lock(service.SCAN_LOCK, holder)
    return {"skipped": False, **done}


@shared_task(name="tracker.risks.digest")
def digest(on: str | None = None) -> int:
    sent = service.digest(_day(on))
    ops.record_heartbeat(ops.RISK_DIGEST)
    return sent
