"""Logging, configured once per process with ``logging.config.dictConfig``.

``configure()`` is called by the app factory and when a Celery worker starts (Celery's
``setup_logging`` signal, so the worker does not install its own handlers). The level comes from
the ``LOG_LEVEL`` environment variable (default INFO). Every line names the request or the task it
belongs to: ``ContextFilter`` puts ``request_id`` (from ``flask.g``, set by ``tracker.web``) and
``task_id`` (Celery's current task) on each record, ``-`` outside a request or a task.

What the tracker logs is counts and ids only: never a benefit's name, a person's name or any
other personal detail beyond an id.
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
import uuid
from typing import IO, Any

FORMAT = "%(asctime)s %(levelname)s %(name)s [request %(request_id)s task %(task_id)s] %(message)s"
DEFAULT_LEVEL = "INFO"
#: An incoming X-Request-ID is kept only if it is a short token of safe characters.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
NONE = "-"

_configured = False


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def checked_level(name: str | None) -> str:
    """A level's name in capitals; an empty or unknown one gives INFO."""
    name = (name or "").strip().upper()
    return name if name in LEVELS else DEFAULT_LEVEL


def level_from(environ: dict | None = None) -> str:
    """The level named in LOG_LEVEL (DEBUG, INFO, WARNING, ERROR), else INFO."""
    env = os.environ if environ is None else environ
    return checked_level(env.get("LOG_LEVEL"))


def request_id_from(header: str | None) -> str:
    """The incoming X-Request-ID when it is a short safe token, else a new random one."""
    if header and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str:
    from flask import g, has_request_context

    if not has_request_context():
        return NONE
    return g.get("request_id") or NONE


def current_task_id() -> str:
    from celery import current_task

    task = current_task
    if task is None or not getattr(task, "request", None):
        return NONE
    return task.request.id or NONE


class ContextFilter(logging.Filter):
    """Puts the request id and the task id on every record that passes (and lets it pass)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "task_id"):
            record.task_id = current_task_id()
        return True


def settings(level: str, stream: IO[str] | str = "ext://sys.stderr") -> dict[str, Any]:
    """The ``dictConfig`` mapping: one handler on the root logger, with the context filter."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"plain": {"format": FORMAT}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": stream,
                "formatter": "plain",
                "filters": ["context"],
            }
        },
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {
            # Chatty libraries stay at WARNING unless the level asked for is stricter.
            "sqlalchemy": {"level": "WARNING"},
            "werkzeug": {"level": "INFO" if level == "DEBUG" else "WARNING"},
        },
    }


def configure(level: str | None = None, *, stream: IO[str] | None = None, again: bool = False) -> bool:
    """Configure logging for this process; later calls do nothing unless ``again``.

    Returns whether it configured anything. ``stream`` (default: standard error) is for tests."""
    global _configured
    if _configured and not again:
        return False
    chosen = checked_level(level) if level else level_from()
    logging.config.dictConfig(settings(chosen, stream if stream is not None else "ext://sys.stderr"))
    _configured = True
    return True
