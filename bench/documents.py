"""B5: statements per second through ONE Celery worker process, end to end, against rendering the
same PDFs directly with ReportLab in one process.

Usage (from the repository root, after ``python3 dev.py setup``):

    .venv/bin/python bench/documents.py                  # temporary SQLite file, filesystem broker
    .venv/bin/python bench/documents.py --broker-url redis://127.0.0.1:6379/14
    .venv/bin/python bench/documents.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_documents
    .venv/bin/python bench/documents.py --documents 1000 --period last_month --today 2026-11-27 --timeout 240
    .venv/bin/python bench/documents.py --storage s3     # documents in a local S3-compatible server

Data: ``tracker.demo.seed(people=2 x documents, months=12)`` through the app's own code; the
first ``--documents`` people with a payment in the statement period get a statement. The period
is last calendar month by default (what the batch page offers first), or the last complete tax
year (``--period last_tax_year``: longer statements, more benefit periods).

What it measures, in the same run:

* the worker path: a worker started as a subprocess exactly as deployed
  (``python -m celery -A wsgi:celery_app worker --pool=solo --concurrency=1``, on the filesystem
  broker, or on Redis with ``--broker-url``), warmed up with a few documents; then this process
  asks for the statements one by one (``documents.service.request_document`` + commit, which
  writes an outbox row and sends the task after the commit) and polls the database until every
  one is ``ready``. Wall time from just before the first request to the poll that sees them all
  (poll every 0.1 s). Per-document worker time comes from the rows (``started_at`` to
  ``ready_at``: gather the data, render, store the file, mark ready);
* the baseline, after the worker has stopped: the same statements built in this process with
  ``statement_data`` (the same Document rows, the same issue date), then rendered one after the
  other with ``pdf.render_statement`` alone (the direct rate), then stored with the app's
  storage in a separate folder (or, with ``--storage s3``, under another prefix of the same
  bucket); the bytes must equal the worker's (same SHA-256).

``--storage s3`` keeps the documents in an S3-compatible object store, as ``DOCUMENT_STORAGE=s3``
does: this script starts moto's S3 server application (the server the tests use), under gunicorn
so that connections stay open between requests as with a real store (``bench/_s3server.py``), on
a free loopback port as a process of its own, makes a bucket, and gives its address to the worker
and to this process; the server is stopped at the end.

The worker's INFO log (one line when a task is received, one when it succeeds, to the
millisecond) also gives Celery's runtime per task and the time from one task's success to the
next one's receipt (the ack, the broker and decoding the next message).
``--worker-profile FILE`` runs the same worker under cProfile and leaves its profile in FILE
(the worker is then several times slower: for finding where the time goes, not for the ratio).

Target (issue): the worker path at least half the direct ReportLab rate. Prints "MISSED" when it
is not, with a profile of one in-process pass (gather + render + store) over a sample. The worker
is stopped at the end, also after an error; a PostgreSQL database is dropped, and the Redis
database (only db 14 on 127.0.0.1) is flushed. Exits non-zero only if something crashes.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
import sqlalchemy as sa  # noqa: E402

TARGET_RATIO = 0.5
WARMUP_DOCS = 5
POLL_SECONDS = 0.1
PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


# ---- broker ---------------------------------------------------------------------------------------


def check_redis_url(url: str) -> None:
    from urllib.parse import urlparse

    u = urlparse(url)
    if u.scheme != "redis" or u.hostname not in ("127.0.0.1", "localhost") or (u.path or "/0").strip("/") != "14":
        raise SystemExit(
            f"Refusing broker {url!r}: benchmarks use Redis on this machine, database 14 "
            "(redis://127.0.0.1:6379/14), which they flush at the end."
        )


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


# ---- the object store -----------------------------------------------------------------------------

S3_BUCKET = "bench-documents"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_s3(folder: Path) -> tuple[subprocess.Popen, dict]:
    """moto's S3 server on a free loopback port, in a process of its own, with an empty bucket;
    returns the process and the app's settings for it."""
    from tracker.documents.storage import s3_client

    port = free_port()
    with open(folder / "s3.log", "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--chdir",
                str(Path(__file__).resolve().parent),
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--keep-alive",
                "60",
                "--bind",
                f"127.0.0.1:{port}",
                "_s3server:app",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # moto takes any key; path-style addressing, as for MinIO
    keys = {"S3_ACCESS_KEY_ID": "bench-access-key", "S3_SECRET_ACCESS_KEY": "bench-secret-key"}
    settings = dict(keys, DOCUMENT_STORAGE="s3", S3_BUCKET=S3_BUCKET, S3_REGION="eu-west-2", S3_ADDRESSING_STYLE="path")
    settings["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    client = s3_client(settings)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.create_bucket(Bucket=S3_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
            return proc, settings
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the S3 server did not start:\n{log_tail(folder / 's3.log')}") from None
            time.sleep(0.2)


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


# ---- the worker -----------------------------------------------------------------------------------


def worker_env(url: str, folder: Path, broker_url: str | None, storage: dict) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("CELERY_", "DATABASE_URL", "BROKER_DIR", "STORAGE_DIR", "REDIS_URL", "DOCUMENT_STORAGE", "S3_")
        )
    }
    env.update(
        DATABASE_URL=url,
        STORAGE_DIR=str(folder / "documents"),
        SECRET_KEY="bench-only-secret-not-for-production-use",
        ORGANISATION_PAYER="public_body",
    )
    env.update({k: str(v) for k, v in storage.items()})
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
        env["CELERY_RESULT_BACKEND"] = broker_url
    else:
        env["BROKER_DIR"] = str(folder / "broker")
    return env


