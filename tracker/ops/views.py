"""The health endpoints' routes: /healthz and /readyz."""

import sqlalchemy as sa
from flask import current_app, jsonify

from tracker.extensions import db
from tracker.ops import bp


@bp.get("/healthz")
def healthz():
    """Answers without touching the database: the process is up."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """200 only when the database and the broker both answer."""
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is a probe
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        celery_app = current_app.extensions["celery"]
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ok else "unavailable", "checks": checks, "rule_pack": _rule_pack()}), (
        200 if ok else 503
    )


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
