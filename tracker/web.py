"""App-wide web wiring: sign-in loading, request ids, security headers, error pages, template helpers.

Every request has an id (``g.request_id``): the incoming ``X-Request-ID`` when it is a short safe
token, else a new one. It is on every log line of the request (``tracker.logs``) and is echoed in
the response's ``X-Request-ID`` header.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from tracker import logs
from tracker.errors import DomainError
from tracker.extensions import db, login_manager
from tracker.money import format_money
from tracker.notify.presenters import linked
from tracker.timeutil import MONTHS, day_text, minutes_text, month_text, span_text, stamp_text, when_text
from tracker.vocab import MAX_ID

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

PLAIN_TITLES = {
    400: "Something in the request was not right",
    401: "Please sign in",
    403: "You do not have access to this",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "Someone else changed this first",
    413: "That upload is too large",
    422: "Some of the information is not valid",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "The tracker is not available just now",
}

UNAVAILABLE = "The tracker cannot reach its database just now. Please try again in a minute."


def whole_numbers_up_to(n: int) -> str:
    """A regular expression for the whole numbers 1 to ``n`` written without leading zeros: the
    shorter numbers, then for each digit of ``n`` the same-length numbers that are smaller there."""
    text = str(n)
    parts = [f"[1-9][0-9]{{0,{len(text) - 2}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            parts.append(f"{text[:i]}[{low}-{int(digit) - 1}][0-9]{{{len(text) - i - 1}}}")
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` that only matches the ids a database column can hold (1 to MAX_ID). The bound is in
    the pattern, so a bigger number matches no route at all: a 404, never a 405 from a route that has
    the same path for another method."""

    regex = whole_numbers_up_to(MAX_ID)

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _page_message(status: int, err: HTTPException) -> str | None:
    """What an error page says under its title: the reason for most, nothing for 403 and 404, and for
    429 when to try again in words (never the rate limiter's own "5 per 1 minute")."""
    if status in (403, 404):
        return None
    if status == 429:
        return (
            "You have tried this too many times in a short while. For your security, "
            f"wait {minutes_text(_limit_window(err))} and try again."
        )
    return err.description


def _limit_window(err: HTTPException) -> int:
    """The seconds of the rate limit a 429 broke (a minute when it is not known): the answer's
    Retry-After, and the wait its page gives in words."""
    return int(getattr(getattr(getattr(err, "limit", None), "limit", None), "get_expiry", lambda: 60)())


def _is_api() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, fields: dict | None = None, extra: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    if extra:
        body["error"].update(extra)
    resp = jsonify(body)
    resp.status_code = status
    return resp


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # Write-ahead logging: the web app and the Celery worker share the file, and readers then never
    # wait for a writer (nor a writer for readers). Writes still take turns, and every commit is
    # still synced to disk (synchronous stays FULL). An in-memory database answers "memory".
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def init_app(app: Flask) -> None:
    """Sign-in, the request hooks (request id, security headers, rollback), error pages and the
    template helpers."""
    _init_login()
    _init_request_hooks(app)
    _init_error_handlers(app)
    _init_templates(app)


def _init_login() -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(alt_id: str):
        from tracker.auth.models import User

        user_id, _, token = alt_id.partition(":")
        if not user_id.isdigit() or not token:
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_token != token:
            return None
        return user


def _init_request_hooks(app: Flask) -> None:
    @app.before_request
    def request_id():
        g.request_id = logs.request_id_from(request.headers.get("X-Request-ID"))

    @app.after_request
    def security_headers(resp):
        h = resp.headers
        if g.get("request_id"):
            h["X-Request-ID"] = g.request_id
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path not in ("/healthz", "/readyz") and not request.path.startswith("/static/"):
            # Pages and API answers hold personal data: never kept by shared caches.
            h.setdefault("Cache-Control", "no-store")
        return resp

    @app.teardown_request
    def rollback_unfinished(exc):
        if exc is not None:
            db.session.rollback()


