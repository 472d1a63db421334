"""Idempotency-Key: one request per key runs; a retry gets the first request's answer.

A request with a key first claims it: it inserts the key's record, unanswered (``status_code`` 0),
in a transaction of its own, so the unique (user, key) constraint lets one request through and
every concurrent retry sees the claim at once. The request that holds the claim runs, and its
answer is stored in the record in the request's own transaction (a 2xx), or the claim is given back
(anything else, so the request can be tried again). A retry that finds the claim waits, up to
``IDEMPOTENCY_WAIT_SECONDS``, for the answer and returns it; still waiting after that, it gets a
409 ``idempotency_key_in_progress``. A claim left by a process that died is taken over after
``ABANDONED_SECONDS``. Records are purged after ``IDEMPOTENCY_TTL_HOURS`` (``tracker.outbox.purge``).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Response
from sqlalchemy.exc import IntegrityError

from tracker.api.models import IdempotencyRecord
from tracker.extensions import db, table_of
from tracker.timeutil import utcnow
from tracker.web import api_error

#: ``status_code`` of a claim whose request is still under way.
UNANSWERED = 0
#: A claim this old was left by a request that will never answer (its process died).
ABANDONED_SECONDS = 120


def begin(user_id: int, key: str, fingerprint: str, wait_seconds: float) -> Response | None:
    """Claim the key (None: run the request), or the answer for a retry: the first request's
    response, a 422 for a key used with another request, or a 409 if the first is still under way."""
    deadline = time.monotonic() + wait_seconds
    pause = 0.02
    while True:
        if _claim(user_id, key, fingerprint):
            return None
        found = _read(user_id, key)
        if found is None:  # given back meanwhile: claim it again
            continue
        if found.request_hash != fingerprint:
            return api_error(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request.",
                {"Idempotency-Key": ["Use a new key for a different request."]},
            )
        if found.status_code != UNANSWERED:
            return _replay(found)
        if found.created_at <= utcnow() - timedelta(seconds=ABANDONED_SECONDS):
            _give_back(user_id, key)
            continue
        if time.monotonic() >= deadline:
            return api_error(
                409,
                "idempotency_key_in_progress",
                "A request with this Idempotency-Key is still being processed. Try again shortly.",
            )
        time.sleep(pause)
        pause = min(0.2, pause * 2)


def answer(user_id: int, key: str, resp: Response) -> None:
    """Store the answer of the request that holds the claim, in its own transaction; flushes."""
    db.session.execute(
        sa.update(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .values(status_code=resp.status_code, body=resp.get_data(as_text=True))
    )


def give_back(user_id: int, key: str) -> None:
    """The request that held the claim did not succeed: the key may be used again."""
    _give_back(user_id, key)


def purge(older_than_hours: int, now: datetime | None = None) -> int:
    """Delete records older than the retention; flushes. Returns how many."""
    cutoff = (now or utcnow()) - timedelta(hours=older_than_hours)
    result = db.session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def _claim(user_id: int, key: str, fingerprint: str) -> bool:
    table = table_of(IdempotencyRecord)
    try:
        with db.engine.begin() as conn:
            conn.execute(
                table.insert().values(
                    user_id=user_id,
                    key=key,
                    request_hash=fingerprint,
                    status_code=UNANSWERED,
                    body="",
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        return False
    return True


def _read(user_id: int, key: str):
    table = table_of(IdempotencyRecord)
    with db.engine.connect() as conn:
        return conn.execute(
            sa.select(table.c.request_hash, table.c.status_code, table.c.body, table.c.created_at).where(
                table.c.user_id == user_id, table.c.key == key
            )
        ).first()


def _give_back(user_id: int, key: str) -> None:
    table = table_of(IdempotencyRecord)
    with db.engine.begin() as conn:
        conn.execute(
            table.delete().where(table.c.user_id == user_id, table.c.key == key, table.c.status_code == UNANSWERED)
        )


def _replay(found) -> Response:
    resp = Response(found.body, status=found.status_code, mimetype="application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    return resp
