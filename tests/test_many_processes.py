"""Many processes, proven: two gunicorn workers, two Celery workers and one beat, as in production.

One cluster for the module, on a PostgreSQL database of its own and the Redis of TEST_REDIS_URL
(sign-in counts, the broker and task results), every process started here with the settings in
``process_env`` and killed (its whole process group) at the end. Over HTTP and the broker:

1. failed sign-ins spread over both web processes meet the limit at the configured count, not twice it;
2. 200 statements asked for through both web processes make exactly 200 ready documents, rendered by
   both workers;
3. two risk scans started at once run once (the lease in ``job_lock``);
4. a worker killed (SIGKILL, pool and all) in the middle of a render loses nothing: Redis hands its
   message to the other worker once CELERY_VISIBILITY_TIMEOUT has passed.

Without TEST_POSTGRES_URL and TEST_REDIS_URL the module skips locally and fails under CI=true
(``.ci/run``'s second run sets both). The last test needs no service: production refuses to start
two web processes without REDIS_URL.
"""

from __future__ import annotations

import calendar
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa
from celery import current_app as celery_current_app

from config import celery_settings
from tests import builders
from tests.builders import CA, PASSWORD
from tests.conftest import ROOT, base_config, s3_settings, scratch_postgres
from tracker import create_app
from tracker.extensions import db
from tracker.timeutil import utcnow

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis]

#: Seconds before Redis hands a killed worker's message to another worker (production: 3600).
VISIBILITY_TIMEOUT = 15
#: Worker "a" renders this much slower, so that the test can catch it in the middle of a render.
SLOW_RENDER_SECONDS = "2"
PEOPLE = 10
MONTHS = 20  # PEOPLE x MONTHS = 200 different statements
STARTUP_SECONDS = 180


# ---- the settings every process gets --------------------------------------------------------


@pytest.fixture(scope="module")
def document_storage(s3_server) -> dict[str, str]:
    """Where documents go, as settings for every process: a bucket of the real S3-compatible server
    the run started (conftest ``s3_server``), as a network of machines would share one."""
    return {k: str(v) for k, v in s3_settings(s3_server, bucket="tracker-procs").items()}


@pytest.fixture(scope="module")
def cluster_database(postgres_url) -> Iterator[str]:
    with scratch_postgres(postgres_url, "tracker_procs") as url:
        yield url


