"""The benefits-safe payment tracker.

``create_app(overrides=None)`` builds the app and does no I/O: no migrations, no connections.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Flask is imported inside the factory, so the pure engine
    from flask import Blueprint, Flask  # (tracker.engine.core) can be imported without it.

ROOT = Path(__file__).resolve().parent.parent

#: Every area of the tracker, each a package ``tracker.<name>`` of the same shape: its ``__init__``
#: creates the blueprint ``bp`` (with its URL prefix) and nothing else; its ``views`` module, where
#: it has one, adds the routes to ``bp``; its ``models`` module, where it has one, holds its tables.
#: create_app imports every models module, then every views module, and registers every blueprint,
#: all from this one tuple. The views are imported only here, so that a service or a model can import
#: another area without pulling in its pages (and the pages' imports cannot go round in a circle).
AREAS = (
    "auth",
    "home",
    "people",
    "ops",
    "payments",
    "contributions",
    "rules",
    "audit",
    "exports",
    "imports",
    "documents",
    "me",
    "risks",
    "notify",
    "api",
    "runs",
    "earnings",
)


def create_app(overrides: dict | None = None) -> Flask:
    from flask import Flask

    import config as config_module

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_path=str(config_module.INSTANCE_DIR),
    )
    app.config.from_object(config_module.Defaults)
    app.config.update(config_module.load_config(os.environ))
    if overrides:
        app.config.update(overrides)
    _finish_config(app)

    from tracker.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    _import_models()

    from tracker import logs, web

    logs.configure(app.config.get("LOG_LEVEL"))  # once per process
    web.init_app(app)
    from tracker.ops import metrics

    metrics.init_app(app)  # request counts and latencies for /metrics
    # Ids in URLs fit a 64-bit database integer; a larger number is simply "not found".
    app.url_map.converters["int"] = web.DatabaseIdConverter

    for blueprint in area_blueprints():
        app.register_blueprint(blueprint)
    csrf.exempt(importlib.import_module("tracker.api").bp)  # bearer tokens only: another site cannot send one

    from tracker.cli import register_cli

    register_cli(app)

    from tracker.celery import celery_init_app

    celery_init_app(app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind a proxy the client's address (for sign-in throttling) comes from X-Forwarded-For.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app


def _finish_config(app: Flask) -> None:
    import config as config_module

    cfg = app.config
    if config_module.is_development(str(cfg.get("ENV_NAME") or "")):
        cfg["SECRET_KEY"] = cfg.get("SECRET_KEY") or config_module.DEV_SECRET_KEY
    else:
        _refuse_unsafe_production(cfg, config_module.DEV_SECRET_KEY)
    cfg["REQUIRE_2FA"] = config_module.require_2fa(cfg.get("REQUIRE_2FA"), str(cfg.get("ENV_NAME") or ""))
    if not cfg.get("ORGANISATION_PAYER") and config_module.is_development(str(cfg.get("ENV_NAME") or "")):
        cfg["ORGANISATION_PAYER"] = config_module.DEV_ORGANISATION_PAYER
    problem = config_module.storage_problem(cfg)
    if problem:
        raise RuntimeError(problem)
    if not cfg.get("CELERY"):
        cfg["CELERY"] = config_module.celery_settings(
            cfg.pop("_CELERY_BROKER_URL", None),
            cfg.pop("_CELERY_RESULT_BACKEND", None),
            cfg["BROKER_DIR"],
            cfg["SQLALCHEMY_DATABASE_URI"],
            int(cfg["CELERY_VISIBILITY_TIMEOUT"]),
            broker_timeout=float(cfg["BROKER_TIMEOUT_SECONDS"]),
            sweep_seconds=float(cfg["OUTBOX_SWEEP_SECONDS"]),
        )
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(cfg)
    problem = config_module.payer_problem(cfg)
    if problem:
        raise RuntimeError(problem)


def _engine_options(cfg) -> dict:
    """Connections are checked before use (a restarted database costs no request an error), and
    connecting and statements are bounded in time."""
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    opts = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    opts.setdefault("pool_pre_ping", True)
    if uri.startswith("sqlite") and ":memory:" not in uri and uri != "sqlite://":
        opts.setdefault("connect_args", {"timeout": 30})
    elif uri.startswith("postgresql"):
        statement_ms = int(cfg["DATABASE_STATEMENT_TIMEOUT_SECONDS"]) * 1000
        opts.setdefault(
            "connect_args",
            {
                "connect_timeout": max(2, int(cfg["DATABASE_CONNECT_TIMEOUT_SECONDS"])),
                "options": f"-c statement_timeout={statement_ms}",
            },
        )
    return opts


def _refuse_unsafe_production(cfg: dict, dev_secret: str) -> None:
    """Anything but development or test is production: a real secret, no debug, Secure cookies."""
    name = cfg.get("ENV_NAME") or "(unset)"
    secret = cfg.get("SECRET_KEY") or ""
    if secret == dev_secret or len(secret) < 32:
        raise RuntimeError(
            f"TRACKER_ENV={name} is treated as production, which needs SECRET_KEY set in the environment "
            "(32+ random characters, not the development key). For a development run set "
            "TRACKER_ENV=development (dev.py does)."
        )
    if cfg.get("DEBUG"):
        raise RuntimeError(f"TRACKER_ENV={name} is treated as production, which must not run with debug on.")
    token = cfg.get("METRICS_TOKEN") or ""
    if token and len(token) < 32:
        raise RuntimeError(f"TRACKER_ENV={name} is treated as production: METRICS_TOKEN needs 32+ random characters.")
    _refuse_per_process_state(cfg, name)
    cfg["SESSION_COOKIE_SECURE"] = cfg["REMEMBER_COOKIE_SECURE"] = True


def _refuse_per_process_state(cfg: dict, name: str) -> None:
    """Production settings that would let several processes disagree: sign-in throttling counted in
    each web process's memory, or Redis handing a task that is still running to a second worker."""
    import config as config_module

    processes = int(cfg.get("WEB_PROCESSES") or 1)
    if processes > 1 and str(cfg.get("RATELIMIT_STORAGE_URI", "")).startswith("memory"):
        raise RuntimeError(
            f"TRACKER_ENV={name} is treated as production, and {processes} web processes are configured "
            "(WEB_CONCURRENCY or gunicorn's workers): set REDIS_URL, so that they count failed sign-ins "
            "together. Without it each process counts on its own and the sign-in limits multiply."
        )
    visibility = int(cfg.get("CELERY_VISIBILITY_TIMEOUT") or 0)
    if visibility <= config_module.TASK_TIME_LIMIT:
        raise RuntimeError(
            f"TRACKER_ENV={name} is treated as production: CELERY_VISIBILITY_TIMEOUT ({visibility} s) must be "
            f"longer than the longest task may run ({config_module.TASK_TIME_LIMIT} s), or Redis hands a task "
            "that is still running to a second worker."
        )


def area_blueprints() -> list[Blueprint]:
    """Every area's blueprint, in the order of ``AREAS``, with its routes added."""
    _import_area_modules("views")
    return [importlib.import_module(f"tracker.{name}").bp for name in AREAS]


def _import_models() -> None:
    """Import every model so metadata (and migrations) see the whole schema."""
    from tracker import jobs  # noqa: F401  (the outbox table)

    _import_area_modules("models")


def _import_area_modules(module: str) -> None:
    """Import ``tracker.<area>.<module>`` for every area that has one."""
    for name in AREAS:
        if importlib.util.find_spec(f"tracker.{name}.{module}") is not None:
            importlib.import_module(f"tracker.{name}.{module}")
