import pytest

from tracker import create_app


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
