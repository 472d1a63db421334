"""Faults injected into real processes: a Redis server and Celery workers this module starts itself.

Each test stops (kill -9), hangs (SIGSTOP) or loses the data of a broker, or kills a whole worker
with -9, while the web app keeps taking requests that queue work, and then checks that requests
never waited on the broker (p95 under a second), that nothing was lost, and that everything was
delivered within two minutes of recovery. Part of the PostgreSQL and Redis run of ``.ci/run``: they
run when TEST_REDIS_URL is set, and under CI=true fail when Redis or ``redis-server`` is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import celery_settings
from tests.builders import CA, Api, person
from tests.conftest import IN_CI, start_worker, stop_worker, worker_env_vars
from tracker.extensions import db
from tracker.jobs import OutboxTask

pytestmark = pytest.mark.worker

#: "Everything delivered within two minutes after recovery."
DELIVERY_SECONDS = 120


class RedisServer:
    """A Redis server process of this test's own, on a spare port, with nothing saved to disk."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder = binary, folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen | None = None

    def url(self, number: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{number}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def hang(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        """The broker loses every message it holds."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(b"FLUSHALL\r\n")
            assert conn.recv(16).startswith(b"+OK")


@pytest.fixture
def redis_server(redis_url, tmp_path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is required under CI=true for the fault tests.")
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary, tmp_path)
    server.start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.resume()
        server.kill()


def _worker(redis: RedisServer, database_url, broker_dir, tmp: Path, name: str, **settings: str):
    """A worker with beat on the test's Redis; the outbox sweep every second, re-sends after seconds."""
    env = worker_env_vars(database_url, broker_dir, tmp)
    env.update(
        CELERY_BROKER_URL=redis.url(),
        CELERY_RESULT_BACKEND=redis.url(),
        OUTBOX_SWEEP_SECONDS="1",
        OUTBOX_REDRIVE_AFTER_SECONDS="2",
        **settings,
    )
    env.pop("BROKER_DIR", None)
    return start_worker(
        env, tmp / f"{name}.log", "--pool=solo", "-B", "-s", str(tmp / f"{name}-beat"), "-n", f"{name}-{os.getpid()}@%h"
    )


@pytest.fixture
def web(make_app, redis_server, database_url, make_user):
    """The web app on the test's Redis (broker and throttling), and an API client for a coordinator."""
    from tracker.rules import service as rules

    celery = celery_settings(redis_server.url(), redis_server.url(), "", database_url)
    app = make_app(
        CELERY=celery,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis_server.url(1),
        API_LIMIT="100000 per minute",
        READY_TIMEOUT_SECONDS=1,
        BROKER_BACKOFF_SECONDS=10,
    )
    with app.app_context():
        rules.ensure_default_pack()
        pid = person("Fault Carer", claims=[CA]).id
        db.session.commit()
    _, token = make_user("coordinator", token=True)
    return app, Api(app.test_client(), token), pid


def _ask_for_statements(api: Api, pid: int, months: range) -> list[float]:
    """Ask for one statement a month (each queues a render); the time each request took."""
    took = []
    for month in months:
        start = date(2020 + month // 12, month % 12 + 1, 1)
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1).replace(day=1)
        started = time.monotonic()
        resp = api.post(
            "/documents",
            json={"person_id": pid, "kind": "statement", "start_on": start.isoformat(), "end_on": str(end)},
        )
        took.append(time.monotonic() - started)
        assert resp.status_code == 202, resp.get_data(as_text=True)
    return took


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _all_delivered(app, within: float = DELIVERY_SECONDS) -> float:
    """Wait until every outbox row is done and every document ready; how long that took."""
    from tracker.documents.models import Document

    started = time.monotonic()
    while time.monotonic() - started < within:
        with app.app_context():
            left = db.session.scalar(sa.select(sa.func.count()).where(OutboxTask.status != "done"))
            queued = db.session.scalar(sa.select(sa.func.count()).where(Document.status != "ready"))
            db.session.remove()
        if left == 0 and queued == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"{left} outbox rows not done and {queued} documents not ready after {within} s")


def _documents(app) -> int:
    from tracker.documents.models import Document

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Document.id)).where(Document.status == "ready"))


def test_a_broker_down_or_hung_never_holds_requests_up_and_nothing_is_lost(
    web, redis_server, database_url, broker_dir, tmp_path
):
    app, api, pid = web
    proc, log = _worker(redis_server, database_url, broker_dir, tmp_path, "outage")
    try:
        _ask_for_statements(api, pid, range(0, 3))
        _all_delivered(app)

        redis_server.kill()  # down
        down = _ask_for_statements(api, pid, range(3, 23))
        assert api.get("/people").status_code == 200  # throttling on the same Redis lets reads through
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["checks"]["broker"].startswith("error")
        redis_server.start()
        _all_delivered(app)

        redis_server.hang()  # hung: connections are accepted and never answered
        hung = _ask_for_statements(api, pid, range(23, 43))
        assert api.get("/people").status_code == 200
        started = time.monotonic()
        assert app.test_client().get("/readyz").status_code == 503
        assert time.monotonic() - started < 2
        redis_server.resume()
        _all_delivered(app)
    finally:
        stop_worker(proc, log)
    assert _p95(down) < 1.0, sorted(down)
    assert _p95(hung) < 1.0, sorted(hung)
    assert _documents(app) == 43


