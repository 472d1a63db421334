"""Configuration: safe defaults, then the environment, then explicit overrides.

Nothing here reads a file or opens a connection. ``load_config(environ)`` turns environment
variables into a mapping that ``tracker.create_app`` applies on top of ``Defaults``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tracker.vocab import PAYER_KINDS

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
    # Generated documents: "local" keeps them in STORAGE_DIR; "s3" in an S3-compatible bucket
    # (tracker/documents/storage.py). Empty S3 keys fall back to boto3's own (AWS_* variables, a role).
    DOCUMENT_STORAGE = "local"
    STORAGE_DIR = str(INSTANCE_DIR / "documents")
    S3_ENDPOINT_URL = ""
    S3_REGION = ""
    S3_BUCKET = ""
    S3_PREFIX = "documents/"
    S3_ACCESS_KEY_ID = ""
    S3_SECRET_ACCESS_KEY = ""
    # "path" for most MinIO and Ceph set-ups; "auto" lets boto3 choose (virtual hosts on AWS).
    S3_ADDRESSING_STYLE = "auto"
    # A store that hangs never holds a request for long: seconds to connect, to wait for bytes,
    # and attempts in all (boto3's "standard" retries, with back-off).
    S3_CONNECT_TIMEOUT_SECONDS = 5
    S3_READ_TIMEOUT_SECONDS = 20
    S3_MAX_ATTEMPTS = 3
    BROKER_DIR = str(INSTANCE_DIR / "broker")
    ORGANISATION_NAME = "Riverside Co-production Network"
    # What kind of payer the organisation is: charity (a charity or voluntary organisation),
    # public_body or company (tracker.vocab.PAYER_KINDS). It decides whether money offered and not
    # taken can be exempt from notional earnings (UC reg 60(4)(a)). Production must set it; a
    # development or test run with none set is a public body (the demo organisation).
    ORGANISATION_PAYER = ""
    # Suggested bank transfers arrive on a working day: not a weekend, not a bank holiday of this
    # part of the UK (ENG: England and Wales, SCT, WLS, NIR), and not before PAYMENT_LEAD_DAYS
    # working days after today (the organisation's time to send a payment).
    BANK_HOLIDAYS_REGION = "ENG"
    PAYMENT_LEAD_DAYS = 3
    # Signs earnings records (an Ed25519 private key, PEM or base64 of 32 bytes); in development and
    # test a key is made once in the instance folder; production signs nothing without it.
    EARNINGS_SIGNING_KEY = ""
    # Sign-in throttling: counted in Redis when REDIS_URL is set, else in memory. Production refuses
    # memory when more than one web process serves (WEB_CONCURRENCY): each would count on its own.
    RATELIMIT_STORAGE_URI = "memory://"
    WEB_PROCESSES = 1
    # No X-RateLimit-* headers: on every answer they cost two more reads of the store (Redis) than the
    # count itself. A 429 from the API says when to try again in Retry-After (tracker/web.py).
    RATELIMIT_HEADERS_ENABLED = False
    # A throttling store that fails (Redis down or hung) lets requests through and logs it, counting
    # in memory meanwhile; it never turns an outage into an error on every request.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}
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
    # Repeated views of one person's benefit information by the same user within this many minutes
    # are one audit row with a count (docs/security.md); 0 writes one row per view.
    BENEFIT_VIEW_COALESCE_MINUTES = 10
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
    # Idempotency keys are kept this long (hours), then purged by beat.
    IDEMPOTENCY_TTL_HOURS = 48
    # A retry with the Idempotency-Key of a request still under way waits this long for its answer.
    IDEMPOTENCY_WAIT_SECONDS = 10
    # Outbox rows not yet sent, or sent and not yet started by a worker, after this many seconds are
    # sent again by the sweep (which runs every OUTBOX_SWEEP_SECONDS): work a broker lost runs late,
    # never not at all.
    OUTBOX_REDRIVE_AFTER_SECONDS = 60
    OUTBOX_SWEEP_SECONDS = 60
    # A task started this long ago and never finished (its worker was killed) is sent again.
    OUTBOX_RESTART_AFTER_SECONDS = 720
    # Outbox rows whose task has run are purged after this many hours.
    OUTBOX_RETENTION_HOURS = 168
    # The web tier never waits on the broker longer than this (connect, publish): a broker that is
    # down or hung leaves the outbox row pending for the sweep.
    BROKER_TIMEOUT_SECONDS = 0.5
    # After a failed send, a web process leaves new work to the outbox sweep for this long.
    BROKER_BACKOFF_SECONDS = 10
    # Database: connecting, and any one statement, give up after these many seconds (PostgreSQL).
    DATABASE_CONNECT_TIMEOUT_SECONDS = 5
    DATABASE_STATEMENT_TIMEOUT_SECONDS = 60
    # /readyz answers 503 when the database or the broker has not answered within this time.
    READY_TIMEOUT_SECONDS = 2
    # Documents still queued after this long are queued again by the sweep.
    DOCUMENT_REDRIVE_AFTER_SECONDS = 600
    CELERY: dict = {}
    # Redis only: a task taken by a worker that died (killed, its machine gone) is delivered again
    # this many seconds after it was taken: just over every task's time limit (TASK_TIME_LIMIT + 60).
    # Production refuses 600 or less.
    CELERY_VISIBILITY_TIMEOUT = 660
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


#: Every task's hard time limit (seconds); a document render has its own, shorter one (tasks/documents.py).
TASK_TIME_LIMIT = 600


def _redis_broker_options(timeout: float, visibility_timeout: int) -> dict:
    return {
        # Redis hands a message a worker took but never acknowledged (the worker was killed) to
        # another worker after this long (CELERY_VISIBILITY_TIMEOUT: by default just over the longest
        # a task may run, so a running task is never doubled); the surviving workers look for such
        # messages every tenth of it, at most every 10 s.
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": max(1, min(10, visibility_timeout // 10)),
        "unacked_restore_throttle": 1,
        # A publish or a connect never waits longer than this on a broker that is down or hung, and
        # a publish connects once, with no pause and no retry (the worker reconnects on its own terms,
        # broker_connection_max_retries below).
        "socket_timeout": max(timeout, 0.1),
        "socket_connect_timeout": max(timeout, 0.1),
        "max_retries": 0,
    }


def celery_settings(
    broker_url: str | None,
    result_backend: str | None,
    broker_dir: str,
    database_uri: str,
    visibility_timeout: int = Defaults.CELERY_VISIBILITY_TIMEOUT,
    *,
    broker_timeout: float = 0.5,
    sweep_seconds: float = 60.0,
) -> dict:
    """Celery settings shared by every run: JSON only, late acks, one message at a time, short broker
    timeouts, and a worker that never stops reconnecting."""
    if broker_url:
        settings: dict = {"broker_url": broker_url, "result_backend": result_backend or broker_url}
        if broker_url.startswith(("redis://", "rediss://")):
            # The hard time limit below must stay under the visibility timeout, or Redis
            # re-delivers a task that is still running (production refuses a shorter one).
            settings["broker_transport_options"] = _redis_broker_options(broker_timeout, visibility_timeout)
        if settings["result_backend"].startswith(("redis://", "rediss://")):
            settings["redis_socket_timeout"] = settings["redis_socket_connect_timeout"] = max(broker_timeout, 0.1)
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
            "task_time_limit": TASK_TIME_LIMIT,
            "task_soft_time_limit": TASK_TIME_LIMIT - 60,
            # Publishing: connect within the timeout, never retry in the caller (the outbox sweep does).
            "broker_connection_timeout": max(broker_timeout, 0.1),
            "task_publish_retry": False,
            # The worker: keep reconnecting to the broker for as long as it is away.
            "broker_connection_retry": True,
            "broker_connection_retry_on_startup": True,
            "broker_connection_max_retries": None,
            "timezone": "Europe/London",
            "beat_schedule": {
                "outbox-sweep": {"task": "tracker.outbox.sweep", "schedule": float(sweep_seconds)},
                "outbox-purge": {"task": "tracker.outbox.purge", "schedule": crontab(minute=35)},
                "documents-redrive": {"task": "tracker.documents.redrive", "schedule": 300.0},
                # Every hour at five past, so the day's first scan (which keeps everyone's
                # position for the dashboard, tracker/risks/positions.py) runs soon after midnight.
                "risk-scan": {"task": "tracker.risks.scan", "schedule": crontab(minute=5)},
                "risk-digest": {"task": "tracker.risks.digest", "schedule": crontab(hour=7, minute=30)},
            },
        }
    )
    return settings


STORAGE_KINDS = ("local", "s3")
ADDRESSING_STYLES = ("auto", "path", "virtual")
#: England and Wales share bank holidays (ENG); Scotland, Wales and Northern Ireland may be chosen.
BANK_HOLIDAYS_REGIONS = ("ENG", "SCT", "WLS", "NIR")


def storage_problem(cfg: Mapping) -> str | None:
    """What is wrong with the document storage settings, or None."""
    kind = cfg.get("DOCUMENT_STORAGE") or "local"
    if kind not in STORAGE_KINDS:
        return f"DOCUMENT_STORAGE={kind!r}: use one of {', '.join(STORAGE_KINDS)}."
    if (cfg.get("S3_ADDRESSING_STYLE") or "auto") not in ADDRESSING_STYLES:
        return f"S3_ADDRESSING_STYLE: use one of {', '.join(ADDRESSING_STYLES)}."
    if kind == "s3" and not cfg.get("S3_BUCKET"):
        return "DOCUMENT_STORAGE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL for a store other than AWS)."
    if (cfg.get("BANK_HOLIDAYS_REGION") or "ENG") not in BANK_HOLIDAYS_REGIONS:
        return f"BANK_HOLIDAYS_REGION: use one of {', '.join(BANK_HOLIDAYS_REGIONS)}."
    return None


def _normalise_db_url(url: str) -> str:
    # Hosting platforms often hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


#: Settings read from the environment as whole numbers.
INT_SETTINGS = (
    "TRUSTED_PROXIES",
    "PAYMENT_LEAD_DAYS",
    "INVITE_LINK_HOURS",
    "SMTP_PORT",
    "IDEMPOTENCY_TTL_HOURS",
    "IDEMPOTENCY_WAIT_SECONDS",
    "BENEFIT_VIEW_COALESCE_MINUTES",
    "OUTBOX_REDRIVE_AFTER_SECONDS",
    "OUTBOX_SWEEP_SECONDS",
    "OUTBOX_RESTART_AFTER_SECONDS",
    "OUTBOX_RETENTION_HOURS",
    "DATABASE_CONNECT_TIMEOUT_SECONDS",
    "DATABASE_STATEMENT_TIMEOUT_SECONDS",
    "READY_TIMEOUT_SECONDS",
    "BROKER_BACKOFF_SECONDS",
    "CELERY_VISIBILITY_TIMEOUT",
)


def _numbers(env: Mapping[str, str]) -> dict:
    """The whole-number settings, and the broker timeout (seconds, fractions allowed)."""
    out: dict = {key: int(env[key]) for key in INT_SETTINGS if env.get(key, "").isdigit()}
    try:
        timeout = float(env.get("BROKER_TIMEOUT_SECONDS", ""))
    except ValueError:
        return out
    if timeout > 0:
        out["BROKER_TIMEOUT_SECONDS"] = timeout
    return out


#: The payer a development or test run uses when none is set: the demo organisation's.
DEV_ORGANISATION_PAYER = "public_body"


def payer_problem(cfg: Mapping) -> str | None:
    """Why ORGANISATION_PAYER cannot be used, or None (production must set it; nothing defaults it there)."""
    payer = cfg.get("ORGANISATION_PAYER") or ""
    if payer in PAYER_KINDS:
        return None
    name = cfg.get("ENV_NAME") or "(unset)"
    return (
        f"ORGANISATION_PAYER must be one of {', '.join(PAYER_KINDS)} (what kind of organisation pays: it decides "
        f"whether declined or reduced payments can be exempt from notional earnings); TRACKER_ENV={name} has "
        f"{payer or 'none'}."
    )


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


def _bank_holidays_region(env: Mapping[str, str]) -> dict:
    """BANK_HOLIDAYS_REGION as given, in capitals (create_app refuses one not in BANK_HOLIDAYS_REGIONS)."""
    region = env.get("BANK_HOLIDAYS_REGION", "").strip().upper()
    return {"BANK_HOLIDAYS_REGION": region} if region else {}


def _web_processes(env: Mapping[str, str]) -> dict:
    """How many web processes serve the app: gunicorn's own WEB_CONCURRENCY, or the number of workers
    deploy/gunicorn.conf.py hands every worker it starts (GUNICORN_WORKERS)."""
    counts = [int(env[key]) for key in ("WEB_CONCURRENCY", "GUNICORN_WORKERS") if env.get(key, "").isdigit()]
    return {"WEB_PROCESSES": max(counts)} if counts else {}


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
    if env.get("ORGANISATION_PAYER"):
        out["ORGANISATION_PAYER"] = env["ORGANISATION_PAYER"].strip().lower()
    out.update(_bank_holidays_region(env))
    out.update(_numbers(env))
    out.update(_web_processes(env))
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
        "DOCUMENT_STORAGE",
        "S3_ENDPOINT_URL",
        "S3_REGION",
        "S3_BUCKET",
        "S3_PREFIX",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "S3_ADDRESSING_STYLE",
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
