"""Copy the tracker's database into an empty, migrated PostgreSQL database, and prove the copy.

``flask --app wsgi db copy --to URL`` is the way from the embedded SQLite default to a production
database (docs/operations.md, "Moving to PostgreSQL"). The work is done by plain functions on two
SQLAlchemy engines, so tests can call them:

- the source is read in one consistent snapshot (one read transaction on SQLite, a repeatable-read,
  read-only transaction on PostgreSQL), table by table in foreign-key order, in batches, so a large
  table never sits in memory at once;
- the target must be PostgreSQL, migrated to the source's revision, and empty. It is written in one
  transaction: a refusal, a failure or a difference leaves it exactly as it was;
- the id sequences are moved past the copied rows; then every table's row count and money totals
  (the stored whole pence of every money column) are compared on both sides before the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from config import _normalise_db_url
from tracker.money import ScaledDecimal

if TYPE_CHECKING:
    from flask import Flask

BATCH_SIZE = 1000
VERSION_TABLE = "alembic_version"

Progress = Callable[[str, int], None]


class CopyRefused(Exception):
    """The copy cannot start; nothing was written."""


class CopyFailed(Exception):
    """The copy went wrong or came out different; the target's transaction was rolled back."""

    def __init__(self, message: str, report: CopyReport | None = None):
        super().__init__(message)
        self.report = report


# ---- URLs ------------------------------------------------------------------------------------


def target_url(url: str) -> str:
    """The URL as the app itself would read it in DATABASE_URL (``postgres://`` and ``postgresql://``
    both mean PostgreSQL through psycopg)."""
    return _normalise_db_url(url.strip())


