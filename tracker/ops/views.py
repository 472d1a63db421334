"""The operator's endpoints: /healthz, /readyz and /metrics."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, jsonify, request

from tracker.extensions import db
from tracker.ops import bp, metrics, service
from tracker.timeutil import today, utcnow

log = logging.getLogger(__name__)
#: The classic text format, which every Prometheus server reads (what generate_latest writes).
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/healthz")
def healthz():
    """Answers without touching the database: the process is up."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """200 only when the database and the broker both answer; a quick 503 when either is down or
    hung (each probe has READY_TIMEOUT_SECONDS). The scheduled jobs' last runs and the rule pack are
    reported too, as information: a late job or stale figures never make the app unready."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    timeout = float(app.config["READY_TIMEOUT_SECONDS"])
    checks = {"database": _bounded(lambda: _database(app), timeout), "broker": _bounded(lambda: _broker(app), timeout)}
    ok = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    if checks["database"] == "ok":
        body["scheduler"] = _scheduler()
        body["rule_pack"] = _rule_pack()
    return jsonify(body), 200 if ok else 503


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


def _scheduler() -> dict:
    try:
        beats = service.heartbeats()
    except Exception as exc:
        db.session.rollback()
        return {"error": type(exc).__name__}
    db.session.rollback()
    return service.scheduler_report(beats, utcnow())


@bp.get("/metrics")
def metrics_page():
    """Prometheus metrics, for a bearer token or (by setting) a private address; 404 to anyone else."""
    if not metrics.scrape_allowed(request, current_app.config):
        abort(404)
    try:
        families = metrics.database_families(utcnow(), today())
        families.append(metrics.gauge("tracker_metrics_database_up", "1 when the database gauges were read.", 1))
    except Exception:
        log.warning("Could not read the database for the metrics", exc_info=True)
        families = [metrics.gauge("tracker_metrics_database_up", "1 when the database gauges were read.", 0)]
    finally:
        db.session.rollback()  # read only: nothing to keep
    return Response(metrics.exposition(families), headers={"Content-Type": TEXT_FORMAT})


def _rule_pack() -> dict:
    """The rule pack, reported and never failing the probe: stale figures need an admin, not a restart."""
    from tracker.rules import service as rules
    from tracker.timeutil import today

    try:
        status = rules.pack_status(today())
        db.session.rollback()
        return status
    except Exception as exc:  # report, never raise: this is a probe
        db.session.rollback()
        return {"loaded": None, "error": type(exc).__name__}
