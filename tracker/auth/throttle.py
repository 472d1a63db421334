"""Counting failures per account and per address, in the same storage as Flask-Limiter (Redis when
REDIS_URL is set, else memory), for limits a decorator cannot express: sign-in failures per
account, and invalid API tokens per address."""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import current_app, render_template
from limits import parse

from tracker.extensions import limiter
from tracker.timeutil import minutes_text

log = logging.getLogger(__name__)


def _on() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True)) and limiter.enabled


def _key(scope: str, who: str) -> str:
    # Email addresses are kept out of the storage: a hash names the account.
    return hashlib.sha256(f"{scope}:{who}".encode()).hexdigest()[:32]


def wait_seconds(setting: str, scope: str, who: str) -> int:
    """Seconds until ``who`` may try again under the limit in config ``setting`` (0: now). A storage
    that fails lets the request through (and says so in the log), as Flask-Limiter's own limits do."""
    if not _on():
        return 0
    item = parse(current_app.config[setting])
    key = _key(scope, who)
    try:
        if limiter.limiter.test(item, scope, key):
            return 0
        reset_at, _ = limiter.limiter.get_window_stats(item, scope, key)
    except Exception:
        log.exception("Throttling storage failed; letting the request through")
        return 0
    return max(1, math.ceil(reset_at - time.time()))


def count_failure(setting: str, scope: str, who: str) -> None:
    if not _on():
        return
    try:
        limiter.limiter.hit(parse(current_app.config[setting]), scope, _key(scope, who))
    except Exception:
        log.exception("Throttling storage failed; this failure was not counted")


def too_many(wait: int, what: str) -> tuple[str, int]:
    """The 429 page: ``what`` there have been too many of, and when to try again."""
    message = f"There have been too many {what} for this account. For your security, try again in {minutes_text(wait)}."
    return render_template("error.html", status=429, title="Too many attempts", message=message), 429