@pytest.fixture(scope="module")
def process_env(cluster_database, redis_url, document_storage) -> dict[str, str]:
    """The environment of every process the cluster starts (the test's own minus any Celery or
    database settings), production-like but for TRACKER_ENV=test (plain-HTTP cookies)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "CELERY_",
                "DATABASE_URL",
                "BROKER_DIR",
                "STORAGE_DIR",
                "DOCUMENT_STORAGE",
                "S3_",
                "REDIS_URL",
                "WEB_",
                "GUNICORN",
            )
        )
    }
    settings = {
        "TRACKER_ENV": "test",
        "SECRET_KEY": "many-processes-" + "s" * 32,
        "DATABASE_URL": cluster_database,
        "REDIS_URL": redis_url,  # sign-in counts
        "CELERY_BROKER_URL": redis_url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "LOG_LEVEL": "INFO",
        **document_storage,
    }
    return env | settings


# ---- the cluster ------------------------------------------------------------------------------


@dataclass
class Cluster:
    url: str
    app: object
    token: str
    email: str
    people: list[int]
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def served_by(self, method: str, path: str) -> set[str]:
        """The gunicorn worker pids that answered ``method path`` (from the access log)."""
        pids = set()
        for line in (self.logs / "access.log").read_text().splitlines():
            pid, m, p, _ = line.split(" ")
            if m == method and p == path:
                pids.add(pid)
        return pids

    def scalar(self, query):
        with self.app.app_context():
            try:
                return db.session.scalar(query)
            finally:
                db.session.remove()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(name: str, argv: list[str], env: dict, logs: Path) -> subprocess.Popen:
    """A process in a group of its own (so its children die with it), its output in ``logs/name.log``."""
    with open(logs / f"{name}.log", "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *argv],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _stop_all(procs: list[subprocess.Popen]) -> None:
    """TERM to every process group at once; KILL whatever is still there after 15 s."""
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in procs:
        if proc.poll() is None:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=15)


def wait_until(what: str, check: Callable[[], object], timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"Waited {timeout} s: {what}")


def _seed(app) -> tuple[str, str, list[int]]:
    """Rules, ten people claiming Carer's Allowance with a payment each, a coordinator with an API
    token, and an account to fail signing in to."""
    from flask_migrate import upgrade

    from tracker.ops import service as ops
    from tracker.rules import service as rules

    with app.app_context():
        upgrade()
        rules.ensure_default_pack()
        people = [builders.person(f"Process Person {i}", claims=[CA]).id for i in range(PEOPLE)]
        for pid in people:
            builders.payment(pid, "40.00", date(2025, 4, 9))
        token = builders.token(builders.user("coordinator"))
        email = builders.user("coordinator").email
        ops.record_heartbeat(ops.RISK_SCAN)
        db.session.commit()
        db.session.remove()
    return token, email, people


def _celery(name: str, hostname: str, *extra: str) -> list[str]:
    return ["celery", "-A", "wsgi:celery_app", name, "--loglevel=INFO", *(["-n", hostname] if hostname else []), *extra]


def _start_all(cluster: Cluster, env: dict, port: int) -> None:
    logs = cluster.logs
    gunicorn = ["gunicorn", "--config", "deploy/gunicorn.conf.py", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    gunicorn += ["--access-logfile", str(logs / "access.log"), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s"]
    cluster.procs["web"] = _start("web", [*gunicorn, "wsgi:app"], env, logs)
    worker = ("worker", "--concurrency=1", "--without-gossip", "--without-mingle")
    slow = env | {"DOCUMENT_RENDER_DELAY_SECONDS": SLOW_RENDER_SECONDS}
    cluster.procs["a"] = _start("a", _celery(worker[0], "procs-a@%h", *worker[1:]), slow, logs)
    cluster.procs["b"] = _start("b", _celery(worker[0], "procs-b@%h", *worker[1:]), env, logs)
    beat = _celery("beat", "", "--schedule", str(logs / "beat-schedule"))
    cluster.procs["beat"] = _start("beat", beat, env, logs)


def _ready(cluster: Cluster) -> bool:
    for name, proc in cluster.procs.items():
        assert proc.poll() is None, f"{name} stopped:\n{cluster.log(name)[-3000:]}"
    if not all(" ready." in cluster.log(w) for w in ("a", "b")):
        return False
    try:
        return requests.get(cluster.url + "/healthz", timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or its workers still loading the app
        return False


@pytest.fixture(scope="module")
def cluster(process_env, cluster_database, redis_url, document_storage, tmp_path_factory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("processes")
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()  # no message or sign-in count left by another run
    previous_default = celery_current_app._get_current_object()  # create_app makes its Celery the default
    celery = celery_settings(redis_url, None, "", cluster_database, VISIBILITY_TIMEOUT)
    app = create_app(base_config(cluster_database, logs / "unused-broker", CELERY=celery, **document_storage))
    procs: dict[str, subprocess.Popen] = {}
    try:
        port = _free_port()
        made = Cluster(f"http://127.0.0.1:{port}", app, *_seed(app), logs, procs)
        _start_all(made, process_env, port)
        wait_until("the web app and both workers to start", lambda: _ready(made), STARTUP_SECONDS, every=0.5)
        yield made
    finally:
        _stop_all(list(procs.values()))
        with app.app_context():
            db.engine.dispose()
        previous_default.set_default()
        broker.flushdb()
        broker.close()


def _children(pid: int) -> set[int]:
    """The pids of a process's children (a Celery worker's pool processes)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{pid}$", text, re.M):
            found.add(int(status.parent.name))
    return found


