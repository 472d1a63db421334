"""Celery tasks: thin, named, id-based and idempotent. Each loads, calls services, and returns.

Every task runs inside ``tracker.celery.TrackerTask``, which owns the transaction: it commits
when the task returns, rolls back when it raises, and logs the start, the end and any failure
with the task id. Services only flush. A task that needs more than one transaction says so with
``self.step()`` or ``self.autocommit()`` (the scan's lease, the document render's claim).
"""