def test_messages_the_broker_lost_are_sent_again(web, redis_server, database_url, broker_dir, tmp_path):
    app, api, pid = web
    _ask_for_statements(api, pid, range(0, 5))  # no worker yet: the messages wait in Redis ...
    with app.app_context():
        assert set(db.session.scalars(sa.select(OutboxTask.status))) == {"sent"}
    redis_server.flush()  # ... and Redis loses them (a restart without persistence, a failover)
    proc, log = _worker(redis_server, database_url, broker_dir, tmp_path, "lost")
    try:
        _all_delivered(app)
    finally:
        stop_worker(proc, log)
    assert _documents(app) == 5


def test_a_worker_killed_with_minus_9_loses_nothing(web, redis_server, database_url, broker_dir, tmp_path):
    """The whole worker (a solo pool: one process) is killed mid-render; its unacknowledged message
    is sent again by the sweep once its row has been running too long, and another worker makes it."""
    from tracker.documents.models import Document

    app, api, pid = web
    slow, slow_log = _worker(
        redis_server, database_url, broker_dir, tmp_path, "doomed", DOCUMENT_RENDER_DELAY_SECONDS="60"
    )
    try:
        _ask_for_statements(api, pid, range(0, 1))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.app_context():
                claimed = db.session.scalar(sa.select(sa.func.count()).where(Document.worker_pid.is_not(None)))
                db.session.remove()
            if claimed:
                break
            time.sleep(0.1)
        assert claimed, "the first worker never started the render"
        os.kill(slow.pid, signal.SIGKILL)
        slow.wait()
    finally:
        stop_worker(slow, slow_log)
    proc, log = _worker(redis_server, database_url, broker_dir, tmp_path, "after", OUTBOX_RESTART_AFTER_SECONDS="3")
    try:
        _all_delivered(app)
    finally:
        stop_worker(proc, log)
    assert _documents(app) == 1


# ---- the database, behind a proxy this test starts, stops and hangs ------------------------------


class Proxy:
    """``tests/tcp_proxy.py`` as a process, on a spare port, in front of ``host:port``."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        script = Path(__file__).with_name("tcp_proxy.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(self.port), self.target[0], str(self.target[1])],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        if sig == signal.SIGKILL:
            self.proc.wait()


@pytest.fixture
def proxied_database(make_app, own_postgres_url) -> Iterator[tuple]:
    """An app whose database (its own, on PostgreSQL) is reached through a proxy process."""
    url = sa.engine.make_url(own_postgres_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    app = make_app(
        SQLALCHEMY_DATABASE_URI=url.set(port=proxy.port).render_as_string(hide_password=False),
        READY_TIMEOUT_SECONDS=1,
        DATABASE_STATEMENT_TIMEOUT_SECONDS=1,
    )
    with app.app_context():
        db.create_all()
        db.session.remove()
    yield app, proxy
    if proxy.proc is not None and proxy.proc.poll() is None:
        proxy.signal(signal.SIGCONT)
        proxy.signal(signal.SIGKILL)


def _sign_in_attempt(client) -> int:
    """A request that reads the database: a wrong password answers the form again (422)."""
    return client.post("/sign-in", data={"email": "nobody@example.org", "password": "wrong password"}).status_code


def test_a_database_down_hung_or_restarted_costs_no_bare_500_and_no_long_wait(proxied_database):
    app, proxy = proxied_database
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert _sign_in_attempt(client) == 422

    # A statement that runs too long is cancelled by the server: a 503, not a hung request.
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError):
            db.session.execute(sa.text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 3
        db.session.remove()

    proxy.signal(signal.SIGSTOP)  # hung: the probe gives up quickly
    started = time.monotonic()
    ready = client.get("/readyz")
    assert time.monotonic() - started < 2.5
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"] == "error: timed out"
    proxy.signal(signal.SIGCONT)

    proxy.signal(signal.SIGKILL)  # down: every open connection is cut
    page = client.post("/sign-in", data={"email": "nobody@example.org", "password": "wrong password"})
    assert page.status_code == 503 and "not available just now" in page.get_data(as_text=True)
    assert client.get("/readyz").status_code == 503

    proxy.start()  # back (a restart): connections cut meanwhile are replaced before use
    assert _sign_in_attempt(client) == 422
    assert client.get("/readyz").status_code == 200
