"""The health endpoints' routes: /healthz and /readyz."""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app, jsonify

from tracker.extensions import db
from tracker.ops import bp


@bp.get("/healthz")
def healthz():
    """Answers without touching the database: the process is up."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """200 only when the database and the broker both answer; a quick 503 when either is down or
    hung (each probe has READY_TIMEOUT_SECONDS)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    timeout = float(app.config["READY_TIMEOUT_SECONDS"])
    checks = {"database": _bounded(lambda: _database(app), timeout), "broker": _bounded(lambda: _broker(app), timeout)}
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ok else "unavailable", "checks": checks}), 200 if ok else 503


def _database(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def _broker(app: Flask) -> None:
    with app.extensions["celery"].connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=float(app.config["READY_TIMEOUT_SECONDS"]))


def _bounded(probe: Callable[[], None], timeout: float) -> str:
    """Run the probe in a thread of its own: "ok", the error's name, or "error: timed out" once the
    timeout has passed (a hung server never holds the answer up; the thread is left to end)."""
    outcome: list[str] = []

    def run() -> None:
        try:
            probe()
            outcome.append("ok")
        except Exception as exc:  # report, never raise: this is a probe
            outcome.append(f"error: {type(exc).__name__}")

    thread = threading.Thread(target=run, name="readyz-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else "error: timed out"
