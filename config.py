"""Configuration: safe defaults, then the environment, then explicit overrides.

Nothing here reads a file or opens a connection. ``load_config(environ)`` turns environment
variables into a mapping that ``tracker.create_app`` applies on top of ``Defaults``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

DEV_SECRET_KEY = "dev-only-not-secret"
# Encrypts bank details in development and tests only; production refuses it (tracker/runs/crypto.py).
DEV_BANK_DETAILS_KEY = "ZGV2LW9ubHktYmFuay1kZXRhaWxzLWtleS0xMjM0NTY="

#: The only TRACKER_ENV values that get development defaults (the development SECRET_KEY, insecure
#: cookies). Any other value, or none at all, is production: fail closed.
DEVELOPMENT_ENVS = ("development", "test")
#: How a yes is written in an on/off setting; anything else is off.
TRUE_WORDS = ("1", "true", "yes", "on")


class Defaults:
    """Settings for running on one machine with nothing installed but Python."""

    # Unset means production (fail closed): dev.py sets TRACKER_ENV=development, the tests "test".
    ENV_NAME = "production"
    SECRET_KEY = ""
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'tracker.sqlite'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    STORAGE_DIR = str(INSTANCE_DIR / "documents")
    BROKER_DIR = str(INSTANCE_DIR / "broker")
    ORGANISATION_NAME = "Riverside Co-production Network"
    # Signs earnings records (an Ed25519 private key, PEM or base64 of 32 bytes); in development and
    # test a key is made once in the instance folder; production signs nothing without it.
    EARNINGS_SIGNING_KEY = ""
    # Sign-in throttling: counted in Redis when REDIS_URL is set, else in memory.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_LIMIT = "5 per minute;20 per hour"
    # Failed sign-ins per account (whatever the address), then "try again in N minutes".
    SIGN_IN_ACCOUNT_LIMIT = "5 per 15 minutes"
    # Requests with an invalid API token, per address, before 429s.
    API_BAD_TOKEN_LIMIT = "20 per minute"
    # Page sessions end after this long without a request, and this long after signing in.
    SESSION_IDLE_SECONDS = 30 * 60
    # A second factor (one-time codes) for admin and finance: None means "on in production, off in
    # development and test"; REQUIRE_2FA in the environment decides otherwise (tracker/auth/two_factor.py).
    REQUIRE_2FA: bool | None = None
    SESSION_ABSOLUTE_SECONDS = 12 * 3600
    API_LIMIT = "600 per minute"
    # How many reverse proxies sit in front of the app (their X-Forwarded-* headers are trusted).
    TRUSTED_PROXIES = 0
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    # Mail: when SMTP_HOST is empty, notifications go to the outbox table shown in the app.
    SMTP_HOST = ""
    SMTP_PORT = 587
    SMTP_USER = ""
    SMTP_PASSWORD = ""
    SMTP_FROM = "tracker@localhost"
    SMTP_STARTTLS = True
    # Accounts: a set-password link (invitation or reset) works once, for this many hours. Links start
    # with PUBLIC_URL in production (never the request's Host header); in development and tests, pages
    # use the address they were opened at.
    INVITE_LINK_HOURS = 72
    PUBLIC_URL = "http://127.0.0.1:5000"
    # Idempotency keys are kept at least this long (hours).
    IDEMPOTENCY_TTL_HOURS = 48
    # Outbox rows still pending after this many seconds are re-driven by the sweep.
    OUTBOX_REDRIVE_AFTER_SECONDS = 60
    # Documents still queued after this long are queued again by the sweep.
    DOCUMENT_REDRIVE_AFTER_SECONDS = 600
    CELERY: dict = {}
    # /metrics (docs/operations.md): off (404) unless a bearer token is set, or private and loopback
    # addresses are allowed to scrape without one.
    METRICS_TOKEN = ""
    METRICS_ALLOW_PRIVATE = False
    # Logging (tracker/logs.py): DEBUG, INFO, WARNING or ERROR, from LOG_LEVEL.
    LOG_LEVEL = "INFO"
    # Bank details: Fernet keys, comma-separated; the first encrypts, all decrypt (key rotation).
    BANK_DETAILS_KEYS = DEV_BANK_DETAILS_KEY
    # The originator of Bacs Standard 18 payment files (docs/payment-runs.md).
    BACS_SERVICE_USER_NUMBER = "000000"
    BACS_SORT_CODE = "000000"
    BACS_ACCOUNT_NUMBER = "00000000"
    BACS_ACCOUNT_NAME = "CO-PRODUCTION PAYS"


def _celery_defaults(broker_dir: str, result_db_uri: str) -> dict:
    return {
        "broker_url": "filesystem://",
        "broker_transport_options": {
            "data_folder_in": broker_dir,
            "data_folder_out": broker_dir,
            "processed_folder": broker_dir + "-processed",
            "control_folder": broker_dir + "-control",
            "store_processed": False,
            # How often an idle worker looks for new messages (the default is once a second).
            "polling_interval": 0.1,
        },
        "result_backend": "db+" + result_db_uri,
    }


def _crontab(**kw):
    from celery.schedules import crontab as celery_crontab

    return celery_crontab(**kw)


crontab = _crontab


def celery_settings(broker_url: str | None, result_backend: str | None, broker_dir: str, database_uri: str) -> dict:
    """Celery settings shared by every run: JSON only, late acks, one message at a time."""
    if broker_url:
        settings: dict = {"broker_url": broker_url, "result_backend": result_backend or broker_url}
        if broker_url.startswith(("redis://", "rediss://")):
            # The hard time limit below must stay under the visibility timeout, or Redis
            # re-delivers a task that is still running.
            settings["broker_transport_options"] = {"visibility_timeout": 3600}
    else:
        result_uri = result_backend or database_uri
        settings = _celery_defaults(broker_dir, result_uri.removeprefix("db+"))
    settings.update(
        {
            "task_serializer": "json",
            "result_serializer": "json",
            "accept_content": ["json"],
            "task_ignore_result": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_time_limit": 600,
            "task_soft_time_limit": 540,
            "broker_connection_retry_on_startup": True,
            "timezone": "Europe/London",
            "beat_schedule": {
                "outbox-sweep": {"task": "tracker.outbox.sweep", "schedule": 60.0},
                "documents-redrive": {"task": "tracker.documents.redrive", "schedule": 300.0},
                # Every hour at five past, so the day's first scan (which keeps everyone's
                # position for the dashboard, tracker/risks/positions.py) runs soon after midnight.
                "risk-scan": {"task": "tracker.risks.scan", "schedule": crontab(minute=5)},
                "risk-digest": {"task": "tracker.risks.digest", "schedule": crontab(hour=7, minute=30)},
            },
        }
    )
    return settings


def _normalise_db_url(url: str) -> str:
    # Hosting platforms often hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def is_development(env_name: str) -> bool:
    """True only for the exact names in DEVELOPMENT_ENVS: ``Production``, ``prod`` or "" are production."""
    return env_name in DEVELOPMENT_ENVS


def require_2fa(setting: bool | None, env_name: str) -> bool:
    """REQUIRE_2FA as set, or else on everywhere but development and test."""
    return (not is_development(env_name)) if setting is None else bool(setting)


def _switches(env: Mapping[str, str]) -> dict:
    """On/off settings given in the environment."""
    out: dict = {}
    if env.get("REQUIRE_2FA"):
        out["REQUIRE_2FA"] = env["REQUIRE_2FA"].strip().lower() in TRUE_WORDS
    if env.get("METRICS_ALLOW_PRIVATE"):
        out["METRICS_ALLOW_PRIVATE"] = env["METRICS_ALLOW_PRIVATE"].strip().lower() in TRUE_WORDS
    if env.get("FLASK_DEBUG") in ("1", "true", "True"):
        out["DEBUG"] = True
    return out


def load_config(environ: Mapping[str, str] | None = None) -> dict:
    """Read the environment into configuration keys. Pure: no I/O beyond the mapping given."""
    env = os.environ if environ is None else environ
    out: dict = {}
    if env.get("TRACKER_ENV"):
        out["ENV_NAME"] = env["TRACKER_ENV"]
    if env.get("SECRET_KEY"):
        out["SECRET_KEY"] = env["SECRET_KEY"]
    if env.get("DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(env["DATABASE_URL"])
    if env.get("STORAGE_DIR"):
        out["STORAGE_DIR"] = env["STORAGE_DIR"]
    if env.get("BROKER_DIR"):
        out["BROKER_DIR"] = env["BROKER_DIR"]
    if env.get("REDIS_URL"):
        out["RATELIMIT_STORAGE_URI"] = env["REDIS_URL"]
    if env.get("DOCUMENT_RENDER_DELAY_SECONDS"):  # test hook only: makes renders slow
        out["DOCUMENT_RENDER_DELAY_SECONDS"] = env["DOCUMENT_RENDER_DELAY_SECONDS"]
    if env.get("ORGANISATION_NAME"):
        out["ORGANISATION_NAME"] = env["ORGANISATION_NAME"]
    for key in ("TRUSTED_PROXIES", "INVITE_LINK_HOURS", "SMTP_PORT"):
        if env.get(key, "").isdigit():
            out[key] = int(env[key])
    for key in (
        "SMTP_HOST",
        "SMTP_USER",
        "SMTP_PASSWORD",
        "SMTP_FROM",
        "LOG_LEVEL",
        "PUBLIC_URL",
        "BANK_DETAILS_KEYS",
        "BACS_SERVICE_USER_NUMBER",
        "BACS_SORT_CODE",
        "BACS_ACCOUNT_NUMBER",
        "BACS_ACCOUNT_NAME",
        "METRICS_TOKEN",
        "EARNINGS_SIGNING_KEY",
    ):
        if env.get(key):
            out[key] = env[key]
    out.update(_switches(env))
    if env.get("SESSION_COOKIE_SECURE") in ("1", "true", "True") or not is_development(out.get("ENV_NAME", "")):
        out["SESSION_COOKIE_SECURE"] = True
        out["REMEMBER_COOKIE_SECURE"] = True
    out["_CELERY_BROKER_URL"] = env.get("CELERY_BROKER_URL") or None
    out["_CELERY_RESULT_BACKEND"] = env.get("CELERY_RESULT_BACKEND") or None
    return out