# ---- 1. sign-in throttling ------------------------------------------------------------------


def _sign_in_form(url: str) -> tuple[dict, str]:
    resp = requests.get(url + "/sign-in", timeout=10)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', resp.text)
    assert resp.status_code == 200 and match, resp.text[:500]
    return resp.cookies.get_dict(), match.group(1)


def test_sign_in_throttling_counts_across_web_processes(cluster):
    """Each attempt is a new connection, eight at a time. The limit is 5 (per address, and per
    account): exactly five wrong passwords are answered and every other attempt is 429, as one
    process would do, while both gunicorn workers answer. Counted in each process's memory, a worker
    would answer five of its own before its first 429 (up to ten in all)."""
    cookies, csrf = _sign_in_form(cluster.url)
    form = {"csrf_token": csrf, "email": cluster.email, "password": "not the password at all"}

    def attempt(_: int) -> int:
        return requests.post(cluster.url + "/sign-in", data=form, cookies=cookies, timeout=30).status_code

    codes: list[int] = []
    with ThreadPoolExecutor(8) as pool:
        # More attempts until both workers have answered some (which one accepts is the kernel's choice).
        for _ in range(25):
            codes += pool.map(attempt, range(16))
            if len(cluster.served_by("POST", "/sign-in")) == 2:
                break
    assert len(cluster.served_by("POST", "/sign-in")) == 2, "one web process answered every attempt"
    assert sorted(codes) == [422] * 5 + [429] * (len(codes) - 5), codes
    right = dict(form, password=PASSWORD)
    assert requests.post(cluster.url + "/sign-in", data=right, cookies=cookies, timeout=30).status_code == 429


# ---- 2. two hundred statements ----------------------------------------------------------------


def _month(i: int) -> tuple[str, str]:
    """The first and last day of the i-th month from January 2024."""
    year, month = divmod(i, 12)
    start = date(2024 + year, month + 1, 1)
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return start.isoformat(), end.isoformat()


def _ask(cluster: Cluster, bodies: list[dict]) -> list[requests.Response]:
    headers = {"Authorization": f"Bearer {cluster.token}"}

    def post(body: dict) -> requests.Response:
        return requests.post(cluster.url + "/api/v1/documents", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(post, bodies))


def _ready_count(cluster: Cluster, ids: list[int]) -> int:
    from tracker.documents.models import Document

    query = sa.select(sa.func.count(Document.id)).where(Document.id.in_(ids), Document.status == "ready")
    return cluster.scalar(query)


