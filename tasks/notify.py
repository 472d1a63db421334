"""Sending email notifications: retried for transient SMTP errors only."""

from __future__ import annotations

from celery import shared_task

from tracker.notify import service


@shared_task(name="tracker.notify.send", bind=True, max_retries=5, acks_late=True)
def send(self, notification_id: int) -> str:
    try:
        return service.send(notification_id)
    except service.TransientMailError as exc:
        self.commit_step()  # the attempt and the server's answer are kept, whatever happens next
        if self.request.retries >= self.max_retries:
            service.give_up(notification_id, f"Gave up after {self.max_retries + 1} tries: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc
