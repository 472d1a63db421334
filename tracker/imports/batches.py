"""Import batches: one uploaded file, from its check to a second person's approval.

* ``refuse_repeat``: a file whose SHA-256 a live batch holds (not failed or rejected) is refused,
  naming when it was imported.
* ``start``: a batch for a file, in ``checking``. A small file is checked and written at once in
  the caller's transaction (``write``); a large one keeps its bytes on the batch and is handed to
  the worker (``tasks.imports.run_import``), which reports its progress on the batch (``run``).
* ``write``: the rows of a check with no problems (``service.import_checked``). Payments wait in
  ``waiting_approval``; contributions, which carry no money, are ``imported``.
* ``approve``: someone other than the importer approves the whole file: every payment is paid, with
  a ``payment.approved`` event each, a ledger event for its people and ``import.approved``.
* ``reject``: every payment is cancelled (``import.rejected``); the same file may be imported again.

Services flush; the caller commits once (a page, or the task's steps).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tracker.audit import service as audit
from tracker.errors import Conflict, Forbidden, ValidationFailed
from tracker.extensions import db, table_of
from tracker.imports import service
from tracker.imports.models import ImportBatch
from tracker.payments.models import Payment
from tracker.rules import ledger
from tracker.timeutil import when_text

log = logging.getLogger(__name__)
MAX_PROBLEMS_KEPT = 1000
RUN_TASK = "tracker.imports.run"

IMPORTER = "approver_is_importer"
NOT_WAITING = "import_not_waiting"
SAME_PERSON = "Someone other than the person who imported the file must approve it."


def holder(sha256: str) -> ImportBatch | None:
    """The live batch holding a file's SHA-256, if any."""
    return db.session.scalar(sa.select(ImportBatch).where(ImportBatch.held_sha256 == sha256))


def repeat_message(batch: ImportBatch) -> str:
    return (
        f"This file was already imported on {when_text(batch.created_at)} (import {batch.id}). "
        "A file is imported once: if it has new rows, import a file with only the new rows."
    )


def refuse_repeat(sha256: str) -> None:
    found = holder(sha256)
    if found is not None:
        raise ValidationFailed({"file": [repeat_message(found)]})


def start(kind: str, filename: str, sha256: str, rows: int, *, actor, content: bytes | None = None) -> ImportBatch:
    """A batch holding the file's SHA-256, in ``checking`` (flushes; refuses a repeat)."""
    refuse_repeat(sha256)
    batch = ImportBatch(
        kind=kind,
        file_name=filename,
        sha256=sha256,
        held_sha256=sha256,
        status="checking",
        uploaded_by_id=getattr(actor, "id", None),
        rows_total=rows,
        content=content,
    )
    db.session.add(batch)
    try:
        db.session.flush()
    except IntegrityError:  # the same file, uploaded at the same moment: the caller rolls back
        raise ValidationFailed({"file": ["This file is being imported already."]}) from None
    audit.record(actor, "import.started", batch, entity_type="import", after={"file": filename, "sha256": sha256})
    return batch


def write(batch: ImportBatch, result: service.CheckResult, *, actor, now: datetime) -> dict:
    """Write a checked file's rows into the batch (flushes). Of two workers finishing the same
    batch at once, one writes and the other gets a Conflict."""
    _claim(batch, "waiting_approval" if result.kind == "payments" else "imported", start="checking")
    done = service.import_checked(result, batch, actor=actor, now=now)
    batch.rows_imported = done["rows"]
    batch.people = done["people"]
    batch.overridden = len(result.overridden)
    batch.total_amount = result.total
    batch.rows_done = batch.checks_done = batch.rows_total = result.data_rows
    batch.finished_at, batch.content = now, None
    db.session.flush()
    return done


def fail(batch: ImportBatch, *, actor, now: datetime, error: str | None = None, problems=None) -> None:
    """Nothing is written: the batch keeps its error report and lets the file go (flushes)."""
    batch.status, batch.held_sha256, batch.content, batch.finished_at = "failed", None, None, now
    batch.error = error[:500] if error else None
    batch.problems = [{"line": n.line, "messages": n.messages} for n in (problems or [])][:MAX_PROBLEMS_KEPT]
    count = len(problems or [])
    audit.record(actor, "import.failed", batch, entity_type="import", after={"error": batch.error, "lines": count})
    db.session.flush()


def _progress(batch_id: int, save):
    table = table_of(ImportBatch)

    def report(read: int, checked: int) -> None:
        db.session.execute(table.update().where(table.c.id == batch_id).values(rows_done=read, checks_done=checked))
        save()

    return report