def masked(url: str | sa.URL) -> str:
    """A URL fit to print: the password, if any, as ``***``."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(a database URL that could not be read)"


def scrub(text: str, *urls: sa.URL) -> str:
    """``text`` without the password of any of these URLs (a driver's message may quote one)."""
    for url in urls:
        if url.password:
            text = text.replace(str(url.password), "***")
    return text


def _identity(url: sa.URL) -> str:
    """What names one database: the URL without the driver and the password."""
    return url.set(drivername=url.get_backend_name(), password=None).render_as_string(hide_password=True)


def _server_identity(conn: sa.Connection) -> tuple | None:
    if conn.dialect.name != "postgresql":
        return None
    query = "SELECT current_database(), inet_server_addr(), inet_server_port(), pg_postmaster_start_time()"
    return tuple(conn.execute(sa.text(query)).one())


def same_database(src: sa.Connection, dst: sa.Connection) -> bool:
    """True when both connections reach one database: by their URLs, or (for two PostgreSQL URLs
    that name one server differently) by what the server says it is."""
    if _identity(src.engine.url) == _identity(dst.engine.url):
        return True
    here = _server_identity(src)
    return here is not None and here == _server_identity(dst)


def refuse_by_url(source: sa.Engine, target: sa.Engine) -> None:
    """Refusals that need no connection (opening a SQLite URL would already create its file)."""
    if _identity(source.url) == _identity(target.url):
        raise CopyRefused(_in_use(target.url))
    if target.dialect.name != "postgresql":
        raise CopyRefused(f"The target must be a PostgreSQL database (postgresql://...), not {masked(target.url)}.")


def _in_use(url: sa.URL) -> str:
    return f"{masked(url)} is the database the tracker is using now: give a new PostgreSQL database."


# ---- what is compared ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """One table on one side: its rows, and the sum of the stored whole pence of each money column."""

    rows: int
    pence: dict[str, int]


@dataclass(frozen=True)
class TableCheck:
    table: str
    source: Tally
    target: Tally

    @property
    def same(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True)
class CopyReport:
    revision: str
    tables: list[TableCheck]
    sequences: int
    not_copied: list[str]
    target: str  # masked

    @property
    def different(self) -> list[str]:
        return [check.table for check in self.tables if not check.same]

    def lines(self) -> list[str]:
        out = [f"{'table':<28} {'source rows':>12} {'target rows':>12}  check"]
        for check in self.tables:
            out.append(
                f"{check.table:<28} {check.source.rows:>12,} {check.target.rows:>12,}  "
                f"{'ok' if check.same else 'DIFFERENT'}"
            )
            for column, pence in check.source.pence.items():
                out.append(f"  {column + ' (pence)':<26} {pence:>12,} {check.target.pence.get(column, 0):>12,}")
        out.append(f"{VERSION_TABLE}: revision {self.revision} on both sides.")
        out.append(f"Id sequences reset past the copied rows: {self.sequences}.")
        if self.not_copied:
            out.append("Not copied (not part of the tracker's schema): " + ", ".join(self.not_copied) + ".")
        return out


def money_columns(table: sa.Table) -> list[sa.Column]:
    return [column for column in table.columns if isinstance(column.type, ScaledDecimal)]


def tally(conn: sa.Connection, table: sa.Table) -> Tally:
    """Rows and money totals of one table, as stored (whole pence), in one query."""
    columns = money_columns(table)
    sums = [sa.func.coalesce(sa.func.sum(sa.type_coerce(column, sa.BigInteger)), 0) for column in columns]
    row = conn.execute(sa.select(sa.func.count(), *sums).select_from(table)).one()
    return Tally(int(row[0]), {column.name: int(total) for column, total in zip(columns, row[1:], strict=True)})


def compare(src: sa.Connection, dst: sa.Connection, tables: Sequence[sa.Table]) -> list[TableCheck]:
    return [TableCheck(table.name, tally(src, table), tally(dst, table)) for table in tables]


# ---- reading the source ----------------------------------------------------------------------


@contextmanager
def read_snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection that sees the whole source as it was at one moment, and writes nothing."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            # The sqlite3 module runs a SELECT outside any transaction, each seeing the file as it is
            # then: begin one explicitly. In WAL mode its snapshot starts at the first read.
            conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql("SELECT COUNT(*) FROM sqlite_master").scalar()
            try:
                yield conn
            finally:
                conn.rollback()
        return
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def revision(conn: sa.Connection) -> str | None:
    """The database's migration revision (heads joined by commas), or None when it was never migrated."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    heads = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE} ORDER BY version_num")).scalars()
    return ",".join(heads) or None


def not_copied(src: sa.Connection, tables: Sequence[sa.Table]) -> list[str]:
    """Tables in the source that are not the tracker's (the migration table is checked, not copied)."""
    known = {table.name for table in tables} | {VERSION_TABLE}
    return sorted(set(sa.inspect(src).get_table_names()) - known)


# ---- refusing a target -----------------------------------------------------------------------


def upgrade_hint(url: sa.URL) -> str:
    return f"DATABASE_URL={masked(url)} flask --app wsgi db upgrade"


def _check_revisions(src: sa.Connection, dst: sa.Connection) -> str:
    where = masked(dst.engine.url)
    source_rev, target_rev = revision(src), revision(dst)
    if target_rev is None:
        raise CopyRefused(
            f"The target {where} is not migrated: run `{upgrade_hint(dst.engine.url)}` first. Nothing was written."
        )
    if source_rev != target_rev:
        raise CopyRefused(
            f"The source is at migration revision {source_rev or '(none)'} and the target at {target_rev}: they must "
            "be the same. Run `flask --app wsgi db upgrade` on the source and "
            f"`{upgrade_hint(dst.engine.url)}` on the target. Nothing was written."
        )
    return target_rev


def _check_empty(dst: sa.Connection, tables: Sequence[sa.Table]) -> None:
    where = masked(dst.engine.url)
    inspector = sa.inspect(dst)
    missing = [table.name for table in tables if not inspector.has_table(table.name)]
    if missing:
        raise CopyRefused(
            f"The target {where} lacks the tables {', '.join(missing)}: run `{upgrade_hint(dst.engine.url)}`. "
            "Nothing was written."
        )
    full = [table.name for table in tables if dst.scalar(sa.select(sa.literal(1)).select_from(table).limit(1))]
    if full:
        raise CopyRefused(
            f"The target {where} is not empty (rows in {', '.join(full)}). Copy only into a new, migrated "
            "database. Nothing was written."
        )


def refuse_unless_ready(src: sa.Connection, dst: sa.Connection, tables: Sequence[sa.Table]) -> str:
    """The revision both databases are at; ``CopyRefused`` before anything is written when the target
    is the source itself, not migrated, at another revision, or not empty."""
    if same_database(src, dst):
        raise CopyRefused(_in_use(dst.engine.url))
    found = _check_revisions(src, dst)
    _check_empty(dst, tables)
    return found


# ---- writing the target ----------------------------------------------------------------------


def _is_json(column: sa.Column) -> bool:
    return isinstance(column.type, sa.JSON)


def copy_select(table: sa.Table) -> sa.Select:
    """All of a table, in key order (a row that refers to an earlier one of its table comes after it).
    JSON is read as its text, so SQL NULL and JSON ``null`` stay apart."""
    columns = [sa.cast(column, sa.Text).label(column.key) if _is_json(column) else column for column in table.columns]
    return sa.select(*columns).order_by(*table.primary_key.columns)


def copy_insert(table: sa.Table) -> sa.Insert:
    """An INSERT of every column from parameters named ``v_<column>``, JSON given as its text."""
    values = {
        column.key: sa.cast(sa.bindparam(f"v_{column.key}", type_=sa.Text), column.type)
        if _is_json(column)
        else sa.bindparam(f"v_{column.key}", type_=column.type)
        for column in table.columns
    }
    return table.insert().values(values)


def copy_table(src: sa.Connection, dst: sa.Connection, table: sa.Table, batch_size: int = BATCH_SIZE) -> int:
    """Copy one table in batches of ``batch_size`` rows; returns how many rows were copied."""
    insert = copy_insert(table)
    result = src.execute(copy_select(table).execution_options(yield_per=batch_size))
    copied = 0
    for batch in result.partitions():
        dst.execute(insert, [{f"v_{key}": value for key, value in row._mapping.items()} for row in batch])
        copied += len(batch)
    return copied


def integer_key(table: sa.Table) -> sa.Column | None:
    keys = list(table.primary_key.columns)
    return keys[0] if len(keys) == 1 and isinstance(keys[0].type, sa.Integer) else None


def reset_sequences(dst: sa.Connection, tables: Sequence[sa.Table]) -> int:
    """Move each id sequence to MAX(id) + 1 (1 for an empty table); returns how many were moved."""
    moved = 0
    for table in tables:
        key = integer_key(table)
        if key is None:
            continue
        sequence = sa.func.pg_get_serial_sequence(dst.dialect.identifier_preparer.format_table(table), key.name)
        next_id = sa.func.coalesce(sa.func.max(key), 0) + 1
        moved += dst.scalar(sa.select(sa.func.setval(sequence, next_id, False)).select_from(table)) is not None
    return moved


def _copy_tables(
    src: sa.Connection, dst: sa.Connection, tables: Sequence[sa.Table], batch_size: int, progress: Progress | None
) -> None:
    for table in tables:
        try:
            copied = copy_table(src, dst, table, batch_size)
        except sa.exc.DBAPIError as exc:
            message = scrub(str(exc.orig).strip().splitlines()[0], src.engine.url, dst.engine.url)
            raise CopyFailed(f"Copying {table.name} failed: {message}. Nothing was written.") from exc
        if progress:
            progress(table.name, copied)


def copy_database(
    source: sa.Engine,
    target: sa.Engine,
    metadata: sa.MetaData,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every table of ``metadata`` from ``source`` into the empty, migrated ``target`` and check it.

    Raises ``CopyRefused`` (nothing written) or ``CopyFailed`` (rolled back; a difference carries the
    report). Returns the report of a copy that was committed and matches the source.
    """
    refuse_by_url(source, target)
    tables = list(metadata.sorted_tables)
    with read_snapshot(source) as src, target.begin() as dst:
        found = refuse_unless_ready(src, dst, tables)
        _copy_tables(src, dst, tables, batch_size, progress)
        report = CopyReport(
            revision=found,
            sequences=reset_sequences(dst, tables),
            tables=compare(src, dst, tables),
            not_copied=not_copied(src, tables),
            target=masked(target.url),
        )
        if report.different:
            raise CopyFailed(
                f"The copy differs from the source in {', '.join(report.different)}: it was rolled back, "
                "and the target is still empty.",
                report,
            )
    return report


# ---- the command -----------------------------------------------------------------------------

HELP = """Copy every table of this tracker's database (DATABASE_URL) into an empty PostgreSQL database.

Create the target database and migrate it first: DATABASE_URL=URL flask --app wsgi db upgrade. Stop the
tracker (web, worker and beat) and back it up before copying.

The source is read in one consistent snapshot and the target written in one transaction; then the id
sequences are reset, and the rows and money totals of every table are compared on both sides. A target
that is not empty, not migrated, at another revision, or the source itself is refused, and nothing is
written. Any difference is an error: the copy is rolled back and the command exits non-zero.
"""


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(code)


def _run(source: sa.Engine, target: sa.Engine, metadata: sa.MetaData, batch_size: int) -> CopyReport:
    def progress(table: str, rows: int) -> None:
        click.echo(f"  copied {table:<28} {rows:>12,} rows")

    try:
        return copy_database(source, target, metadata, batch_size=batch_size, progress=progress)
    except CopyRefused as exc:
        _fail(str(exc), 2)
    except CopyFailed as exc:
        for line in exc.report.lines() if exc.report else []:
            click.echo(line)
        _fail(str(exc), 1)
    except sa.exc.OperationalError as exc:
        message = scrub(str(exc.orig).strip(), source.url, target.url)
        _fail(f"Could not use the databases ({masked(source.url)} to {masked(target.url)}): {message}", 2)


@click.command("copy", help=HELP)
@click.option(
    "--to",
    "to_url",
    required=True,
    metavar="URL",
    help="The empty, migrated PostgreSQL database (postgres://, postgresql:// or postgresql+psycopg://).",
)
@click.option(
    "--batch-size",
    default=BATCH_SIZE,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Rows read and written at a time.",
)
@with_appcontext
def copy_command(to_url: str, batch_size: int) -> None:
    from tracker.extensions import db

    try:
        target = sa.create_engine(target_url(to_url))
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError):
        _fail(f"--to is not a database URL: {masked(to_url)}", 2)
    click.echo(f"Copying {masked(db.engine.url)} to {masked(target.url)}")
    try:
        report = _run(db.engine, target, db.metadata, batch_size)
    finally:
        target.dispose()
    for line in report.lines():
        click.echo(line)
    click.echo(f"Every table matches. The copy is committed in {report.target}: point DATABASE_URL at it.")


def register_db_copy(app: Flask) -> None:
    """Add ``copy`` to Flask-Migrate's ``db`` group (registered by ``migrate.init_app``)."""
    group = app.cli.commands["db"]
    if not isinstance(group, click.Group):
        raise RuntimeError("Flask-Migrate's db command group is missing: call migrate.init_app first.")
    group.add_command(copy_command)
