import pytest

from tracker import create_app


@pytest.fixture(autouse=True)
def _payer(monkeypatch):
    """Production needs ORGANISATION_PAYER: these tests are about other settings, so it is set."""
    monkeypatch.setenv("ORGANISATION_PAYER", "public_body")


def test_create_app_needs_no_database_or_broker(tmp_path):
    """create_app does no I/O: a database path that does not exist stays untouched."""
    missing = tmp_path / "nope" / "db.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}", "BROKER_DIR": str(tmp_path / "b")})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("db.sqlite")
    assert not missing.parent.exists()
    assert not (tmp_path / "b").exists()


def test_overrides_win_over_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/from-env.sqlite")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    app = create_app({"SECRET_KEY": "from-override"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/from-env.sqlite"
    assert app.config["SECRET_KEY"] == "from-override"


def test_postgres_urls_get_a_driver(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ENV_NAME": "production"}, "SECRET_KEY"),
        ({"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "DEBUG": True}, "debug"),
    ],
)
def test_production_refuses_unsafe_settings(overrides, message):
    with pytest.raises(RuntimeError, match=message):
        create_app(overrides)


@pytest.mark.parametrize("name", ["Production", "prod", "staging", "PRODUCTION", "development ", ""])
def test_any_other_environment_name_is_production(name, monkeypatch):
    """Only "development" and "test" get the development key; anything else fails closed."""
    monkeypatch.setenv("TRACKER_ENV", name)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="treated as production.*SECRET_KEY"):
        create_app()
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "dev-only-not-secret"})
    monkeypatch.setenv("SECRET_KEY", "z" * 40)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True


def test_no_environment_name_at_all_is_production(monkeypatch):
    monkeypatch.delenv("TRACKER_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="TRACKER_ENV=production is treated as production"):
        create_app()


@pytest.mark.parametrize("name", ["development", "test"])
def test_development_and_test_get_the_development_defaults(name, monkeypatch):
    monkeypatch.setenv("TRACKER_ENV", name)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app()
    assert app.config["SECRET_KEY"] == "dev-only-not-secret"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_production_starts_with_a_real_secret():
    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "y" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_redis_broker_from_environment(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
    app = create_app()
    conf = app.extensions["celery"].conf
    assert conf.broker_url == "redis://127.0.0.1:6379/5"
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]


def test_default_broker_needs_no_server():
    app = create_app()
    assert app.extensions["celery"].conf.broker_url == "filesystem://"


def test_templates_render(client):
    resp = client.get("/sign-in")
    assert resp.status_code == 200
    assert b"<h1>Sign in</h1>" in resp.data


def test_a_sqlite_file_is_in_write_ahead_logging_mode(tmp_path):
    """The web app and the worker share a SQLite file: readers must not wait for a writer."""
    import sqlalchemy as sa

    from tracker.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'wal.sqlite'}", "TESTING": True})
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


PRODUCTION = {"ENV_NAME": "production", "SECRET_KEY": "y" * 40}


@pytest.mark.parametrize("variable", ["WEB_CONCURRENCY", "GUNICORN_WORKERS"])
def test_production_refuses_several_web_processes_without_redis(variable, monkeypatch):
    """Sign-in throttling counted in each process's memory would multiply the limits."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv(variable, "2")
    with pytest.raises(RuntimeError, match=r"2 web processes are configured.*set REDIS_URL"):
        create_app(PRODUCTION)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/1")
    assert create_app(PRODUCTION).config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/1"


def test_one_web_process_or_development_needs_no_redis(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert create_app(PRODUCTION).config["WEB_PROCESSES"] == 1
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert create_app({"ENV_NAME": "test"}).config["WEB_PROCESSES"] == 4


def test_gunicorn_tells_each_worker_how_many_workers_serve(monkeypatch):
    """deploy/gunicorn.conf.py's post_fork hook: `--workers 4` on the command line reaches the app."""
    import os
    import runpy
    from types import SimpleNamespace

    from tracker import ROOT

    monkeypatch.setenv("GUNICORN_WORKERS", "1")  # put back after the test, whatever the hook sets
    hooks = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    hooks["post_fork"](SimpleNamespace(cfg=SimpleNamespace(workers=4)), None)
    assert os.environ["GUNICORN_WORKERS"] == "4"
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(RuntimeError, match="4 web processes"):
        create_app(PRODUCTION)


def test_redis_visibility_timeout_from_environment(monkeypatch):
    """A task taken by a worker that died is delivered again after CELERY_VISIBILITY_TIMEOUT; production
    keeps it above the longest task's time limit."""
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "30")
    options = create_app({"ENV_NAME": "test"}).extensions["celery"].conf.broker_transport_options
    assert options["visibility_timeout"] == 30 and options["unacked_restore_interval"] == 3
    with pytest.raises(RuntimeError, match="CELERY_VISIBILITY_TIMEOUT"):
        create_app(PRODUCTION)
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "7200")
    conf = create_app(PRODUCTION).extensions["celery"].conf
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"] == 7200


def test_production_needs_to_be_told_what_kind_of_payer_the_organisation_is(monkeypatch):
    monkeypatch.delenv("ORGANISATION_PAYER")
    with pytest.raises(RuntimeError, match="ORGANISATION_PAYER must be one of charity, public_body, company"):
        create_app(PRODUCTION)
    with pytest.raises(RuntimeError, match="ORGANISATION_PAYER"):
        create_app({**PRODUCTION, "ORGANISATION_PAYER": "a charity"})
    assert create_app({**PRODUCTION, "ORGANISATION_PAYER": "charity"}).config["ORGANISATION_PAYER"] == "charity"
    monkeypatch.setenv("ORGANISATION_PAYER", " Company ")
    assert create_app(PRODUCTION).config["ORGANISATION_PAYER"] == "company"


@pytest.mark.parametrize("name", ["development", "test"])
def test_development_and_test_pay_as_the_demo_public_body_unless_told(name, monkeypatch):
    monkeypatch.delenv("ORGANISATION_PAYER")
    monkeypatch.setenv("TRACKER_ENV", name)
    assert create_app().config["ORGANISATION_PAYER"] == "public_body"
    with pytest.raises(RuntimeError, match="ORGANISATION_PAYER"):
        create_app({"ORGANISATION_PAYER": "business"})