def start_worker(
    url: str, folder: Path, broker_url: str | None, storage: dict, profile_to: str | None = None
) -> tuple[subprocess.Popen, Path]:
    """The worker as deployed (tests/test_worker.py starts it the same way), logging to a file.
    With ``profile_to``, the same worker runs under cProfile, which writes its profile there when
    the worker stops (far slower: for finding where the time goes, not for the figures)."""
    log = folder / "worker.log"
    profiler = ["-m", "cProfile", "-o", str(Path(profile_to).resolve())] if profile_to else []
    with open(log, "w") as out:  # the child keeps its own copy of the file descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                *profiler,
                "-m",
                "celery",
                "-A",
                "wsgi:celery_app",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench-documents-{os.getpid()}@%h",
            ],
            cwd=c.ROOT,
            env=worker_env(url, folder, broker_url, storage),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, log


def stop_worker(proc: subprocess.Popen | None) -> None:
    """Stop the worker this script started (by its own process handle only)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()  # warm shutdown: finishes the task in hand
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# Celery's own line format, or the tracker's (tracker/logs.py: time, level, logger, [request, task]).
LOG_TASK = re.compile(
    r"^\[?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})(?:: INFO/MainProcess\]| INFO \S+ \[[^\]]*\]) "
    r"Task tracker\.documents\.render\[([^\]]+)\] (received|succeeded in ([0-9.e-]+)s)"
)


def log_timeline(text: str) -> dict:
    """From the worker's INFO log (times to the millisecond): for each render task in the order
    the worker took them, when it was received, when it succeeded and Celery's own runtime for
    it. Gives, per task, the time from one task's success to the next one's receipt (ack, the
    broker, decoding) and from receipt to success beyond the runtime."""
    from datetime import datetime as dt

    seen: dict = {}
    order = []
    for line in text.splitlines():
        m = LOG_TASK.match(line)
        if not m:
            continue
        at = dt.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        task = seen.setdefault(m.group(2), {})
        if m.group(3) == "received":
            task["received"] = at
            order.append(m.group(2))
        else:
            task["succeeded"], task["runtime"] = at, float(m.group(4))
    return {"order": order, "tasks": seen}


def between_tasks_ms(timeline: dict, first: int) -> tuple[list[float], list[float], list[float]]:
    """(success -> next receipt, receipt -> success, Celery's runtime), in ms, for the tasks from
    position ``first`` on (the measured ones, after the warm-up)."""
    tasks = [timeline["tasks"][k] for k in timeline["order"][first:]]
    tasks = [t for t in tasks if "received" in t and "succeeded" in t]
    gaps = [(b["received"] - a["succeeded"]) * 1000 for a, b in zip(tasks, tasks[1:])]
    spans = [(t["succeeded"] - t["received"]) * 1000 for t in tasks]
    return gaps, spans, [t["runtime"] * 1000 for t in tasks]


def log_tail(log: Path, n: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no worker log)"


# ---- data -----------------------------------------------------------------------------------------


def statement_period(kind: str, today: date) -> tuple[date, date]:
    if kind == "last_tax_year":
        year = today.year if (today.month, today.day) >= (4, 6) else today.year - 1
        return date(year - 1, 4, 6), date(year, 4, 5)
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def build(app, args) -> dict:
    from tracker import demo
    from tracker.extensions import db
    from tracker.payments.models import Payment

    how = c.build_schema(app)
    c.load_rules()
    want = args.documents + WARMUP_DOCS
    made = demo.seed(
        people=max(want * 2, 50), months=12, seed=args.seed, today=args.today, password="bench-password-not-used"
    )
    start, end = statement_period(args.period, args.today)
    pids = list(
        db.session.scalars(
            sa.select(Payment.person_id)
            .where(Payment.paid_on.between(start, end), Payment.status != "cancelled")
            .distinct()
            .order_by(Payment.person_id)
            .limit(want)
        )
    )
    db.session.rollback()
    c.analyze(app)
    if len(pids) < want:
        print(
            f"NOTE: only {len(pids)} people have a payment in {start} .. {end}; measuring "
            f"{len(pids) - WARMUP_DOCS} statements"
        )
    return {
        "how": how,
        "made": made,
        "start": start,
        "end": end,
        "warm": pids[:WARMUP_DOCS],
        "people": pids[WARMUP_DOCS:],
    }


def request_statements(pids, start: date, end: date) -> list[int]:
    """One request + commit per statement, as the person page does (the commit sends the task)."""
    from tracker.documents import service
    from tracker.extensions import db
    from tracker.people.models import Person

    ids = []
    for pid in pids:
        doc, _ = service.request_document(db.session.get(Person, pid), "statement", start, end, actor=None)
        ids.append(doc.id)
        db.session.commit()
    return ids


def progress(start: date, end: date, pids=None) -> dict:
    from tracker.documents.models import Document
    from tracker.extensions import db

    q = sa.select(Document.status, sa.func.count(Document.id)).where(
        Document.kind == "statement", Document.start_on == start, Document.end_on == end
    )
    if pids is not None:
        q = q.where(Document.person_id.in_(pids))
    counts = dict(db.session.execute(q.group_by(Document.status)).all())
    db.session.rollback()
    return {"queued": counts.get("queued", 0), "ready": counts.get("ready", 0), "failed": counts.get("failed", 0)}


def wait_for(start: date, end: date, total: int, deadline: float, proc, pids=None) -> tuple[dict, float]:
    while True:
        p = progress(start, end, pids)
        now = time.perf_counter()
        if p["ready"] + p["failed"] >= total or now >= deadline or proc.poll() is not None:
            return p, now
        time.sleep(POLL_SECONDS)


# ---- the direct baseline --------------------------------------------------------------------------


def direct_store(app, folder: Path, name: str):
    """The app's kind of store (its settings), kept apart from the worker's files: another folder,
    or another prefix in the same bucket."""
    from tracker.documents.storage import build

    return build({**app.config, "STORAGE_DIR": str(folder / name), "S3_PREFIX": name + "/"})


def direct_baseline(app, folder: Path, start: date, end: date, profile_top: int) -> dict:
    from tracker.documents import pdf, service
    from tracker.documents.models import Document
    from tracker.extensions import db

    rows = db.session.execute(
        sa.select(
            Document.id,
            Document.person_id,
            Document.kind,
            Document.start_on,
            Document.end_on,
            Document.options,
            Document.created_at,
            Document.sha256,
            Document.size_bytes,
            Document.template_version,
        )
        .where(
            Document.kind == "statement", Document.start_on == start, Document.end_on == end, Document.status == "ready"
        )
        .order_by(Document.id)
    ).all()
    db.session.rollback()

    def transient(r) -> Document:
        return Document(
            id=r.id,
            person_id=r.person_id,
            kind=r.kind,
            start_on=r.start_on,
            end_on=r.end_on,
            options=r.options or {},
            created_at=r.created_at,
        )

    # 1. gather: StatementData from the database, as the task does (one document at a time)
    datas, gather_ns, statements = [], [], []
    for r in rows:
        with c.StatementCounter(db.engine) as counter:
            t = time.perf_counter_ns()
            datas.append(service.statement_data(transient(r), r.created_at.date()))
            gather_ns.append(time.perf_counter_ns() - t)
        statements.append(counter.n)
        db.session.rollback()

    # 2. render: ReportLab alone, one after the other (the direct rate), with the same link to
    # each document's web page that the worker prints, so the bytes are the same
    links = [service.page_url(r.id) if service.carries_link("statement", r.template_version) else "" for r in rows]
    pdf.render_statement(datas[0], links[0])  # fonts registered, modules warm (the worker is warm too)
    blobs, render_ns = [], []
    t_all = time.perf_counter()
    for d, link in zip(datas, links):
        t = time.perf_counter_ns()
        blobs.append(pdf.render_statement(d, link))
        render_ns.append(time.perf_counter_ns() - t)
    render_s = time.perf_counter() - t_all

    # 3. store: the app's storage (a folder: hash, temporary file, fsync, rename; or S3: one PUT)
    store = direct_store(app, folder, "direct-store")
    store_ns, same = [], 0
    for r, b in zip(rows, blobs):
        t = time.perf_counter_ns()
        digest, _ = store.save(b)
        store_ns.append(time.perf_counter_ns() - t)
        same += digest == r.sha256
    pages = [len(PAGE.findall(b)) for b in blobs]

    out = {
        "n": len(rows),
        "render_s": render_s,
        "gather": c.summary_ms(gather_ns),
        "render": c.summary_ms(render_ns),
        "store": c.summary_ms(store_ns),
        "gather_s": sum(gather_ns) / 1e9,
        "store_s": sum(store_ns) / 1e9,
        "statements": statements,
        "same": same,
        "pages": pages,
        "kb": statistics.fmean(len(b) for b in blobs) / 1024,
        "rows": rows,
    }
    if profile_top:
        sample = rows[: min(100, len(rows))]

        profile_store = direct_store(app, folder, "direct-store-profile")

        def one_pass():
            for r in sample:
                b = pdf.render_statement(service.statement_data(transient(r), r.created_at.date()))
                profile_store.save(b)
                db.session.rollback()

        _, prof_s, prof = c.profiled(one_pass)
        out["profile"] = (len(sample), prof_s, prof)
    return out


# ---- main -----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--database-url",
        help="PostgreSQL URL of a bench_* database to create and drop (default: a temporary SQLite file)",
    )
    ap.add_argument(
        "--broker-url",
        help="redis://127.0.0.1:6379/14 to use Redis (flushed at the end); "
        "default: the filesystem broker in a temporary folder",
    )
    ap.add_argument(
        "--storage",
        choices=("local", "s3"),
        default="local",
        help="where documents are kept: a folder (default) or a local S3-compatible server this script starts",
    )
    ap.add_argument("--documents", type=int, default=1000)
    ap.add_argument("--period", choices=("last_month", "last_tax_year"), default="last_month")
    ap.add_argument("--today", type=date.fromisoformat, default=date.today())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for the worker (at most 600)")
    ap.add_argument("--profile-top", type=int, default=15, help="rows of the profile printed (0: none)")
    ap.add_argument(
        "--worker-profile",
        metavar="FILE",
        help="run the worker under cProfile and write its profile to FILE (pstats format); "
        "the worker is much slower then, so the ratio printed means nothing",
    )
    args = ap.parse_args(argv)
    args.timeout = min(max(args.timeout, 10.0), 600.0)
    args.documents = max(1, min(args.documents, 20_000))
    if args.broker_url:
        check_redis_url(args.broker_url)

    with c.scratch(args.database_url, label="documents") as (url, folder):
        s3_proc = None
        try:
            if args.storage == "s3":
                s3_proc, args.storage_settings = start_s3(folder)
            else:
                args.storage_settings = {}
            measure(url, folder, args)
        finally:
            stop_process(s3_proc)
            if s3_proc is not None:
                print("   S3 server stopped")
    return 0


def measure(url: str, folder: Path, args) -> None:
    """Build the app and the data, run the worker, then the baseline; report."""
    extra = dict(args.storage_settings)
    if args.broker_url:
        from config import celery_settings

        extra["CELERY"] = celery_settings(args.broker_url, None, str(folder / "broker"), url)
    app = c.make_app(url, folder, **extra)
    c.header(
        f"B5 statements through one Celery worker (--pool=solo) vs ReportLab in-process: {args.documents:,} documents",
        url,
    )
    print(f"   broker {args.broker_url or 'filesystem (temporary folder)'}")
    storage = args.storage_settings
    where = f"S3 server {storage['S3_ENDPOINT_URL']} (moto), bucket {storage['S3_BUCKET']}" if storage else "folder"
    print(f"   documents stored in: {where}")
    try:
        with app.app_context():
            run(app, url, folder, args)
            from tracker.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        if args.broker_url:
            try:
                flush_redis(args.broker_url)
                print(f"flushed redis {args.broker_url}")
            except Exception as exc:  # report, keep the original error
                print(f"could not flush redis: {exc!r}", file=sys.stderr)


def run(app, url: str, folder: Path, args) -> None:
    import logging

    # kombu warns "No hostname was supplied" for every send on the filesystem broker: noise here
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    from tracker.documents.models import Document
    from tracker.extensions import db

    t0 = time.perf_counter()
    data = build(app, args)
    start, end = data["start"], data["end"]
    n = len(data["people"])
    made = data["made"]
    print(
        f"   schema by {data['how']}; demo.seed: {made['people']:,} people, {made['payments']:,} payments, "
        f"{made['contributions']:,} contributions ({time.perf_counter() - t0:.1f} s to build); "
        f"statements for {start} .. {end} ({args.period})"
    )

    # ---- the worker path
    proc, log = None, None
    try:
        proc, log = start_worker(url, folder, args.broker_url, args.storage_settings, args.worker_profile)
        t = time.perf_counter()
        warm_start, warm_end = statement_period(args.period, start)  # the period before: other rows
        request_statements(data["warm"], warm_start, warm_end)
        p, _ = wait_for(warm_start, warm_end, len(data["warm"]), time.perf_counter() + 120, proc)
        if p["ready"] < len(data["warm"]):
            raise RuntimeError(f"the worker did not make the warm-up documents ({p}):\n{log_tail(log)}")
        print(
            f"   worker up and warm ({len(data['warm'])} warm-up statements ready "
            f"{time.perf_counter() - t:.1f} s after start); load {c.load_text()}"
        )

        load_before = c.load_text()
        t_first = time.perf_counter()
        wall_first = time.time()
        ids = request_statements(data["people"], start, end)
        t_enqueued = time.perf_counter()
        p, t_done = wait_for(start, end, n, t_first + args.timeout, proc, data["people"])
        load_after = c.load_text()
        worker_alive = proc.poll() is None
    finally:
        stop_worker(proc)
        if proc is not None:
            print(f"   worker stopped (exit {proc.returncode})")

    wall = t_done - t_first
    finished = p["ready"] == n
    spans = db.session.execute(
        sa.select(Document.started_at, Document.ready_at, Document.attempts)
        .where(Document.id.in_(ids), Document.status == "ready")
        .order_by(Document.ready_at)
    ).all()
    db.session.rollback()
    span_ns = [(r.ready_at - r.started_at).total_seconds() * 1e9 for r in spans if r.started_at and r.ready_at]
    busy = (
        (max(r.ready_at for r in spans) - min(r.started_at for r in spans)).total_seconds() if spans else float("nan")
    )
    last_ready_after = (
        max(r.ready_at for r in spans).replace(tzinfo=UTC).timestamp() - wall_first if spans else float("nan")
    )
    retried = sum(1 for r in spans if r.attempts > 1)
    # how fast the worker went while this process was still making requests (sharing the CPUs) and after
    enqueue_wall = wall_first + (t_enqueued - t_first)
    ready_at = sorted(r.ready_at.replace(tzinfo=UTC).timestamp() for r in spans)
    during = sum(1 for x in ready_at if x <= enqueue_wall)
    after_s = (ready_at[-1] - enqueue_wall) if ready_at and ready_at[-1] > enqueue_wall else float("nan")
    if not finished:
        print(
            f"NOTE: {p['ready']:,} of {n:,} ready, {p['failed']:,} failed, {p['queued']:,} still queued after "
            f"{wall:.1f} s (worker {'running' if worker_alive else 'exited'}):\n{log_tail(log)}"
        )
    log_text = log.read_text(errors="replace")
    errors = sum(1 for ln in log_text.splitlines() if " ERROR/" in ln or "Traceback" in ln)
    gaps, received_to_done, runtimes = between_tasks_ms(log_timeline(log_text), len(data["warm"]))

    # ---- the direct baseline
    base = direct_baseline(app, folder, start, end, args.profile_top)

    worker_rate = p["ready"] / wall
    direct_rate = base["n"] / base["render_s"]
    inproc_s = base["gather_s"] + base["render_s"] + base["store_s"]
    ratio = worker_rate / direct_rate
    enqueue_s = t_enqueued - t_first

    print()
    print(f"results (load {load_before} before the worker run, {load_after} after it, {c.load_text()} now):")
    c.table(
        [
            [
                "baseline: pdf.render_statement only (ReportLab, one process)",
                base["n"],
                f"{base['render_s']:.2f}",
                f"{direct_rate:.1f}",
                "1.00",
            ],
            [
                "(info) in-process, no Celery: statement_data + render + store",
                base["n"],
                f"{inproc_s:.2f}",
                f"{base['n'] / inproc_s:.1f}",
                f"{base['n'] / inproc_s / direct_rate:.2f}",
            ],
            [
                f"worker end to end: first request -> all ready ({args.broker_url and 'Redis' or 'filesystem'} broker)",
                p["ready"],
                f"{wall:.2f}",
                f"{worker_rate:.1f}",
                f"{ratio:.2f}",
            ],
        ],
        ["what", "documents", "seconds", "docs/s", "x direct rate"],
    )
    print(
        f"   the {n:,} requests (request_document + commit + send) took {enqueue_s:.1f} s "
        f"({n / enqueue_s:.0f}/s) in this process, while the worker ran; the worker's own span, first start to "
        f"last ready: {busy:.1f} s; the last document was ready {last_ready_after:.1f} s after the first request "
        f"(the poll saw it {wall - last_ready_after:.2f} s later)"
    )
    print(
        f"   worker rate while the requests were being made: {during:,} ready in {enqueue_s:.1f} s "
        f"({during / enqueue_s:.1f}/s); after: {len(ready_at) - during:,} in {after_s:.1f} s "
        f"({(len(ready_at) - during) / after_s:.1f}/s)"
    )
    print(
        f"   same PDF bytes (SHA-256) in both paths: {base['same']:,} of {base['n']:,}; "
        f"pages per statement {dict(sorted(statistics_counts(base['pages']).items()))}; mean size {base['kb']:.0f} KB; "
        f"retried {retried}; worker log errors {errors}"
    )

    print()
    span = c.summary_ms(span_ns) if span_ns else None
    per_doc_wall = wall / max(1, p["ready"]) * 1000
    st = base["statements"]
    rows = [
        [
            "gather: service.statement_data (in this process)",
            f"{base['gather']['median']:.2f}",
            f"{base['gather']['mean']:.2f}",
            f"{base['gather']['p95']:.2f}",
            f"SQL statements per document: median {statistics.median(st):.0f}, max {max(st)}",
        ],
        [
            "render: pdf.render_statement (in this process)",
            f"{base['render']['median']:.2f}",
            f"{base['render']['mean']:.2f}",
            f"{base['render']['p95']:.2f}",
            "",
        ],
        [
            f"store: {'S3Storage.save, one conditional PUT' if args.storage_settings else 'LocalStorage.save, fsync'} "
            "(in this process)",
            f"{base['store']['median']:.2f}",
            f"{base['store']['mean']:.2f}",
            f"{base['store']['p95']:.2f}",
            "",
        ],
    ]
    if span:
        rows.append(
            [
                "worker: started_at -> ready_at (gather+render+store+mark ready)",
                f"{span['median']:.2f}",
                f"{span['mean']:.2f}",
                f"{span['p95']:.2f}",
                "from the Document rows",
            ]
        )
        rows.append(
            [
                "worker: wall time per document (end to end / documents)",
                "",
                f"{per_doc_wall:.2f}",
                "",
                (
                    f"so {per_doc_wall - span['mean']:.2f} ms a document outside the task body "
                    "(broker, Celery, first commit, polling)"
                ),
            ]
        )
    if gaps:
        rows.append(
            [
                "worker log: Celery's runtime of the task (app context + task)",
                f"{statistics.median(runtimes):.2f}",
                f"{statistics.fmean(runtimes):.2f}",
                f"{c.percentile(runtimes, 95):.2f}",
                "'succeeded in' (1 ms log timestamps below)",
            ]
        )
        rows.append(
            [
                "worker log: 'received' -> 'succeeded'",
                f"{statistics.median(received_to_done):.2f}",
                f"{statistics.fmean(received_to_done):.2f}",
                f"{c.percentile(received_to_done, 95):.2f}",
                "the runtime + Celery before and after it",
            ]
        )
        rows.append(
            [
                "worker log: 'succeeded' -> next 'received'",
                f"{statistics.median(gaps):.2f}",
                f"{statistics.fmean(gaps):.2f}",
                f"{c.percentile(gaps, 95):.2f}",
                "ack, fetching and decoding the next message",
            ]
        )
    print("where the time goes, per document (ms):")
    c.table(rows, ["part", "median", "mean", "p95", "note"])

    print()
    print("target:")
    print(
        f"   worker {worker_rate:.1f} docs/s vs direct ReportLab {direct_rate:.1f} docs/s = {ratio:.2f} of it; "
        f"target >= {TARGET_RATIO:.2f}: {c.verdict(finished and ratio >= TARGET_RATIO)}"
        f"{'' if finished else ' (not all documents were made)'}"
    )
    c.result(
        "documents",
        "statements through one worker",
        ratio,
        baseline="ReportLab alone",
        target=f">= {TARGET_RATIO:.2f}",
        met=finished and ratio >= TARGET_RATIO,
    )
    print(
        f"   (reference 3.3 B5, for information: >= 100 statements/s per worker process: "
        f"{c.verdict(worker_rate >= 100)})"
    )
    if "profile" in base and (ratio < TARGET_RATIO or not finished):
        k, prof_s, prof = base["profile"]
        print()
        print(
            f"cProfile of the in-process path (statement_data + render_statement + save) for {k} documents "
            f"({prof_s:.2f} s under the profiler), top {args.profile_top} by own time:"
        )
        print(c.profile_lines(prof, args.profile_top, sort="tottime"))
        print("\n... and the app's own functions by cumulative time:")
        print(c.profile_lines(prof, args.profile_top, sort="cumulative", only="tracker/"))


def statistics_counts(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


if __name__ == "__main__":
    sys.exit(main())