def run(batch_id: int, *, actor, today: date, now: datetime, save) -> str:
    """The worker's part: check the kept file (saving progress with ``save``, which commits), then
    write its rows or its error report. Returns the batch's status; does nothing twice."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != "checking" or batch.content is None:
        return "missing" if batch is None else batch.status
    data = batch.content
    try:
        result = service.check_file(batch.kind, batch.file_name, data, today=today, progress=_progress(batch_id, save))
    except service.FileProblem as e:
        fail(db.session.get_one(ImportBatch, batch_id), actor=actor, now=now, error=e.message)
        return "failed"
    batch = db.session.get_one(ImportBatch, batch_id)
    if not result.ok:
        fail(batch, actor=actor, now=now, problems=result.problems)
        return "failed"
    try:
        write(batch, result, actor=actor, now=now)
    except Conflict:  # another delivery of the task wrote it first
        return db.session.get_one(ImportBatch, batch_id).status
    log.info("Import %s checked and written by the worker: %s rows", batch_id, len(result.rows))
    return batch.status


def mark_failed(batch_id: int, error: str, *, now: datetime) -> None:
    """The worker could not finish (a bug, or the database): the batch says so and lets the file go."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is not None and batch.status == "checking":
        fail(batch, actor=None, now=now, error=error)


def _payments(batch: ImportBatch) -> sa.Select:
    return sa.select(Payment.id, Payment.person_id).where(
        Payment.import_batch_id == batch.id, Payment.status == "draft"
    )


def approver_refusal(batch: ImportBatch, actor) -> str | None:
    """Why ``actor`` may not approve the batch now (a message); None when they may."""
    if batch.status != "waiting_approval":
        return "Only an import waiting for approval can be approved."
    if batch.uploaded_by_id is not None and batch.uploaded_by_id == getattr(actor, "id", None):
        return SAME_PERSON
    return None


def _claim(batch: ImportBatch, status: str, start: str = "waiting_approval") -> None:
    """Move the batch from ``start`` to ``status`` in one conditional UPDATE: of two people (or
    workers) acting on it at the same moment, one wins and the other gets a 409."""
    table = table_of(ImportBatch)
    moved: sa.CursorResult = db.session.execute(  # type: ignore[assignment]
        table.update()
        .where(table.c.id == batch.id, table.c.status == start)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        db.session.rollback()
        what = "being checked" if start == "checking" else "waiting for approval"
        raise Conflict(f"This import is not {what}.", code=NOT_WAITING)
    batch.status = status


def _settle(batch: ImportBatch, *, actor, now: datetime, status: str, action: str, reason: str | None = None):
    """Move every draft payment of the batch to ``status``, with one audit event each (flushes)."""
    rows = db.session.execute(_payments(batch)).all()
    ledger.changed(db.session, {r.person_id for r in rows})
    table = table_of(Payment)
    values: dict = {"status": status, "version": table.c.version + 1}
    if status == "paid":
        values.update(approved_by_id=actor.id, approved_at=now, paid_by_id=actor.id, paid_at=now)
    else:
        values.update(cancelled_at=now, reason=reason)
    db.session.execute(
        table.update()
        .where(table.c.import_batch_id == batch.id, table.c.status == "draft")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    events = [
        {
            "entity_id": r.id,
            "person_id": r.person_id,
            "before": {"status": "draft"},
            "after": {"status": status, "import_batch_id": batch.id},
            "reason": reason,
        }
        for r in rows
    ]
    audit.record_many(actor, action, "payment", events)
    return len(rows)


def approve(batch: ImportBatch, *, actor, now: datetime) -> int:
    """A second person approves the whole file: every payment is paid and counts from now."""
    refusal = approver_refusal(batch, actor)
    if refusal == SAME_PERSON:
        raise Forbidden(refusal, code=IMPORTER)
    _claim(batch, "approved")
    n = _settle(batch, actor=actor, now=now, status="paid", action="payment.approved")
    batch.approved_by_id, batch.approved_at = actor.id, now
    audit.record(actor, "import.approved", batch, entity_type="import", after={"payments": n, "file": batch.file_name})
    db.session.flush()
    return n


def reject(batch: ImportBatch, *, actor, now: datetime) -> int:
    """Every payment of the file is cancelled; the same file may be imported again."""
    _claim(batch, "rejected")
    reason = f"The import of {batch.file_name} (import {batch.id}) was rejected."
    n = _settle(batch, actor=actor, now=now, status="cancelled", action="payment.cancelled", reason=reason)
    batch.held_sha256, batch.finished_at = None, now
    audit.record(actor, "import.rejected", batch, entity_type="import", after={"payments": n, "file": batch.file_name})
    db.session.flush()
    return n
