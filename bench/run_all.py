"""Every benchmark, each with its baseline measured in the same run, and one table of the ratios.

Usage (from the repository root, after ``python3 dev.py setup``):

    .venv/bin/python bench/run_all.py                 # full sizes; writes the table into docs/benchmarks.md
    .venv/bin/python bench/run_all.py --quick         # tiny sizes, SQLite and the filesystem broker; writes nothing
    .venv/bin/python bench/run_all.py --only check documents
    .venv/bin/python bench/run_all.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_all

Each script prints its usual report and, for each headline figure, a ``RESULT {...}`` line
(``_common.result``); this script gathers those lines. Full runs write them, with the date, the
machine and its load, between the ``run_all`` markers in docs/benchmarks.md. The quick mode runs
in the test command (tests/test_bench.py) so that a benchmark that crashes fails the build; its
timings mean nothing and are never asserted.

Exit status: non-zero when a benchmark crashed or printed no result; a missed target is reported,
not an error (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "benchmarks.md"
START, END = "<!-- run_all:start -->", "<!-- run_all:end -->"
PREFIX = "RESULT "


@dataclass(frozen=True)
class Bench:
    name: str
    quick: tuple[str, ...]  # tiny sizes: proves the script runs, measures nothing
    sqlite_only: bool = False  # full runs keep their own default database


BENCHES = (
    Bench("check", ("--repeat", "5", "--warmup", "1", "--payments", "40", "--years", "1")),
    Bench("positions", ("--people", "20", "--months", "2", "--sample", "5")),
    Bench("runs", ("--payments", "10", "--people", "5", "--repeat", "1")),
    Bench("dashboard", ("--people", "30", "--small", "0", "--payments", "4", "--repeat", "1", "--profile-top", "0")),
    Bench("documents", ("--documents", "4", "--profile-top", "0")),
    Bench(
        "api_load",
        ("--people", "10", "--months", "1", "--seconds", "0.5", "--warmup", "0.1", "--single", "0")
        + ("--connections", "2", "--loader", "python"),
    ),
)


def results_of(output: str) -> list[dict]:
    return [json.loads(line[len(PREFIX) :]) for line in output.splitlines() if line.startswith(PREFIX)]


def run_one(bench: Bench, *, quick: bool, database_url: str | None, scratch: Path) -> tuple[int, list[dict]]:
    """Run one script, echoing its report; its exit status and its RESULT rows."""
    args = [sys.executable, str(HERE / f"{bench.name}.py")]
    if quick:
        args += [*bench.quick, "--database-url", f"sqlite:///{scratch / (bench.name + '.sqlite')}"]
    elif database_url:
        args += ["--database-url", database_url.replace("bench_all", f"bench_{bench.name}")]
    print(f"\n######## {bench.name}: {' '.join(args[1:])}", flush=True)
    done = subprocess.run(args, cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(done.stdout, flush=True)
    return done.returncode, results_of(done.stdout)


def machine_text() -> str:
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average at start {load}"
    )


def table(rows: list[dict], started: str, machine: str) -> str:
    lines = [
        START,
        f"Last full run of `bench/run_all.py`: {started}; {machine}.",
        "",
        "| benchmark | measure | ratio | baseline (same run) | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        met = {True: "yes", False: "no", None: "(reported only)"}[r.get("met")]
        lines.append(
            f"| {r['bench']} | {r['measure']} | {r['ratio']:.3f} | {r['baseline']} | {r.get('target') or ''} | {met} |"
        )
    return "\n".join([*lines, END])


def write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if START in doc and END in doc:
        head, rest = doc.split(START, 1)
        doc = head + text + rest.split(END, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n## The latest full run\n\n" + text + "\n"
    DOC.write_text(doc, encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes on SQLite; proves each script runs")
    ap.add_argument("--only", nargs="+", choices=[b.name for b in BENCHES], help="run only these")
    ap.add_argument("--database-url", help="a PostgreSQL URL whose database is bench_all (renamed per script)")
    ap.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args(argv)
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    started, machine = time.strftime("%Y-%m-%d %H:%M"), machine_text()
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"tracker-run-all-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    rows, failed = [], []
    for bench in chosen:
        code, found = run_one(bench, quick=args.quick, database_url=args.database_url, scratch=scratch)
        rows += found
        if code != 0 or not found:
            failed.append(f"{bench.name} (exit {code}, {len(found)} results)")
    text = table(rows, started, machine)
    print("\n" + text)
    if not (args.quick or args.no_write or args.only or failed):
        write_doc(text)
        print(f"written to {DOC}")
    if failed:
        print("FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