def test_two_hundred_statements_through_both_web_processes_make_200_documents(cluster):
    from tracker.documents.models import Document

    bodies = [
        dict(person_id=pid, kind="statement", start_on=start, end_on=end)
        for pid in cluster.people
        for start, end in map(_month, range(MONTHS))
    ]
    answers = _ask(cluster, bodies)
    assert [r.status_code for r in answers] == [202] * 200, [r.text for r in answers if r.status_code != 202][:3]
    ids = sorted({r.json()["id"] for r in answers})
    assert len(ids) == 200
    wait_until("200 ready documents", lambda: _ready_count(cluster, ids) == 200, timeout=240, every=0.5)
    assert cluster.scalar(sa.select(sa.func.count(Document.id))) == 200
    assert cluster.scalar(sa.select(sa.func.count(sa.distinct(Document.sha256)))) == 200
    assert len(cluster.served_by("POST", "/api/v1/documents")) == 2, "one web process took every request"
    for worker in ("a", "b"):
        assert "rendered:" in cluster.log(worker), f"worker {worker} rendered nothing"
    headers = {"Authorization": f"Bearer {cluster.token}"}
    pdf = requests.get(f"{cluster.url}/api/v1/documents/{ids[0]}/file", headers=headers, timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


# ---- 3. two scans at once -------------------------------------------------------------------


def test_two_scans_started_at_once_run_once(cluster):
    """The test holds the scan's heartbeat row locked, so a scan that gets the lease waits at its
    very end, still holding it: the other scan, on the other worker, finds the lease taken and does
    nothing. Let go, the first finishes. Without the lease both would scan (and wait)."""
    from tracker.risks.models import JobLock

    celery = cluster.app.extensions["celery"]
    engine = sa.create_engine(cluster.app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT beat_at FROM heartbeat WHERE name = 'risk-scan' FOR UPDATE"))
            scans = [celery.send_task("tracker.risks.scan", ignore_result=False) for _ in range(2)]
            done = wait_until("one scan to finish", lambda: [s for s in scans if s.ready()], timeout=60)
            assert [s.get(timeout=5) for s in done] == [{"skipped": True, "raised": 0, "resolved": 0}]
            time.sleep(1)
            assert sum(s.ready() for s in scans) == 1, "the other scan did not wait for the lease holder"
            conn.rollback()
        results = [s.get(timeout=60) for s in scans]
    finally:
        engine.dispose()
    assert sorted(r["skipped"] for r in results) == [False, True], results
    lock = cluster.scalar(sa.select(JobLock).where(JobLock.name == "risk-scan"))
    assert lock is not None and lock.locked_until < utcnow(), "the lease was not given back"


# ---- 4. a worker killed mid-render ----------------------------------------------------------


def test_a_worker_killed_mid_render_loses_nothing(cluster):
    """Worker a is slow (a test hook); once it has claimed a document, SIGKILL takes it and its pool
    process. Worker b renders the rest, and the killed one once Redis gives its message back."""
    from tracker.documents.models import Document

    worker = cluster.procs["a"]
    pool = _children(worker.pid)
    assert pool, "worker a has no pool process"
    bodies = [
        dict(person_id=pid, kind="certificate", start_on="2025-04-01", end_on="2025-04-30") for pid in cluster.people
    ]
    answers = _ask(cluster, bodies)
    assert [r.status_code for r in answers] == [202] * len(bodies)
    ids = [r.json()["id"] for r in answers]

    def claimed_by_a():
        return cluster.scalar(
            sa.select(Document.id).where(
                Document.id.in_(ids), Document.status == "queued", Document.worker_pid.in_(pool)
            )
        )

    caught = wait_until("worker a to start a render", claimed_by_a, timeout=60, every=0.02)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=15)
    assert cluster.scalar(sa.select(Document.status).where(Document.id == caught)) == "queued"
    wait_until(
        "every document after the kill", lambda: _ready_count(cluster, ids) == len(ids), timeout=VISIBILITY_TIMEOUT + 90
    )
    doc = cluster.scalar(sa.select(Document).where(Document.id == caught))
    assert doc.attempts >= 2 and doc.worker_pid in _children(cluster.procs["b"].pid)
    kinds = sa.select(sa.func.count(Document.id)).where(Document.kind == "certificate")
    assert cluster.scalar(kinds) == len(ids)


# ---- the production guard, end to end -------------------------------------------------------


def test_production_gunicorn_with_two_workers_refuses_to_start_without_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "WEB_", "GUNICORN"))}
    env |= {"TRACKER_ENV": "production", "SECRET_KEY": "p" * 48, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    argv = ["gunicorn", "--config", "deploy/gunicorn.conf.py", "--workers", "2", "--bind", f"127.0.0.1:{_free_port()}"]
    proc = _start("web", [*argv, "wsgi:app"], env, tmp_path)
    try:
        proc.wait(timeout=60)
    finally:
        _stop_all([proc])
    output = (tmp_path / "web.log").read_text()
    assert proc.returncode != 0
    assert "2 web processes are configured" in output and "set REDIS_URL" in output, output[-2000:]
