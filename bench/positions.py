"""B3/B4 shape: every person's position, one person at a time, against one GROUP BY query.

Usage (from the repository root, after ``python3 dev.py setup``):

    .venv/bin/python bench/positions.py                  # temporary SQLite file, 10,000 people
    .venv/bin/python bench/positions.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_positions
    .venv/bin/python bench/positions.py --people 10000 --months 12 --today 2026-11-26

Data: ``tracker.demo.seed(people=10000, months=12)`` (about 146,000 payments, claims for about
7 people in 10, contributions, expenses, other income), built through the app's own code.

What it measures, in the same run:

* ``tracker.rules.checks.position(person_id, on)`` for every person, one after the other (what a
  naive dashboard or risk scan would do): total seconds, milliseconds per person, SQL statements;
* the baseline: one ``SELECT person_id, SUM(amount) FROM payment WHERE paid_on BETWEEN ? AND ?
  AND status != 'cancelled' GROUP BY person_id`` over the same date window that ``ledger_for``
  reads (400 days back, 450 days ahead);
* for information, ``tracker.rules.checks.positions(...)`` (all people in a constant number of
  queries) when the app has it, and a split of the per-person time into its parts.

There is no fixed target: the figures and the ratio are reported (see docs/benchmarks.md).
Exits non-zero only if something crashes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
import sqlalchemy as sa  # noqa: E402

GROUP_BY = sa.text(
    "SELECT person_id, SUM(amount) FROM payment WHERE paid_on BETWEEN :start AND :end "
    "AND status != 'cancelled' GROUP BY person_id"
).bindparams(sa.bindparam("start", type_=sa.Date), sa.bindparam("end", type_=sa.Date))


class StatementCounter:
    def __init__(self, engine):
        self.engine, self.n = engine, 0

    def _hit(self, *a, **k):
        self.n += 1

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._hit)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._hit)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--database-url",
        help="PostgreSQL URL of a bench_* database to create and drop (default: a temporary SQLite file)",
    )
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--today", type=date.fromisoformat, default=date.today())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=int, default=1000, help="people timed part by part (where the time goes)")
    args = ap.parse_args(argv)

    with c.scratch(args.database_url, label="positions") as (url, folder):
        app = c.make_app(url, folder)
        c.header(f"positions for {args.people:,} people: checks.position per person vs one GROUP BY", url)
        with app.app_context():
            run(app, args)
    return 0


def run(app, args) -> None:
    from tracker import demo
    from tracker.engine import core as engine
    from tracker.extensions import db
    from tracker.people.models import Person
    from tracker.rules import checks, ledger

    t0 = time.perf_counter()
    how = c.build_schema(app)
    c.load_rules()
    made = demo.seed(
        people=args.people, months=args.months, seed=args.seed, today=args.today, password="bench-password-not-used"
    )
    c.analyze(app)
    print(
        f"   schema by {how}; demo.seed: {made['people']:,} people, {made['claims']:,} claims, "
        f"{made['payments']:,} payments, {made['contributions']:,} contributions, {made['expenses']:,} expenses "
        f"({time.perf_counter() - t0:.1f} s to build)"
    )

    on = args.today
    start, end = on - ledger.BACK, on + ledger.AHEAD
    ids = list(db.session.scalars(sa.select(Person.id).order_by(Person.id)))
    rows_in_window = db.session.execute(
        sa.text(
            "SELECT COUNT(*) FROM payment WHERE paid_on BETWEEN :start AND :end AND status != 'cancelled'"
        ).bindparams(sa.bindparam("start", type_=sa.Date), sa.bindparam("end", type_=sa.Date)),
        {"start": start, "end": end},
    ).scalar()
    db.session.rollback()

    # Baseline: one GROUP BY over the same rows (best of several runs, median reported).
    base_runs = []
    for _ in range(7):
        t = time.perf_counter()
        grouped = db.session.execute(GROUP_BY, {"start": start, "end": end}).all()
        base_runs.append(time.perf_counter() - t)
        db.session.rollback()
    base_s = statistics.median(base_runs)

    # The real thing: checks.position for every person, one after another, in one session.
    checks.position(ids[0], on)  # warm the rule cache and the statement cache
    db.session.rollback()
    with StatementCounter(db.engine) as counter:
        t = time.perf_counter()
        per_person = {}
        for pid in ids:
            per_person[pid] = checks.position(pid, on)
        loop_s = time.perf_counter() - t
    db.session.rollback()
    n = len(ids)
    verdicts = sum(len(v) for v in per_person.values())

    rows = [
        ["baseline: one GROUP BY person_id (SUM)", 1, f"{base_s:.3f}", f"{base_s / n * 1000:.4f}", "1x"],
        [
            "checks.position for every person",
            counter.n,
            f"{loop_s:.2f}",
            f"{loop_s / n * 1000:.3f}",
            f"{loop_s / base_s:,.0f}x",
        ],
    ]

    bulk_note = None
    if hasattr(checks, "positions"):
        checks.positions(sa.select(Person.id), on)  # warm
        db.session.rollback()
        with StatementCounter(db.engine) as bulk_counter:
            t = time.perf_counter()
            bulk = checks.positions(sa.select(Person.id), on)
            bulk_s = time.perf_counter() - t
        db.session.rollback()
        rows.append(
            [
                "(info) checks.positions, all people at once",
                bulk_counter.n,
                f"{bulk_s:.2f}",
                f"{bulk_s / n * 1000:.3f}",
                f"{bulk_s / base_s:,.0f}x",
            ]
        )
        same = sum(
            1 for pid in ids if [v.to_dict() for v in bulk.get(pid, [])] == [v.to_dict() for v in per_person[pid]]
        )
        # its two halves: loading every ledger (ledger.bulk_for) and the engine per person
        t = time.perf_counter()
        loaded = ledger.bulk_for(sa.select(Person.id), on)
        load_s = time.perf_counter() - t
        rules, _ = checks._rules()
        t = time.perf_counter()
        for claims, led in loaded.values():
            engine.position(claims, rules, led, on)
        engine_s = time.perf_counter() - t
        db.session.rollback()
        bulk_note = (
            f"checks.positions gives the same verdicts as checks.position for {same:,} of {n:,} people "
            f"({len(bulk):,} people in its answer); its time: ledger.bulk_for {load_s:.2f} s, "
            f"engine.position {engine_s:.2f} s"
        )

    print()
    print(
        f"on {on}; window {start} .. {end} (ledger_for's); {rows_in_window:,} payment rows in the window; "
        f"{len(grouped):,} people with payments in it; {verdicts:,} verdicts in all"
    )
    c.table(rows, ["what", "SQL stmts", "seconds", "ms per person", "x baseline"])
    if bulk_note:
        print(bulk_note)

    # Where the time goes: the parts of checks.position, timed separately on a sample.
    sample = ids[:: max(1, n // args.sample)][: args.sample]
    parts = {
        "checks._rules() (1 query: have rules changed?)": 0.0,
        "ledger.claims_for (1 query)": 0.0,
        "ledger.ledger_for (4 queries + row objects)": 0.0,
        "engine.position (pure Python)": 0.0,
    }
    rows_loaded = 0
    for pid in sample:
        t = time.perf_counter()
        rules, _ = checks._rules()
        t1 = time.perf_counter()
        claims = ledger.claims_for(pid)
        t2 = time.perf_counter()
        led = ledger.ledger_for(pid, on)
        t3 = time.perf_counter()
        engine.position(claims, rules, led, on)
        t4 = time.perf_counter()
        keys = list(parts)
        parts[keys[0]] += t1 - t
        parts[keys[1]] += t2 - t1
        parts[keys[2]] += t3 - t2
        parts[keys[3]] += t4 - t3
        rows_loaded += len(led.payments) + len(led.expenses) + len(led.other_income) + len(led.hours)
    db.session.rollback()
    total = sum(parts.values())
    print()
    print(
        f"where the time goes ({len(sample):,} people timed part by part; "
        f"{rows_loaded / len(sample):.0f} ledger rows loaded per person):"
    )
    c.table(
        [[k, f"{v / len(sample) * 1000:.3f}", f"{v / total * 100:.0f}%"] for k, v in parts.items()],
        ["part", "ms per person", "share"],
    )
    print()
    print(
        f"result: {loop_s:.2f} s for {n:,} positions ({loop_s / n * 1000:.2f} ms each) vs {base_s * 1000:.1f} ms "
        f"for the GROUP BY: {loop_s / base_s:,.0f}x. No fixed target (reported only)."
    )
    c.result("positions", f"{n:,} positions, one at a time", loop_s / base_s, baseline="one GROUP BY")


if __name__ == "__main__":
    sys.exit(main())
