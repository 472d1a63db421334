"""Scheduled risk work: the scan (never overlapping) and the daily digest."""

from datetime import date

from celery import shared_task

from tracker.risks import service


@shared_task(name="tracker.risks.scan")
def scan(on: str | None = None) -> dict:
    return service.scan(date.fromisoformat(on) if on else date.today())


@shared_task(name="tracker.risks.digest")
def digest(on: str | None = None) -> int:
    return service.digest(date.fromisoformat(on) if on else date.today())
