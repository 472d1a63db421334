"""Celery wired the Flask way, and the task layer's commit boundary.

One Celery app per Flask app. Every task is a ``TrackerTask``: it runs in a fresh app context (so
a fresh database session) inside one unit of work, the task layer's counterpart of the API's
``writes`` and the pages' ``submit``:

* the task's service calls flush, never commit;
* when the task returns, ``TrackerTask`` commits; when it raises (a retry included), it rolls back;
  either way it removes the session;
* it logs the start, the end (with the time taken) and any failure, each line with the task id.

Two tasks need more than one transaction, and say so with the task's own tools:

* ``self.step()``: a block that commits when it ends (and rolls back if it fails), and
  ``self.commit_step()``, which commits what the task wrote so far. The scan takes its lease in one
  step, so other workers see it at once, and gives it back in another, even after a failure; the
  document render records a failure reason in a step before it raises; the mail task keeps the
  record of an attempt the mail server asked to repeat later.
* The document render claims its document in a first step (``UPDATE ... RETURNING``, committed
  before rendering starts, so a worker killed mid-render leaves its traces) and marks it ready in
  the task's last commit. With ``outbox_marks_in_steps`` its outbox row's "running" and "done"
  marks share those two commits, instead of two more of their own (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery, Task, signals
from celery.exceptions import Retry
from flask import Flask, current_app, has_app_context

from tracker import jobs, logs
from tracker.extensions import db

log = logging.getLogger("tracker.tasks")

TASK_MODULES = ("tasks.outbox", "tasks.health", "tasks.documents", "tasks.risks", "tasks.notify", "tasks.imports")


@contextmanager
def unit_of_work(name: str) -> Iterator[None]:
    """Commit when the block ends, roll back if it raises, remove the session either way; log it."""
    started = time.monotonic()
    log.info("Task %s started", name)
    try:
        yield
        db.session.commit()
    except Retry:
        db.session.rollback()
        log.info("Task %s will be tried again", name)
        raise
    except BaseException:
        db.session.rollback()
        log.exception("Task %s failed after %.2f s", name, time.monotonic() - started)
        raise
    finally:
        db.session.remove()
    log.info("Task %s finished in %.2f s", name, time.monotonic() - started)


def _current_flask_app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


class TrackerTask(Task):
    """The base of every tracker task: a fresh app context and one unit of work around ``run``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Called from inside an app (a test, a shell, eager mode): a new context of that app, so
        # the task has its own session and never commits the caller's.
        flask_app = _current_flask_app() if has_app_context() else self.app.flask_app
        with flask_app.app_context():
            row_id = jobs.outbox_id(self.request.id)
            if row_id is None:
                with unit_of_work(self.name):
                    return self.run(*args, **kwargs)
            return self._run_outbox_row(row_id, *args, **kwargs)

    #: A task whose body starts with a short step (``self.step()``: the document render's claim) may
    #: set this: its outbox row is then marked running in that step's commit and done in the task's
    #: last commit, two commits a run fewer than marking it in transactions of its own.
    outbox_marks_in_steps = False

    def _run_outbox_row(self, row_id: int, *args: Any, **kwargs: Any) -> Any:
        """A message from the outbox: its row is marked running, then done once the task has run
        (or failed for good); a retry leaves it running. A second delivery of a done row does nothing."""
        shared = self.outbox_marks_in_steps
        if not shared and not jobs.task_started(row_id):
            log.info("Task %s: outbox row %s is already done", self.name, row_id)
            return None
        try:
            with unit_of_work(self.name):
                if shared and not jobs.task_started(row_id, db.session):
                    log.info("Task %s: outbox row %s is already done", self.name, row_id)
                    return None
                result = self.run(*args, **kwargs)
                if shared:
                    jobs.task_done(row_id, conn=db.session)
        except Retry:
            if shared:  # the step that marked it running may have been rolled back
                jobs.task_started(row_id)
            raise
        except BaseException as exc:
            jobs.task_done(row_id, f"failed: {type(exc).__name__}")
            raise
        if not shared:
            jobs.task_done(row_id)
        return result

    @contextmanager
    def step(self) -> Iterator[None]:
        """One step of a task that works in several transactions: committed when the block ends,
        rolled back if it raises."""
        try:
            yield
        except BaseException:
            db.session.rollback()
            raise
        self.commit_step()

    def commit_step(self) -> None:
        """End a step: commit what the task has written so far, whatever happens next."""
        db.session.commit()


def celery_init_app(app: Flask) -> Celery:
    celery_app = Celery(app.name, task_cls=TrackerTask)
    celery_app.flask_app = app
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.update(imports=TASK_MODULES)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


@signals.setup_logging.connect
def _worker_logging(**_: Any) -> None:
    """A worker starting: the tracker's logging, not Celery's own handlers."""
    logs.configure()
