"""``flask --app wsgi db copy --to URL``: the README's demo database moved from SQLite to PostgreSQL.

The source is built as the README does it (``db upgrade``, then ``demo seed``) in a SQLite file; the
target is a new PostgreSQL database migrated with ``db upgrade``. What the copy must prove is checked
here independently of tracker/dbcopy.py: the same rows in every table, the same pence in every money
column, SQL NULL and JSON null kept apart, an app on the copy that signs in and records new rows, and
refusals that write nothing. PostgreSQL tests skip locally without TEST_POSTGRES_URL (never under CI).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import base_config
from tracker import create_app, dbcopy
from tracker.extensions import db
from tracker.jobs import OutboxTask
from tracker.money import ScaledDecimal

DEMO_PASSWORD = "copy-demo-password"
SECRET = "Not-To-Be-Printed-42"


# ---- the source: the README's demo, in SQLite -------------------------------------------------


def _invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory, broker_dir) -> str:
    """A migrated SQLite file with a small demo organisation (eighteen people reach the first one with
    other income), plus one outbox row: JSON arguments to copy."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dbcopy') / 'tracker.sqlite'}"
    app = create_app(base_config(url, broker_dir))
    assert _invoke(app, "db", "upgrade").exit_code == 0
    seeded = _invoke(
        app,
        "demo",
        "seed",
        "--people",
        "18",
        "--months",
        "2",
        "--seed",
        "11",
        "--today",
        "2026-11-26",
        "--password-stdin",
        input=DEMO_PASSWORD + "\n",
    )
    assert seeded.exit_code == 0, seeded.output
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(
                OutboxTask.__table__.insert(),
                {"task_name": "tracker.documents.render", "args": [7, "2026-11-26"], "status": "sent"},
            )
        db.engine.dispose()
    return url


def _postgres(url: str, **parts) -> str:
    """``url`` spelt another way: ``postgres://`` and, when asked, a password."""
    return sa.make_url(url).set(drivername="postgres", **parts).render_as_string(hide_password=False)


def _migrated(make_app, url: str) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    assert _invoke(app, "db", "upgrade").exit_code == 0
    with app.app_context():
        db.engine.dispose()


def _copy(make_app, source_url: str, to: str, *extra: str):
    return _invoke(make_app(SQLALCHEMY_DATABASE_URI=source_url), "db", "copy", "--to", to, *extra)


# ---- what is compared, read here without tracker/dbcopy.py -------------------------------------


def _columns(kind: type) -> list[tuple[str, str]]:
    return [(t.name, c.name) for t in db.metadata.sorted_tables for c in t.columns if isinstance(c.type, kind)]


