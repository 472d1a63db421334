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


@pytest.fixture(scope="module")
def worker_env(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worker")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DATABASE_URL", "BROKER_DIR"))}
    env["DATABASE_URL"] = database_url
    broker_url = os.environ.get("TEST_BROKER_URL")
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
        env["CELERY_RESULT_BACKEND"] = broker_url
    else:
        env["BROKER_DIR"] = str(tmp / "broker")
        env["CELERY_RESULT_BACKEND"] = f"db+sqlite:///{tmp / 'results.sqlite'}"
        for sub in ("broker", "broker-processed", "broker-control"):
            (tmp / sub).mkdir()
    log = open(tmp / "worker.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wsgi:celery_app", "worker", "--pool=solo", "--loglevel=INFO",
         "-n", f"test-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield env
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
