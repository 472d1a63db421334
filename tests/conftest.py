"""Test fixtures.

The suite runs on the database in TEST_DATABASE_URL (default: a SQLite file in a temporary
folder), keeps documents in a local folder or, with TEST_DOCUMENT_STORAGE=s3, in a real
S3-compatible server the run starts (moto's server mode, ``s3_server``), and, for tests that
start a real worker, uses the broker in TEST_BROKER_URL (default: the server-less filesystem
broker). Tests that need one specific service ask for the
``postgres_url`` or ``redis_url`` fixture: without the service they skip locally and FAIL when
CI=true, so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa

from tests import builders
from tests.builders import PASSWORD, Api
from tracker import create_app
from tracker.auth.passwords import set_fast_hashing_for_tests
from tracker.extensions import db as _db

set_fast_hashing_for_tests()
# An unset TRACKER_ENV is production (it refuses the development key): the tests, and every process
# they start (a worker, the CLI, migrations), run as "test".
os.environ["TRACKER_ENV"] = "test"

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent


def need_service(env_name: str, what: str) -> str:
    url = os.environ.get(env_name)
    if url:
        return url
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true: set {env_name}.")
    pytest.skip(f"{what} not configured ({env_name} is not set)")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return need_service("TEST_POSTGRES_URL", "PostgreSQL")


@contextmanager
def scratch_postgres(admin_url: str, prefix: str = "tracker_own") -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``admin_url``; dropped afterwards, whoever
    is still connected. Yields its URL."""
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def own_postgres_url(postgres_url) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for this test alone (races that need real row
    locks, migrations from nothing)."""
    with scratch_postgres(postgres_url) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return need_service("TEST_REDIS_URL", "Redis")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def broker_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("broker")


S3_TEST_BUCKET = "tracker-test-documents"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3-compatible HTTP server on a free local port for the whole run (moto's server
    mode: the app talks to it through boto3 over HTTP, as to MinIO or AWS). Yields its URL.
    Without moto it skips locally and fails under CI=true."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        if IN_CI:
            pytest.fail("An S3-compatible server is required under CI=true: install moto[server] (the test extra).")
        pytest.skip("moto[server] is not installed")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_config(endpoint_url: str, bucket: str = S3_TEST_BUCKET) -> dict:
    """The settings of an app keeping its documents in ``bucket`` on the server at ``endpoint_url``."""
    return {
        "DOCUMENT_STORAGE": "s3",
        "S3_ENDPOINT_URL": endpoint_url,
        "S3_BUCKET": bucket,
        "S3_REGION": "eu-west-2",
        "S3_ACCESS_KEY_ID": "test-access-key",
        "S3_SECRET_ACCESS_KEY": "test-secret-key",
        "S3_ADDRESSING_STYLE": "path",
        "S3_PREFIX": "documents/",
    }


def s3_settings(endpoint_url: str, bucket: str = S3_TEST_BUCKET) -> dict:
    """``s3_config``, once the bucket is there (it is made if need be)."""
    from tracker.documents.storage import s3_client

    settings = s3_config(endpoint_url, bucket)
    client = s3_client(settings)
    if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    return settings


@pytest.fixture(scope="session")
def document_storage(request) -> dict:
    """The document storage settings of every test app: none (the local folder) unless
    TEST_DOCUMENT_STORAGE=s3, then the S3 server's."""
    kind = os.environ.get("TEST_DOCUMENT_STORAGE", "local")
    if kind == "local":
        return {}
    assert kind == "s3", f"TEST_DOCUMENT_STORAGE={kind!r}: use local or s3"
    return s3_settings(request.getfixturevalue("s3_server"))


