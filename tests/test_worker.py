"""A real Celery worker process runs tasks on the configured broker.

Locally the broker is the server-less filesystem one; CI runs this again with TEST_BROKER_URL
pointing at Redis. Without a reachable broker the tests fail (they wait for a result).
"""

from __future__ import annotations

import os
import time
from datetime import date

import pytest
import sqlalchemy as sa

from config import celery_settings
from tests.builders import CA, payment, person, stored_copies
from tests.conftest import start_worker, stop_worker, worker_env_vars
from tracker.extensions import db
from tracker.jobs import OutboxTask, enqueue_after_commit
from tracker.people.models import Person

pytestmark = pytest.mark.worker


@pytest.fixture(scope="module")
def worker_env(database_url, broker_dir, document_storage, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worker")
    env = worker_env_vars(database_url, broker_dir, tmp, document_storage)
    proc, log = start_worker(env, tmp / "worker.log", "--pool=solo", "-n", f"test-{os.getpid()}@%h")
    yield env
    stop_worker(proc, log)


@pytest.fixture
def worker_app(worker_env, make_app, database_url):
    broker = worker_env.get("CELERY_BROKER_URL")
    celery = celery_settings(
        broker, worker_env["CELERY_RESULT_BACKEND"], worker_env.get("BROKER_DIR", ""), database_url
    )
    return make_app(CELERY=celery, BROKER_DIR=worker_env.get("BROKER_DIR", ""))


def test_worker_runs_a_task_enqueued_after_commit(worker_app):
    """The outbox asks for no result: the row itself says the task has run."""
    with worker_app.app_context():
        row = enqueue_after_commit("tracker.health.ping", "hello")
        db.session.commit()
        row_id = row.id
        assert db.session.get(OutboxTask, row_id).status in ("sent", "running", "done")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with worker_app.app_context():
            done = db.session.get(OutboxTask, row_id)
            if done.status == "done":
                break
            db.session.remove()
        time.sleep(0.1)
    assert done.status == "done" and done.started_at is not None and done.last_error is None


def test_worker_reads_the_same_database(worker_app):
    with worker_app.app_context():
        person("Worker Check A", consent=False)
        person("Worker Check B", consent=False)
        db.session.commit()
        expected = db.session.scalar(sa.select(sa.func.count(Person.id)))
        result = worker_app.extensions["celery"].send_task("tracker.health.count_people")
        deadline = time.monotonic() + 90
        assert result.get(timeout=max(1, deadline - time.monotonic())) == expected == 2


def _wait_for(app, doc_id, predicate, timeout=120, model=None):
    from tracker.documents.models import Document

    model = model or Document
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            doc = db.session.get(model, doc_id)
            if predicate(doc):
                db.session.expunge(doc)
                return doc
            db.session.remove()
        time.sleep(0.2)
    raise AssertionError(f"{model.__tablename__} {doc_id} did not get there in {timeout} s")


@pytest.fixture
def carer_with_payments(worker_app):
    from tracker.rules import service as rules

    with worker_app.app_context():
        rules.ensure_default_pack()
        pid = person("Siobhán Łukasz", claims=[CA]).id
        payment(pid, "150.25", date(2025, 4, 9))
        db.session.commit()
        return pid


def test_statement_is_rendered_by_a_real_worker(worker_app, carer_with_payments):
    from datetime import date
    from io import BytesIO

    from pypdf import PdfReader

    from tracker.documents import service
    from tracker.people.models import Person

    with worker_app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, carer_with_payments), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        doc_id = doc.id
    doc = _wait_for(worker_app, doc_id, lambda d: d.status != "queued")
    assert doc.status == "ready", doc.failure_reason
    with worker_app.app_context():
        data = service.storage().read(doc.file_name)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages).split())
    assert "Siobhán Łukasz" in text and "£150.25" in text


def test_killed_child_still_gives_exactly_one_ready_document(
    worker_app, carer_with_payments, database_url, broker_dir, document_storage, tmp_path
):
    """SIGKILL the pool process mid-render: the message is redelivered and the document ends ready once."""
    import signal
    from datetime import date

    from tracker.documents import service
    from tracker.documents.models import Document

    env = dict(worker_env_vars(database_url, broker_dir, tmp_path, document_storage), DOCUMENT_RENDER_DELAY_SECONDS="4")
    if "BROKER_DIR" in worker_app.config and not os.environ.get("TEST_BROKER_URL"):
        env["BROKER_DIR"] = worker_app.config["BROKER_DIR"]
    proc, log = start_worker(
        env,
        tmp_path / "kill-worker.log",
        "--pool=prefork",
        "--concurrency=1",
        "-Q",
        "killtest",
        "-n",
        f"kill-{os.getpid()}@%h",
    )
    try:
        with worker_app.app_context():
            doc = Document(
                person_id=carer_with_payments, kind="certificate", start_on=date(2025, 4, 1), end_on=date(2025, 4, 30)
            )
            db.session.add(doc)
            db.session.commit()
            doc_id = doc.id
            worker_app.extensions["celery"].send_task("tracker.documents.render", args=[doc_id], queue="killtest")
        started = _wait_for(worker_app, doc_id, lambda d: d.worker_pid is not None and d.status == "queued")
        os.kill(started.worker_pid, signal.SIGKILL)
        doc = _wait_for(worker_app, doc_id, lambda d: d.status == "ready")
        assert doc.attempts >= 2 and doc.worker_pid != started.worker_pid
        with worker_app.app_context():
            assert stored_copies(service.storage(), doc.sha256) == [doc.file_name]
            assert (
                db.session.scalar(
                    sa.select(sa.func.count(Document.id)).where(
                        Document.person_id == carer_with_payments, Document.kind == "certificate"
                    )
                )
                == 1
            )
    finally:
        stop_worker(proc, log)


def test_a_large_import_is_checked_and_written_by_a_real_worker(worker_app, carer_with_payments):
    import hashlib
    from datetime import timedelta

    from tracker.imports import batches
    from tracker.imports.models import ImportBatch

    days = [date(2025, 4, 7) + timedelta(days=i) for i in range(150)]
    data = (
        "person_id,kind,amount,paid_on\n" + "".join(f"{carer_with_payments},cash,5.00,{d}\n" for d in days)
    ).encode()
    with worker_app.app_context():
        sha = hashlib.sha256(data).hexdigest()
        batch = batches.start("payments", "big.csv", sha, len(days), actor=None, content=data)
        enqueue_after_commit(batches.RUN_TASK, batch.id)
        db.session.commit()
        batch_id = batch.id
    done = _wait_for(worker_app, batch_id, lambda b: b.status != "checking", model=ImportBatch)
    assert done.status == "waiting_approval", (done.error, done.problems)
    assert (done.rows_done, done.checks_done, done.rows_imported) == (150, 150, 150)
