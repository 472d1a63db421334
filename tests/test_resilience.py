"""Faults that neither stall the web tier nor lose work, in-process: a database or throttling store
that is down or hung, and concurrent retries with one Idempotency-Key. (tests/test_faults.py injects
the same faults into real Redis, worker and web processes.)"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from flask import jsonify

from tests.builders import PASSWORD, assert_error
from tracker.api.base import authenticate, writes
from tracker.extensions import db


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a server stopped with SIGSTOP."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def closed_port() -> int:
    """A port nobody listens on: a server that is down."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _pg(port: int) -> str:
    return f"postgresql+psycopg://tracker@127.0.0.1:{port}/tracker"


def test_readyz_answers_503_quickly_when_the_database_hangs(make_app, hung_port):
    app = make_app(SQLALCHEMY_DATABASE_URI=_pg(hung_port), READY_TIMEOUT_SECONDS=1)
    started = time.monotonic()
    resp = app.test_client().get("/readyz")
    assert time.monotonic() - started < 2.5
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"] == "error: timed out"


def test_readyz_answers_503_quickly_when_the_broker_hangs(make_app, hung_port):
    from config import celery_settings

    url = f"redis://127.0.0.1:{hung_port}/0"
    app = make_app(CELERY=celery_settings(url, url, "", "sqlite://"), READY_TIMEOUT_SECONDS=1)
    started = time.monotonic()
    resp = app.test_client().get("/readyz")
    assert time.monotonic() - started < 2.5
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["broker"].startswith("error")
    assert resp.get_json()["checks"]["database"] == "ok"


def test_database_down_is_a_503_page_that_needs_no_database(app, make_app, make_user, closed_port):
    """A signed-in user's page and an API call, with the database gone: a plain 503, never a bare 500."""
    from tracker.auth.models import User

    uid, token = make_user("coordinator", token=True)
    with app.app_context():
        email = db.session.get(User, uid).email
    working = app.test_client()
    assert working.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302
    down = make_app(SQLALCHEMY_DATABASE_URI=_pg(closed_port))
    client = down.test_client()
    client.set_cookie("session", working.get_cookie("session").value)
    page = client.get("/people/")
    assert page.status_code == 503
    assert "The tracker is not available just now" in page.get_data(as_text=True)
    assert page.headers["Retry-After"] == "30"
    api = client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})
    assert_error(api, 503, "unavailable")


def test_engine_checks_connections_and_bounds_connecting_and_statements(make_app, closed_port):
    app = make_app(
        SQLALCHEMY_DATABASE_URI=_pg(closed_port),
        DATABASE_CONNECT_TIMEOUT_SECONDS=3,
        DATABASE_STATEMENT_TIMEOUT_SECONDS=20,
    )
    opts = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert opts["pool_pre_ping"] is True
    assert opts["connect_args"] == {"connect_timeout": 3, "options": "-c statement_timeout=20000"}


def test_postgresql_statement_timeout_and_a_restarted_database_costs_no_request(make_app, own_postgres_url):
    """Every connection has the statement timeout; connections the server dropped (a restart) are
    replaced before use, so the next request succeeds."""
    import sqlalchemy as sa

    app = make_app(SQLALCHEMY_DATABASE_URI=own_postgres_url, DATABASE_STATEMENT_TIMEOUT_SECONDS=7)
    with app.app_context():
        db.create_all()
        assert db.session.scalar(sa.text("SHOW statement_timeout")) == "7s"
        db.session.remove()
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert client.get("/sign-in").status_code == 200
    name = sa.engine.make_url(own_postgres_url).database
    admin = sa.create_engine(own_postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.scalar(
            sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :d"), {"d": name}
        )
    admin.dispose()
    assert killed >= 1
    resp = client.post("/sign-in", data={"email": "nobody@example.org", "password": "wrong password"})
    assert resp.status_code == 422  # the form again, with its error: not a 503 nor a 500


@pytest.mark.parametrize("port_fixture", ["closed_port", "hung_port"])
def test_throttling_store_down_or_hung_lets_requests_through_and_logs_it(
    make_app, make_user, request, port_fixture, caplog
):
    port = request.getfixturevalue(port_fixture)
    _, token = make_user("coordinator", token=True)
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}")
    client = app.test_client()
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    for _ in range(3):
        assert client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    bad = client.get("/api/v1/people", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    sign_in = client.post("/sign-in", data={"email": "x@example.org", "password": "wrong password"})
    assert sign_in.status_code in (200, 422)
    assert time.monotonic() - started < 5
    assert any("storage" in r.getMessage().lower() for r in caplog.records), [r.getMessage() for r in caplog.records]


# ---- Idempotency-Key under concurrency --------------------------------------------------------


@pytest.fixture
def slow_write(make_app, make_user):
    """An app with a slow API write that counts its runs; returns (app, token, runs)."""
    app = make_app(IDEMPOTENCY_WAIT_SECONDS=5)
    runs: list[int] = []

    @app.post("/api/v1/_slow")
    def _slow_entry():
        assert authenticate() is None  # the API blueprint's hook, for a route added outside it
        return writes(_slow)()

    def _slow():
        runs.append(1)
        if len(runs) == 1:
            time.sleep(0.6)
            return jsonify({"run": len(runs)}), 201
        # The first request's effect makes a second run fail (a limit now reached, already approved).
        return jsonify({"error": {"code": "conflict", "message": "Already done.", "fields": {}}}), 409

    _, token = make_user("coordinator", token=True)
    return app, token, runs


def _post(app, token, key, body=None):
    return app.test_client().post(
        "/api/v1/_slow", json=body or {"a": 1}, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    )


def test_a_concurrent_retry_waits_for_the_first_and_gets_its_answer(slow_write):
    app, token, runs = slow_write
    answers: dict[str, object] = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", _post(app, token, "k-1")))
    first.start()
    time.sleep(0.2)  # the first is under way
    second = _post(app, token, "k-1")
    first.join()
    one = answers["first"]
    assert one.status_code == second.status_code == 201  # type: ignore[attr-defined]
    assert second.get_json() == one.get_json() == {"run": 1}  # type: ignore[attr-defined]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert runs == [1]


def test_a_retry_still_waiting_after_the_limit_is_a_409_and_a_failed_first_frees_the_key(slow_write, make_app):
    app, token, runs = slow_write
    app.config["IDEMPOTENCY_WAIT_SECONDS"] = 0
    first = threading.Thread(target=lambda: _post(app, token, "k-2"))
    first.start()
    time.sleep(0.2)
    assert_error(_post(app, token, "k-2"), 409, "idempotency_key_in_progress")
    assert_error(_post(app, token, "k-2", {"a": 2}), 422, "idempotency_key_reused")
    first.join()
    assert _post(app, token, "k-2").headers["Idempotent-Replayed"] == "true"
    # A request that did not succeed gives its key back: the same key may be tried again.
    assert _post(app, token, "k-3").status_code == 409
    assert _post(app, token, "k-3").status_code == 409
    assert len(runs) == 3