def base_config(database_url: str, broker_dir: Path, **extra) -> dict:
    from config import celery_settings

    cfg = {
        "TESTING": True,
        "ENV_NAME": "test",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "STORAGE_DIR": str(broker_dir.parent / "documents"),
        "BROKER_DIR": str(broker_dir),
        "CELERY": celery_settings(None, None, str(broker_dir), database_url),
        # Tests that make the broker fail on purpose must not hold back the next test's sends.
        "BROKER_BACKOFF_SECONDS": 0,
        # Signs earnings records (tracker/earnings/keys.py): fixed, so no key file is written.
        "EARNINGS_SIGNING_KEY": builders.TEST_EARNINGS_KEY,
        # What kind of payer the organisation is (notional earnings): set, never defaulted.
        "ORGANISATION_PAYER": "public_body",
    }
    cfg.update(extra)
    return cfg


def _schema_ready(app) -> None:
    with app.app_context():
        _db.drop_all()
        _db.create_all()


@pytest.fixture(scope="session")
def app(database_url, broker_dir, document_storage):
    app = create_app(base_config(database_url, broker_dir, **document_storage))
    _schema_ready(app)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _wipe(app) -> None:
    from tracker.rules import service as rules_service

    rules_service.forget_cache()  # the parsed rules are cached per process
    with app.app_context():
        _db.session.remove()
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for t in tables:
                    conn.execute(sa.text(f'DELETE FROM "{t}"'))


@pytest.fixture(autouse=True)
def _clean_db(request):
    yield
    if "app" in request.fixturenames or "ctx" in request.fixturenames:
        _wipe(request.getfixturevalue("app"))


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        _db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_app(app, database_url, broker_dir, document_storage):
    """Build another app on the same database and document store, with some settings changed."""
    made = []

    def factory(**overrides):
        a = create_app(base_config(database_url, broker_dir, **{**document_storage, **overrides}))
        made.append(a)
        return a

    yield factory
    for a in made:
        with a.app_context():
            _db.engine.dispose()
    # Flask-Limiter keeps one state per Limiter object, shared by every app built in the run:
    # switch throttling off again after a test that turned it on, and forget its counts.
    from tracker.extensions import limiter

    if any(a.config.get("RATELIMIT_ENABLED") for a in made):
        try:
            limiter.reset()
        except Exception:  # a test's throttling store that is down on purpose has nothing to forget
            pass
        limiter.enabled = False
        # ... and forget that a test's store was down (Flask-Limiter keeps it from one app to the next).
        limiter._storage_dead = False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """No test opens SMTP."""
    import smtplib

    def refuse(*a, **k):
        raise AssertionError("A test tried to open an SMTP connection.")

    monkeypatch.setattr(smtplib.SMTP, "connect", refuse)


@pytest.fixture
def sent(app, monkeypatch) -> list[tuple]:
    """The tasks handed to Celery, as (name, args), instead of sending them."""
    calls = []
    monkeypatch.setattr(app.extensions["celery"], "send_task", lambda name, args=None, **k: calls.append((name, args)))
    return calls


# ---- a real worker process ------------------------------------------------------------------


