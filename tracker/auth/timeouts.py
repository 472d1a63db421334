"""Page sessions end after SESSION_IDLE_SECONDS without a request (30 minutes) and
SESSION_ABSOLUTE_SECONDS after signing in (12 hours), for staff and contributors alike.

The sign-in time and the last-seen time live in the signed session cookie; a session without them
(from before this rule) counts as ended. The API is untouched: it uses bearer tokens, not sessions.
"""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from tracker.auth import bp

SIGNED_IN_AT, SEEN_AT = "signed_in_at", "seen_at"
#: The last-seen time is written again only when it is this stale, so most requests leave the cookie as it is.
SEEN_RESOLUTION = 60


def _now() -> int:
    return int(time.time())


def started() -> None:
    """Call right after login_user: the session's clocks start now."""
    now = _now()
    session[SIGNED_IN_AT] = session[SEEN_AT] = now


def _why_ended(now: int) -> str | None:
    signed_in, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in, int) or not isinstance(seen, int):
        return "Please sign in again."
    cfg = current_app.config
    if now - signed_in > cfg["SESSION_ABSOLUTE_SECONDS"]:
        hours = cfg["SESSION_ABSOLUTE_SECONDS"] // 3600
        return f"For your security you were signed out {hours} hours after signing in. Please sign in again."
    if now - seen > cfg["SESSION_IDLE_SECONDS"]:
        minutes = cfg["SESSION_IDLE_SECONDS"] // 60
        return f"For your security you were signed out after {minutes} minutes without activity. Please sign in again."
    return None


@bp.before_app_request
def end_stale_sessions() -> Response | None:
    if request.blueprint == "api" or request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    now = _now()
    reason = _why_ended(now)
    if reason is None:
        if now - session[SEEN_AT] >= SEEN_RESOLUTION:
            session[SEEN_AT] = now
        return None
    logout_user()
    session.pop(SIGNED_IN_AT, None)
    session.pop(SEEN_AT, None)
    flash(reason, "info")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.sign_in", next=target))