def _init_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(err: DomainError):
        db.session.rollback()
        if _is_api():
            return api_error(err.status, err.code, err.message, err.fields, err.extra)
        return render_template(
            "error.html", status=err.status, title=PLAIN_TITLES.get(err.status, "Error"), message=err.message
        ), err.status

    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError):
        db.session.rollback()
        return render_template(
            "error.html",
            status=400,
            title="This form has expired",
            message="For your security, forms expire. Go back, reload the page and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        status = err.code or 500
        if _is_api():
            codes = {
                400: "bad_request",
                401: "unauthorized",
                403: "forbidden",
                404: "not_found",
                405: "method_not_allowed",
                409: "conflict",
                413: "too_large",
                415: "unsupported_media_type",
                422: "invalid",
                429: "too_many_requests",
            }
            messages = {
                404: "Not found.",
                405: "This method is not allowed here.",
                401: "Send a valid API token as 'Authorization: Bearer TOKEN'.",
                403: "Your role may not do this.",
                429: "Too many requests; try again later.",
            }
            resp = api_error(status, codes.get(status, "error"), messages.get(status, err.description or "Error."))
            allowed = getattr(err, "valid_methods", None) if status == 405 else None
            if allowed:
                resp.headers["Allow"] = ", ".join(allowed)
            if status == 429:
                resp.headers["Retry-After"] = str(_limit_window(err))
            return resp
        resp = app.make_response(
            (
                render_template(
                    "error.html",
                    status=status,
                    title=PLAIN_TITLES.get(status, err.name),
                    message=_page_message(status, err),
                ),
                status,
            )
        )
        return resp

    @app.errorhandler(sa.exc.OperationalError)
    def database_unavailable(err: sa.exc.OperationalError):
        """The database is down, restarting or too slow: a 503 that needs no database to answer."""
        log.warning("Database unavailable: %s", type(err.orig).__name__ if err.orig is not None else err)
        _forget_session_and_user()
        if _is_api():
            resp = api_error(503, "unavailable", UNAVAILABLE)
        else:
            resp = app.make_response(
                (render_template("error.html", status=503, title=PLAIN_TITLES[503], message=UNAVAILABLE), 503)
            )
        resp.headers["Retry-After"] = "30"
        return resp

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        log.exception("Unexpected error")
        db.session.rollback()
        if _is_api():
            return api_error(500, "server_error", "Something went wrong on our side. Nothing was saved.")
        return render_template(
            "error.html",
            status=500,
            title=PLAIN_TITLES[500],
            message="Nothing was saved. Please try again, and tell an administrator if it keeps happening.",
        ), 500


def _forget_session_and_user() -> None:
    """After a database failure: end the session's transaction whatever state its connection is in,
    and show the page as to someone signed out (loading the user, or the user's expired attributes,
    would need the database)."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the pool replaces it
        log.warning("Could not roll back after a database failure", exc_info=True)
    g._login_user = login_manager.anonymous_user()


def _init_templates(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money

    # Dates read "7 December 2026"; times "7 December 2026 at 15:30 UK time" (tracker.timeutil).
    app.jinja_env.filters["nicedate"] = day_text
    app.jinja_env.filters["when"] = when_text
    app.jinja_env.filters["stamp"] = stamp_text
    app.jinja_env.filters["monthname"] = month_text
    app.jinja_env.filters["span"] = span_text
    app.jinja_env.globals["month_names"] = MONTHS  # month pickers name the months
    # A notification's "Label: address" lines become links (tracker.notify.presenters).
    app.jinja_env.filters["linked"] = lambda body: linked(body, str(app.config["PUBLIC_URL"]).rstrip("/"))

    @app.context_processor
    def inject():
        from tracker.people.models import PREFERENCE_LABELS
        from tracker.rules.checks import NOTICE

        # ``notice``: the safeguard notice every page that shows a verdict carries.
        return {"org_name": app.config["ORGANISATION_NAME"], "kind_labels": PREFERENCE_LABELS, "notice": NOTICE}
