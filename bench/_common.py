"""Shared helpers for the benchmark scripts: a throw-away database, the app, the schema, statistics.

Nothing here is imported by the app. Each script builds its own data in a temporary SQLite file
(the default) or in a PostgreSQL database whose name starts with ``bench_`` (``--database-url``);
a PostgreSQL database is created at the start and dropped at the end, even after an error.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

PG_DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"


# ---- databases ------------------------------------------------------------------------------


def normalise_url(url: str) -> str:
    from config import _normalise_db_url

    return _normalise_db_url(url)


def _pg_admin_url(url: str) -> sa.URL:
    return make_url(url).set(database="postgres")


def _check_pg_name(name: str | None) -> str:
    if not name or not name.startswith("bench_"):
        raise SystemExit(
            f"Refusing to use PostgreSQL database {name!r}: benchmark databases must be "
            "named bench_* (the script creates and drops it)."
        )
    return name


def _drop_pg(url: str) -> None:
    u = make_url(url)
    name = _check_pg_name(u.database)
    admin = sa.create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _create_pg(url: str) -> None:
    u = make_url(url)
    name = _check_pg_name(u.database)
    if u.host not in (None, "127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"Benchmarks only run against a database on this machine, not {u.host}.")
    _drop_pg(url)
    admin = sa.create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def scratch(database_url: str | None, *, label: str):
    """Yield (database URL, scratch folder). SQLite: a file in the folder. PostgreSQL: a fresh
    bench_* database, dropped on the way out (also on error)."""
    folder = Path(tempfile.mkdtemp(prefix=f"tracker-bench-{label}-"))
    url = normalise_url(database_url) if database_url else f"sqlite:///{folder / 'bench.sqlite'}"
    is_pg = url.startswith("postgresql")
    try:
        if is_pg:
            _create_pg(url)
        yield url, folder
    finally:
        if is_pg:
            try:
                _drop_pg(url)
                print(f"dropped database {make_url(url).database}")
            except Exception as exc:  # report, keep the original error
                print(f"could not drop the database: {exc!r}", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)


def app_config(url: str, folder: Path, **extra) -> dict:
    from config import celery_settings

    broker = folder / "broker"
    for sub in ("broker", "broker-processed", "broker-control", "documents"):
        (folder / sub).mkdir(exist_ok=True)
    cfg = {
        "SECRET_KEY": "bench-only-secret-not-for-production-use",
        # production needs the organisation's payer kind (notional earnings); the demo's
        "ORGANISATION_PAYER": "public_body",
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "STORAGE_DIR": str(folder / "documents"),
        "BROKER_DIR": str(broker),
        "CELERY": celery_settings(None, None, str(broker), url),
    }
    cfg.update(extra)
    return cfg


def make_app(url: str, folder: Path, **extra):
    from tracker import create_app

    return create_app(app_config(url, folder, **extra))


def build_schema(app) -> str:
    """The schema through the app's own migrations (what production runs). Call inside an app
    context. Falls back to ``db.create_all()`` only if the migrations fail, and says so."""
    import flask_migrate

    from tracker.extensions import db

    logging.disable(logging.INFO)  # alembic's env.py re-enables its INFO lines; keep the output short
    try:
        flask_migrate.upgrade()
        how = "flask_migrate.upgrade()"
    except Exception as exc:  # pragma: no cover - only when migrations are broken
        print(f"NOTE: migrations failed ({type(exc).__name__}: {exc}); using db.create_all() instead", file=sys.stderr)
        db.session.rollback()
        db.create_all()
        how = "db.create_all() (migrations failed)"
    finally:
        logging.disable(logging.NOTSET)
    # Tables a model defines but no migration creates yet (work in progress elsewhere).
    db.create_all()
    return how


def load_rules():
    from tracker.extensions import db
    from tracker.rules import service

    service.ensure_default_pack()
    db.session.commit()


def analyze(app) -> None:
    """Fresh planner statistics after a bulk load (as an operator would after an import)."""
    from tracker.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))


# ---- statistics and reporting ---------------------------------------------------------------


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a list of numbers."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = max(0, min(len(data) - 1, int(round(p / 100 * len(data) + 0.5)) - 1))
    return data[k]


def summary_ms(samples_ns) -> dict:
    ms = [s / 1e6 for s in samples_ns]
    return {
        "n": len(ms),
        "median": statistics.median(ms),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "mean": statistics.fmean(ms),
        "min": min(ms),
        "max": max(ms),
    }


RESULT_PREFIX = "RESULT "


def result(bench: str, measure: str, ratio: float, *, baseline: str, target: str = "", met: bool | None = None) -> None:
    """One headline figure as a machine-readable line (bench/run_all.py collects these into
    docs/benchmarks.md). ``ratio`` is the measure against ``baseline``, measured in the same run."""
    row = {"bench": bench, "measure": measure, "ratio": round(ratio, 3), "baseline": baseline, "target": target}
    row["met"] = met
    print(RESULT_PREFIX + json.dumps(row), flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def header(title: str, url: str) -> None:
    print(f"== {title}")
    print(
        f"   date {time.strftime('%Y-%m-%d %H:%M')}  python {platform.python_version()}  "
        f"cores {os.cpu_count()}  sqlalchemy {sa.__version__}"
    )
    print(f"   database {make_url(url).render_as_string(hide_password=True)}")
    print(f"   load average at start {load_text()} (other work on the machine makes timings noisy)")


def load_text() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def table(rows: list[list], headings: list[str]) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headings)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headings, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


# ---- counting statements and profiling ------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements sent through ``engine`` inside the ``with`` block
    (a ``before_cursor_execute`` listener)."""

    def __init__(self, engine, *, keep: bool = False):
        self.engine, self.n, self.keep, self.statements = engine, 0, keep, []

    def _hit(self, conn, cursor, statement, *a, **k):
        self.n += 1
        if self.keep:
            self.statements.append(" ".join(statement.split()))

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._hit)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._hit)


def profiled(fn):
    """Run ``fn()`` once under cProfile; return (its result, seconds under the profiler, the profile)."""
    import cProfile

    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    try:
        result = fn()
    finally:
        prof.disable()
    return result, time.perf_counter() - t, prof


def profile_lines(prof, top: int = 15, *, sort: str = "cumulative", only: str | None = None) -> str:
    """The ``top`` rows of a cProfile table sorted by ``sort`` ("cumulative" or "tottime"), with
    short file names. ``only`` (a regular expression on the file name, e.g. "tracker/") keeps
    the app's own functions."""
    import io
    import pstats
    import sysconfig

    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats(sort)
    stats.print_stats(*([only] if only else []), top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    site = sysconfig.get_paths()["purelib"] + "/"
    return "\n".join(ln.replace(site, "").replace(str(ROOT) + "/", "") for ln in lines[start:])
