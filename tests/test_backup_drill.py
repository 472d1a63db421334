"""The restore drill of docs/operations.md, on a small demo organisation.

Back up a live database with the documented method, restore the backup into a fresh database,
and check that nothing was lost: the same rows in every table, the same money totals, and a
restored database that takes new records. SQLite always (its online backup API, never a plain
copy); PostgreSQL with pg_dump and pg_restore when TEST_POSTGRES_URL is set (always under CI).
"""

from __future__ import annotations

import glob
import re
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from tests.conftest import IN_CI, scratch_postgres
from tracker import demo
from tracker.extensions import db

MONEY_TABLES = ("payment", "expense", "other_income")


# ---- what is compared ------------------------------------------------------------------------


def snapshot(url: str) -> dict:
    """Rows per table and money totals in pence, read through a connection of its own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(sa.inspect(conn).get_table_names())
            rows = {t: conn.scalar(sa.text(f'SELECT COUNT(*) FROM "{t}"')) for t in tables}
            pence = {t: int(conn.scalar(sa.text(f'SELECT COALESCE(SUM(amount), 0) FROM "{t}"'))) for t in MONEY_TABLES}
    finally:
        engine.dispose()
    return {"rows": rows, "pence": pence}


def seed_source(make_app, url: str) -> dict:
    """Build the schema with the migrations, load the demo organisation, and return its snapshot."""
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        # Eighteen people reach the first showcase person with other income (tracker/demo.py, SHOWCASE).
        demo.seed(people=18, months=2, seed=11, today=date(2026, 11, 26))
        db.session.remove()
    before = snapshot(url)
    for table in ("person", "contribution", "payment", "expense", "other_income", "alembic_version"):
        assert before["rows"][table] > 0, table
    assert all(before["pence"].values())
    return before


def assert_takes_new_records(make_app, url: str) -> None:
    """A restore that lost its id sequences would fail here with a duplicate key."""
    from tracker.people import service

    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        highest = db.session.scalar(sa.text("SELECT MAX(id) FROM person"))
        person = service.create_person({"name": "Restored Rowan"}, actor=None)
        db.session.commit()
        assert person.id > highest
        db.session.remove()


# ---- SQLite ----------------------------------------------------------------------------------


def backup_sqlite_python(source: Path, target: Path) -> None:
    """Python's sqlite3 online backup, as docs/operations.md shows it."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def backup_sqlite_cli(source: Path, target: Path) -> None:
    """``sqlite3 SOURCE ".backup 'TARGET'"``, as docs/operations.md shows it."""
    program = shutil.which("sqlite3")
    if program is None:
        pytest.skip("the sqlite3 program is not installed; the Python backup is tested instead")
    subprocess.run([program, str(source), f".backup '{target}'"], check=True, capture_output=True, timeout=60)


@pytest.mark.parametrize("backup", [backup_sqlite_python, backup_sqlite_cli], ids=["python", "sqlite3-program"])
def test_sqlite_backup_restores_every_row_and_every_penny(make_app, tmp_path, backup):
    live = tmp_path / "tracker.sqlite"
    before = seed_source(make_app, f"sqlite:///{live}")

    # The source stays open in WAL mode while it is backed up, as on a running server.
    held = sqlite3.connect(live)
    try:
        assert held.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        held.execute("BEGIN")
        held.execute("SELECT COUNT(*) FROM person").fetchone()  # a reader mid-transaction
        backup(live, tmp_path / "backup.sqlite")
    finally:
        held.close()

    # Restore: the backup is not in use, so it is copied into place as a fresh database.
    restored = tmp_path / "restored" / "tracker.sqlite"
    restored.parent.mkdir()
    shutil.copyfile(tmp_path / "backup.sqlite", restored)
    with sqlite3.connect(restored) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()

    assert snapshot(f"sqlite:///{restored}") == before
    assert_takes_new_records(make_app, f"sqlite:///{restored}")


# ---- PostgreSQL ------------------------------------------------------------------------------


def _version(path: str) -> tuple[int, ...]:
    found = re.search(r"/postgresql/([\d.]+)/", path)
    return tuple(int(part) for part in found.group(1).split(".")) if found else ()


def postgres_program(name: str) -> str:
    """pg_dump or pg_restore: on the PATH (Debian's wrapper picks the server's version), else the
    newest /usr/lib/postgresql/*/bin. Missing: skip locally, fail under CI=true."""
    found = shutil.which(name)
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    if found or candidates:
        return found or candidates[-1]
    message = f"{name} is not installed (looked on the PATH and in /usr/lib/postgresql/*/bin)"
    if IN_CI:
        pytest.fail(message + "; it is required under CI=true.")
    pytest.skip(message)


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore read it (no +psycopg driver name)."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_postgresql_dump_restores_every_row_and_every_penny(make_app, postgres_url, own_postgres_url, tmp_path):
    pg_dump, pg_restore = postgres_program("pg_dump"), postgres_program("pg_restore")
    before = seed_source(make_app, own_postgres_url)

    dump = tmp_path / "tracker.dump"
    subprocess.run(
        [pg_dump, "--format=custom", f"--file={dump}", libpq_url(own_postgres_url)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert dump.stat().st_size > 0

    with scratch_postgres(postgres_url, "tracker_restore") as restored:
        subprocess.run(
            [pg_restore, "--exit-on-error", "--no-owner", f"--dbname={libpq_url(restored)}", str(dump)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        assert snapshot(restored) == before
        assert_takes_new_records(make_app, restored)
        # make_app's apps are disposed only at teardown: close their connections before the drop.
        sa.create_engine(restored).dispose()
