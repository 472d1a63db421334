"""A real Celery worker process runs tasks on the configured broker.

Locally the broker is the server-less filesystem one; CI runs this again with TEST_BROKER_URL
pointing at Redis. Without a reachable broker the tests fail (they wait for a result).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import celery_settings
from tracker.extensions import db
from tracker.jobs import OutboxTask, enqueue_after_commit
from tracker.people.models import Person

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.worker


def _env(database_url, broker_dir, tmp):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DATABASE_URL", "BROKER_DIR"))}
    env["DATABASE_URL"] = database_url
    env["STORAGE_DIR"] = str(broker_dir.parent / "documents")  # the test app's folder
    broker_url = os.environ.get("TEST_BROKER_URL")
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
        env["CELERY_RESULT_BACKEND"] = broker_url
    else:
        env["BROKER_DIR"] = str(tmp / "broker")
        env["CELERY_RESULT_BACKEND"] = f"db+sqlite:///{tmp / 'results.sqlite'}"
        for sub in ("broker", "broker-processed", "broker-control"):
            (tmp / sub).mkdir(exist_ok=True)
    return env


def _start(env, log_path, *extra):
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wsgi:celery_app", "worker", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", *extra],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, log


def _stop(proc, log):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def worker_env(database_url, broker_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worker")
    env = _env(database_url, broker_dir, tmp)
    proc, log = _start(env, tmp / "worker.log", "--pool=solo", "-n", f"test-{os.getpid()}@%h")
    yield env
    _stop(proc, log)


@pytest.fixture
def worker_app(worker_env, make_app, database_url):
    broker = worker_env.get("CELERY_BROKER_URL")
    celery = celery_settings(broker, worker_env["CELERY_RESULT_BACKEND"], worker_env.get("BROKER_DIR", ""),
                             database_url)
    return make_app(CELERY=celery, BROKER_DIR=worker_env.get("BROKER_DIR", ""))


def _result(app, task_id, timeout=90):
    return app.extensions["celery"].AsyncResult(task_id).get(timeout=timeout)


def test_worker_runs_a_task_enqueued_after_commit(worker_app):
    with worker_app.app_context():
        row = enqueue_after_commit("tracker.health.ping", "hello")
        db.session.commit()
        assert db.session.get(OutboxTask, row.id).status == "sent"
        assert _result(worker_app, f"outbox-{row.id}") == "pong:hello"


def test_worker_reads_the_same_database(worker_app):
    with worker_app.app_context():
        db.session.add_all([Person(name="Worker Check A"), Person(name="Worker Check B")])
        db.session.commit()
        expected = db.session.scalar(sa.select(sa.func.count(Person.id)))
        result = worker_app.extensions["celery"].send_task("tracker.health.count_people")
        deadline = time.monotonic() + 90
        assert result.get(timeout=max(1, deadline - time.monotonic())) == expected == 2


def _wait_for(app, doc_id, predicate, timeout=120):
    from tracker.documents.models import Document

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            doc = db.session.get(Document, doc_id)
            if predicate(doc):
                return doc
            db.session.remove()
        time.sleep(0.2)
    raise AssertionError(f"document {doc_id} did not get there in {timeout} s")


@pytest.fixture
def carer_with_payments(worker_app):
    from datetime import date
    from decimal import Decimal

    from tracker.payments.models import Payment
    from tracker.people import service as people
    from tracker.rules import service as rules

    with worker_app.app_context():
        rules.ensure_default_pack()
        person = people.create_person({"name": "Siobhán Łukasz"}, actor=None)
        people.record_consent(person, date(2024, 1, 1), "v1", actor=None, today=date(2030, 1, 1))
        people.add_claim(person, "CA", date(2024, 1, 1), None, {}, actor=None)
        db.session.add(Payment(person_id=person.id, kind="cash", amount=Decimal("150.25"),
                               paid_on=date(2025, 4, 9), status="paid"))
        db.session.commit()
        return person.id


def test_statement_is_rendered_by_a_real_worker(worker_app, carer_with_payments):
    from datetime import date
    from io import BytesIO

    from pypdf import PdfReader

    from tracker.documents import service
    from tracker.people.models import Person

    with worker_app.app_context():
        doc, _ = service.request_document(db.session.get(Person, carer_with_payments), "statement",
                                          date(2025, 4, 1), date(2025, 4, 30), actor=None)
        db.session.commit()
        doc_id = doc.id
    doc = _wait_for(worker_app, doc_id, lambda d: d.status != "queued")
    assert doc.status == "ready", doc.failure_reason
    with worker_app.app_context():
        data = service.storage().read(doc.file_name)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages).split())
    assert "Siobhán Łukasz" in text and "£150.25" in text


def test_killed_child_still_gives_exactly_one_ready_document(worker_app, carer_with_payments, database_url,
                                                             broker_dir, tmp_path):
    """SIGKILL the pool process mid-render: the message is redelivered and the document ends ready once."""
    import signal
    from datetime import date

    from tracker.documents import service
    from tracker.documents.models import Document

    env = dict(_env(database_url, broker_dir, tmp_path), DOCUMENT_RENDER_DELAY_SECONDS="4")
    if "BROKER_DIR" in worker_app.config and not os.environ.get("TEST_BROKER_URL"):
        env["BROKER_DIR"] = worker_app.config["BROKER_DIR"]
    proc, log = _start(env, tmp_path / "kill-worker.log", "--pool=prefork", "--concurrency=1", "-Q", "killtest",
                       "-n", f"kill-{os.getpid()}@%h")
    try:
        with worker_app.app_context():
            doc = Document(person_id=carer_with_payments, kind="certificate", start_on=date(2025, 4, 1),
                           end_on=date(2025, 4, 30))
            db.session.add(doc)
            db.session.commit()
            doc_id = doc.id
            worker_app.extensions["celery"].send_task("tracker.documents.render", args=[doc_id], queue="killtest")
        started = _wait_for(worker_app, doc_id, lambda d: d.worker_pid is not None and d.status == "queued")
        os.kill(started.worker_pid, signal.SIGKILL)
        doc = _wait_for(worker_app, doc_id, lambda d: d.status == "ready")
        assert doc.attempts >= 2 and doc.worker_pid != started.worker_pid
        with worker_app.app_context():
            folder = service.storage().path_for(doc.file_name).parent
            assert [f.name for f in folder.iterdir() if f.name.startswith(doc.sha256)] == [doc.file_name]
            assert db.session.scalar(sa.select(sa.func.count(Document.id)).where(
                Document.person_id == carer_with_payments, Document.kind == "certificate")) == 1
    finally:
        _stop(proc, log)
