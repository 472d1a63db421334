"""The benefits-safe payment tracker.

``create_app(overrides=None)`` builds the app and does no I/O: no migrations, no connections.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Flask is imported inside the factory, so the pure engine
    from flask import Flask  # (tracker.engine.core) can be imported without it.

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    from flask import Flask

    import config as config_module

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder="static",
                instance_path=str(config_module.INSTANCE_DIR))
    app.config.from_object(config_module.Defaults)
    app.config.update(config_module.load_config(os.environ))
    if overrides:
        app.config.update(overrides)
    _finish_config(app)

    from tracker.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    _import_models()

    from tracker import logs, web

    logs.configure(app.config.get("LOG_LEVEL"))  # once per process
    web.init_app(app)
    # Ids in URLs fit a 64-bit database integer; a larger number is simply "not found".
    app.url_map.converters["int"] = web.DatabaseIdConverter

    import importlib

    for area in ("auth", "people", "payments", "contributions", "me", "exports", "imports"):
        importlib.import_module(f"tracker.{area}.views")  # adds the area's routes to its blueprint

    from tracker.api import bp as api_bp
    from tracker.auth import bp as auth_bp
    from tracker.home import bp as home_bp
    from tracker.ops import bp as ops_bp
    from tracker.people import bp as people_bp

    from tracker.audit.views import bp as audit_bp
    from tracker.contributions import bp as contributions_bp
    from tracker.documents.views import bp as documents_bp
    from tracker.exports import bp as exports_bp
    from tracker.me import bp as me_bp
    from tracker.imports import bp as imports_bp
    from tracker.payments import bp as payments_bp
    from tracker.risks.views import bp as risks_bp
    from tracker.rules.views import bp as rules_bp

    for blueprint in (auth_bp, home_bp, people_bp, ops_bp, payments_bp, contributions_bp, rules_bp, audit_bp,
                      exports_bp, imports_bp, documents_bp, me_bp, risks_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # bearer tokens only: another site cannot send one

    from tracker.cli import register_cli

    register_cli(app)

    from tracker.celery import celery_init_app

    celery_init_app(app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind a proxy the client's address (for sign-in throttling) comes from X-Forwarded-For.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


def _finish_config(app: Flask) -> None:
    import config as config_module

    cfg = app.config
    if cfg.get("ENV_NAME") == "production":
        if cfg["SECRET_KEY"] in (config_module.DEV_SECRET_KEY, "", None) or len(cfg["SECRET_KEY"]) < 32:
            raise RuntimeError("Production needs SECRET_KEY set in the environment (32+ random characters).")
        if cfg.get("DEBUG"):
            raise RuntimeError("Production must not run with debug on.")
        cfg["SESSION_COOKIE_SECURE"] = cfg["REMEMBER_COOKIE_SECURE"] = True
    if not cfg.get("CELERY"):
        cfg["CELERY"] = config_module.celery_settings(
            cfg.pop("_CELERY_BROKER_URL", None), cfg.pop("_CELERY_RESULT_BACKEND", None),
            cfg["BROKER_DIR"], cfg["SQLALCHEMY_DATABASE_URI"])
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite") and ":memory:" not in uri and uri != "sqlite://":
        opts = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        opts.setdefault("connect_args", {"timeout": 30})
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = opts


def _import_models() -> None:
    """Import every model so metadata (and migrations) see the whole schema."""
    from tracker import jobs  # noqa: F401
    from tracker.api import models as _api  # noqa: F401
    from tracker.audit import models as _audit  # noqa: F401
    from tracker.auth import models as _auth  # noqa: F401
    from tracker.contributions import models as _contributions  # noqa: F401
    from tracker.documents import models as _documents  # noqa: F401
    from tracker.notify import models as _notify  # noqa: F401
    from tracker.risks import models as _risks  # noqa: F401
    from tracker.payments import models as _payments  # noqa: F401
    from tracker.rules import models as _rules  # noqa: F401
    from tracker.people import models as _people  # noqa: F401