def worker_env_vars(database_url: str, broker_dir: Path, tmp: Path, storage: dict | None = None) -> dict:
    """The environment of a worker process on the test database, the test apps' document store
    (``storage``: the ``document_storage`` fixture) and a broker of its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CELERY_", "DATABASE_URL", "BROKER_DIR", "DOCUMENT_STORAGE", "S3_"))
    }
    env["DATABASE_URL"] = database_url
    env["STORAGE_DIR"] = str(broker_dir.parent / "documents")  # the test app's folder
    env.update({k: str(v) for k, v in (storage or {}).items()})
    broker_url = os.environ.get("TEST_BROKER_URL")
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
        env["CELERY_RESULT_BACKEND"] = broker_url
    else:
        env["BROKER_DIR"] = str(tmp / "broker")
        env["CELERY_RESULT_BACKEND"] = f"db+sqlite:///{tmp / 'results.sqlite'}"
        for sub in ("broker", "broker-processed", "broker-control"):
            (tmp / sub).mkdir(exist_ok=True)
    return env


def start_worker(env: dict, log_path: Path, *extra: str) -> tuple[subprocess.Popen, IO[str]]:
    """A Celery worker process on ``env``, writing its log to ``log_path``; stop it with stop_worker."""
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wsgi:celery_app",
            "worker",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, log


def stop_worker(proc: subprocess.Popen, log: IO[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


# ---- factories (the rows themselves: tests/builders.py) ------------------------------------


@pytest.fixture
def rules(app):
    """The shipped UK rule pack, loaded into the test database."""
    from tracker.rules import service as rules_service

    with app.app_context():
        rules_service.ensure_default_pack()
        _db.session.commit()


@pytest.fixture
def make_person(app):
    """make_person(name, ...) -> id: a person made through the people service, with its audit trail
    (tests/builders.py makes rows straight through the models)."""
    from tracker.people import service

    def factory(name="Alex Example", *, preferences=None, consent=True, claims=(), email=None):
        with app.app_context():
            person = service.create_person({"name": name, "email": email, "preferences": preferences or []}, actor=None)
            if consent:
                from datetime import date

                service.record_consent(person, date(2024, 1, 1), "v1", actor=None, today=date(2030, 1, 1))
            for c in claims:
                service.add_claim(person, c["benefit"], c["start_on"], c.get("end_on"), c.get("attributes"), actor=None)
            _db.session.commit()
            return person.id

    return factory


@pytest.fixture
def carer_name() -> str:
    """Override in a module to name the carer differently."""
    return "Carer Person"


@pytest.fixture
def carer_preferences() -> list[dict]:
    """Override in a module to give the carer other preferences."""
    return [{"kind": "cash"}, {"kind": "voucher"}]


@pytest.fixture
def carer(app, rules, carer_name, carer_preferences) -> int:
    """A person receiving Carer's Allowance since 2024 (weeks Monday to Sunday, £196 a week from April
    2025), with consent recorded; by default prefers cash, then vouchers. Returns the id."""
    return builders.saved(app, builders.person, carer_name, preferences=carer_preferences, claims=[builders.CA])


@pytest.fixture
def postgresql_carer(make_app, own_postgres_url) -> tuple:
    """An app on its own PostgreSQL database: the schema, the default rules, and one person
    claiming Carer's Allowance since 2024. Returns (app, person id)."""
    from flask_migrate import upgrade

    from tracker.rules import service as rules_service

    app = make_app(SQLALCHEMY_DATABASE_URI=own_postgres_url)
    with app.app_context():
        upgrade()
        rules_service.ensure_default_pack()
        person = builders.person("PG Carer", claims=[builders.CA])
        _db.session.commit()
        return app, person.id


@pytest.fixture
def make_user(app):
    """make_user(role, ...) -> id, or (id, token): a user made through the auth service, signing in
    with PASSWORD."""
    from tracker.auth import service

    def factory(role="coordinator", *, email=None, person_id=None, token=False):
        with app.app_context():
            if role == "contributor" and person_id is None:
                from tracker.people import service as people

                person_id = people.create_person({"name": "Contributor Person"}, actor=None).id
            user = service.create_user(
                email or f"{role}-{os.urandom(3).hex()}@example.org", role, person_id=person_id, password=PASSWORD
            )
            secret = service.issue_token(user) if token else None
            _db.session.commit()
            return (user.id, secret) if token else user.id

    return factory


@pytest.fixture
def api_as(client, make_user):
    """api_as("finance") -> an Api client with a fresh user of that role."""

    def factory(role="coordinator", person_id=None):
        _, token = make_user(role, person_id=person_id, token=True)
        return Api(client, token)

    return factory


@pytest.fixture
def login(client, make_user):
    """login("coordinator") signs a fresh user in on ``client``; returns the user id."""

    def factory(role="coordinator", person_id=None):
        from tracker.auth.models import User

        uid = make_user(role, person_id=person_id)
        with client.application.app_context():
            email = _db.session.get(User, uid).email
        client.post("/sign-out")  # so one client can switch users
        resp = client.post("/sign-in", data={"email": email, "password": PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return uid

    return factory
