"""B-runs: make a payment run of 1,000 approved bank transfers and mark it paid, against a baseline
of 1,000 bare UPDATEs measured in the same run.

Usage (from the repository root, after ``python3 dev.py setup``):

    .venv/bin/python bench/runs.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_runs
    .venv/bin/python bench/runs.py                       # temporary SQLite file
    .venv/bin/python bench/runs.py --payments 1000 --people 500 --repeat 3

What it measures (same process, same database, same session):

* the real path, timed from the first read to the commit: ``tracker.runs.service.create_run`` for
  the payments (one query each for the payments, the people's bank details and open runs, then the
  run and its items), commit; then ``mark_paid`` (every payment through the payments service's pay
  path: re-checked against the benefit rules for the paid date, marked paid, audited), commit;
* the baseline: ``UPDATE payment SET status = 'paid', paid_on = :d, reference = :r WHERE id = :id``,
  one statement per payment, for as many other approved payments, then one commit.

The data: ``--people`` people with bank details, a third claiming Carer's Allowance and a third
Universal Credit (the rest only the trading allowance), a few paid payments each in the last weeks,
and ``--payments`` approved bank transfers of 25.00 spread over them, per repetition.

Target (issue 14): create and mark paid under 2 s on PostgreSQL.
Prints "MISSED" for a missed target; exits non-zero only if something crashes.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
import sqlalchemy as sa  # noqa: E402

TARGET_S = 2.0
BARE_UPDATE = sa.text("UPDATE payment SET status = 'paid', paid_on = :d, reference = :r WHERE id = :id")


def build_people(n: int, today: date) -> list[int]:
    from tracker.extensions import db
    from tracker.payments.models import Payment
    from tracker.people import service as people
    from tracker.runs import crypto
    from tracker.runs.models import BankAccount

    ids = []
    for i in range(n):
        person = people.create_person({"name": f"Bench Person {i}"}, actor=None)
        people.record_consent(person, date(2024, 1, 1), "v1", actor=None, today=today)
        if i % 3 == 1:
            people.add_claim(person, "CA", date(2024, 1, 1), None, None, actor=None)
        elif i % 3 == 2:
            people.add_claim(
                person,
                "UC",
                date(2024, 1, 1),
                None,
                {
                    "ap_start_day": 15,
                    "work_allowance": True,
                    "housing_element": False,
                    "lcw_pending": False,
                    "joint_claim": False,
                },
                actor=None,
            )
        db.session.flush()
        secret = crypto.encrypt(f'{{"account_name":"BENCH {i}","sort_code":"200000","account_number":"{i:08d}"}}')
        db.session.add(BankAccount(person_id=person.id, secret=secret))
        db.session.add_all(
            [
                Payment(
                    person_id=person.id,
                    kind="cash",
                    amount=Decimal("20.00"),
                    status="paid",
                    paid_on=today - timedelta(days=7 * w),
                )
                for w in range(1, 4)
            ]
        )
        ids.append(person.id)
    db.session.commit()
    return ids


def approved(people: list[int], count: int, on: date) -> list[int]:
    from tracker.extensions import db
    from tracker.payments.models import Payment

    rows = [
        Payment(
            person_id=people[i % len(people)],
            kind="bank_transfer",
            amount=Decimal("25.00"),
            status="approved",
            paid_on=on,
        )
        for i in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [p.id for p in rows]


def timed_run(ids: list[int], pay_on: date, today: date, actor) -> tuple[float, float, int, int]:
    from tracker.extensions import db
    from tracker.runs import service

    db.session.expire_all()
    t0 = time.perf_counter()
    run = service.create_run(ids, pay_on, actor=actor, today=today)
    db.session.commit()
    t1 = time.perf_counter()
    left = service.mark_paid(run, actor=actor, paid_on=pay_on, now=c_now(), today=today)
    db.session.commit()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, service.count_of(run), len(left)


def c_now():
    from tracker.timeutil import utcnow

    return utcnow()


def timed_bare(ids: list[int], pay_on: date) -> float:
    from tracker.extensions import db

    db.session.expire_all()
    t0 = time.perf_counter()
    for pid in ids:
        db.session.execute(BARE_UPDATE, {"d": pay_on, "r": "BARE", "id": pid})
    db.session.commit()
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--database-url",
        help="PostgreSQL URL of a bench_* database to create and drop (default: a temporary SQLite file)",
    )
    ap.add_argument("--payments", type=int, default=1000)
    ap.add_argument("--people", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with c.scratch(args.database_url, label="runs") as (url, folder):
        app = c.make_app(url, folder, BANK_DETAILS_KEYS="YmVuY2gtb25seS1iYW5rLWRldGFpbHMta2V5LTEyMzQ=")
        c.header(f"Payment run of {args.payments} bank transfers: create and mark paid, vs bare UPDATEs", url)
        with app.app_context():
            run(app, args)
    return 0


def run(app, args) -> None:
    from tracker.auth import service as auth
    from tracker.extensions import db

    today = date.today()
    t0 = time.perf_counter()
    how = c.build_schema(app)
    c.load_rules()
    people = build_people(args.people, today)
    actor = auth.create_user("bench-finance@example.org", "finance", password=None)
    db.session.commit()
    c.analyze(app)
    print(f"   schema by {how}; {len(people)} people with bank details; data built in {time.perf_counter() - t0:.1f} s")
    results = []
    for r in range(args.repeat):
        pay_on = today + timedelta(days=7 * (r + 1))
        bare_ids = approved(people, args.payments, pay_on)
        run_ids = approved(people, args.payments, pay_on)
        bare = timed_bare(bare_ids, pay_on)
        create, paid, count, left = timed_run(run_ids, pay_on, today, actor)
        results.append((bare, create, paid))
        print(
            f"   #{r + 1}: bare UPDATEs {bare:.3f} s | create {create:.3f} s + mark paid {paid:.3f} s = "
            f"{create + paid:.3f} s ({(create + paid) / bare:.1f}x the bare UPDATEs); {count} paid, {left} left"
        )
    best = min(results, key=lambda t: t[1] + t[2])
    total = best[1] + best[2]
    c.result("runs", f"run of {args.payments:,} created and marked paid", total / best[0], baseline="bare UPDATEs")
    print(
        f"best: create and mark paid {total:.3f} s for {args.payments} payments; bare UPDATEs {best[0]:.3f} s; "
        f"target under {TARGET_S:.0f} s: {c.verdict(total < TARGET_S)}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