def totals(url: str) -> dict:
    """Rows in every table, the stored pence of every money column, SQL NULLs in every JSON column."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(sa.inspect(conn).get_table_names())
            return {
                "rows": {t: conn.scalar(sa.text(f'SELECT COUNT(*) FROM "{t}"')) for t in tables},
                "pence": {
                    f"{t}.{c}": int(conn.scalar(sa.text(f'SELECT COALESCE(SUM("{c}"), 0) FROM "{t}"')))
                    for t, c in _columns(ScaledDecimal)
                },
                "sql_nulls": {
                    f"{t}.{c}": conn.scalar(sa.text(f'SELECT COUNT(*) FROM "{t}" WHERE "{c}" IS NULL'))
                    for t, c in _columns(sa.JSON)
                },
                "revision": conn.scalar(sa.text("SELECT version_num FROM alembic_version")),
            }
    finally:
        engine.dispose()


def every_row(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
                for t in db.metadata.sorted_tables
            }
    finally:
        engine.dispose()


# ---- PostgreSQL ------------------------------------------------------------------------------


def assert_worth_copying(before: dict) -> None:
    """The demo has rows and pence where the copy could lose them, and SQL NULLs beside JSON nulls."""
    for table in ("person", "contribution", "payment", "expense", "other_income", "outbox_task", "audit_event"):
        assert before["rows"][table] > 0, table
    for column in ("payment.amount", "expense.amount", "other_income.amount", "contribution.value_owed"):
        assert before["pence"][column] > 0, column
    assert before["sql_nulls"]["payment.check_snapshot"] > 0


def sign_in_and_add_a_person(app) -> int:
    """A demo user signs in on the copy, sees the people, and records a new one; returns its id."""
    client = app.test_client()
    signed_in = client.post("/sign-in", data={"email": "admin@example.org", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302
    listed = client.get("/people/")
    assert listed.status_code == 200
    assert "Zoë Hartley" in listed.get_data(as_text=True)
    added = client.post("/people/new", data={"name": "Copied Casey"})
    assert added.status_code == 302
    return int(added.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_demo_copies_to_postgresql_with_every_row_and_penny_and_the_app_runs_on_it(
    make_app, demo_sqlite, own_postgres_url
):
    before = totals(demo_sqlite)
    assert_worth_copying(before)
    _migrated(make_app, own_postgres_url)

    # A postgres:// URL with a password, as hosting platforms give it; small batches.
    result = _copy(make_app, demo_sqlite, _postgres(own_postgres_url, password=SECRET), "--batch-size", "7")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "***" in result.output
    assert "Every table matches" in result.output
    assert "DIFFERENT" not in result.output
    assert totals(own_postgres_url) == before
    rows = every_row(own_postgres_url)
    assert rows == every_row(demo_sqlite)

    # The id sequences were moved past the copied rows, or this insert would hit a duplicate key.
    new_id = sign_in_and_add_a_person(make_app(SQLALCHEMY_DATABASE_URI=own_postgres_url))
    assert new_id == max(row[0] for row in rows["person"]) + 1
    after_new = totals(own_postgres_url)
    assert after_new["rows"]["person"] == before["rows"]["person"] + 1

    # A second copy onto the now non-empty target is refused and changes nothing.
    again = _copy(make_app, demo_sqlite, own_postgres_url)
    assert again.exit_code != 0
    assert "is not empty" in again.output
    assert "Nothing was written" in again.output
    assert totals(own_postgres_url) == after_new


def test_an_unmigrated_target_is_refused_and_left_untouched(make_app, demo_sqlite, own_postgres_url):
    result = _copy(make_app, demo_sqlite, _postgres(own_postgres_url, password=SECRET))
    assert result.exit_code != 0
    assert "is not migrated" in result.output and "flask --app wsgi db upgrade" in result.output
    assert SECRET not in result.output
    engine = sa.create_engine(own_postgres_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_a_copy_onto_the_database_in_use_is_refused(make_app, own_postgres_url):
    _migrated(make_app, own_postgres_url)
    before = totals(own_postgres_url)
    for to in (
        own_postgres_url,
        _postgres(own_postgres_url, password=SECRET),
        _postgres(own_postgres_url, host="localhost"),
    ):
        result = _copy(make_app, own_postgres_url, to)
        assert result.exit_code != 0, to
        assert "is the database the tracker is using now" in result.output, result.output
        assert SECRET not in result.output
    assert totals(own_postgres_url) == before


def test_a_copy_that_comes_out_different_is_rolled_back(make_app, demo_sqlite, own_postgres_url, monkeypatch):
    _migrated(make_app, own_postgres_url)
    empty = totals(own_postgres_url)
    whole = dbcopy.copy_select

    def lose_the_expenses(table: sa.Table) -> sa.Select:
        return whole(table).where(sa.false()) if table.name == "expense" else whole(table)

    monkeypatch.setattr(dbcopy, "copy_select", lose_the_expenses)
    result = _copy(make_app, demo_sqlite, own_postgres_url)
    assert result.exit_code == 1
    assert "DIFFERENT" in result.output and "differs from the source in expense" in result.output
    assert totals(own_postgres_url) == empty


# ---- without PostgreSQL ----------------------------------------------------------------------


def test_db_help_lists_copy(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert "copy" in _invoke(app, "db", "--help").output
    assert "db upgrade" in _invoke(app, "db", "copy", "--help").output


def test_only_a_postgresql_target_other_than_the_source_is_taken(make_app, demo_sqlite, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    refused = _copy(make_app, demo_sqlite, other)
    assert refused.exit_code != 0 and "must be a PostgreSQL database" in refused.output
    itself = _copy(make_app, demo_sqlite, demo_sqlite)
    assert itself.exit_code != 0 and "is the database the tracker is using now" in itself.output
    assert not (tmp_path / "other.sqlite").exists()  # refused before it was opened


def test_target_urls_are_read_as_database_url_is_and_printed_without_passwords():
    assert dbcopy.target_url("postgres://u:pw@db.example:5432/t") == "postgresql+psycopg://u:pw@db.example:5432/t"
    assert dbcopy.target_url(" postgresql://u@h/t ") == "postgresql+psycopg://u@h/t"
    assert dbcopy.masked("postgresql+psycopg://u:pw@h/t") == "postgresql+psycopg://u:***@h/t"
    assert "pw" not in dbcopy.masked("postgres://u:pw@h/t")
    assert dbcopy.scrub("failed for pw-77", sa.make_url("postgresql://u:pw-77@h/t")) == "failed for ***"


def test_the_source_is_read_in_one_snapshot(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    reader, writer = sa.create_engine(url), sa.create_engine(url)
    try:
        with writer.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        with dbcopy.read_snapshot(reader) as conn:
            first = conn.scalar(sa.text("SELECT COUNT(*) FROM t"))
            with writer.begin() as other:  # the tracker still writing while the copy reads
                other.execute(sa.text("INSERT INTO t VALUES (2)"))
            second = conn.scalar(sa.text("SELECT COUNT(*) FROM t"))
        assert first == second == 1
        with reader.connect() as conn:
            assert conn.scalar(sa.text("SELECT COUNT(*) FROM t")) == 2
    finally:
        reader.dispose()
        writer.dispose()
