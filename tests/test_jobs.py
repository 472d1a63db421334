"""Background work is sent only after the transaction that asked for it commits."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.builders import person
from tracker import jobs
from tracker.extensions import db
from tracker.jobs import OutboxTask, enqueue_after_commit


@pytest.fixture
def sent(app, monkeypatch):
    calls = []
    celery_app = app.extensions["celery"]
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, args=None, task_id=None, **kw: calls.append((name, args, task_id))
    )
    return calls


def test_sent_once_after_commit(ctx, sent):
    enqueue_after_commit("tracker.health.ping", "a")
    assert sent == []
    db.session.commit()
    assert [c[:2] for c in sent] == [("tracker.health.ping", ["a"])]
    row = db.session.scalar(sa.select(OutboxTask))
    assert row.status == "sent" and row.sent_at is not None
    db.session.commit()
    assert len(sent) == 1


def test_rolled_back_transaction_sends_nothing(ctx, sent):
    person("Ghost", consent=False)
    enqueue_after_commit("tracker.health.ping", "ghost")
    db.session.rollback()
    db.session.commit()
    assert sent == []
    assert db.session.scalar(sa.select(sa.func.count(OutboxTask.id))) == 0


def test_savepoint_release_does_not_send_before_the_outer_commit(ctx, sent):
    person("Outer", consent=False)
    with db.session.begin_nested():
        enqueue_after_commit("tracker.health.ping", "inner")
    assert sent == []  # released savepoint: still inside the outer transaction
    db.session.commit()
    assert len(sent) == 1


def test_rolled_back_savepoint_sends_nothing(ctx, sent):
    person("Outer", consent=False)
    nested = db.session.begin_nested()
    enqueue_after_commit("tracker.health.ping", "inner")
    nested.rollback()
    enqueue_after_commit("tracker.health.ping", "kept")
    db.session.commit()
    assert [c[1] for c in sent] == [["kept"]]


def test_view_that_fails_after_enqueue_sends_nothing(make_app, monkeypatch):
    """A request that enqueues and then fails is rolled back: the task never goes out."""
    app = make_app()
    calls = []
    monkeypatch.setattr(app.extensions["celery"], "send_task", lambda *a, **k: calls.append(a))

    @app.route("/_test_fail_after_enqueue")
    def _fail():
        enqueue_after_commit("tracker.health.ping", "x")
        raise RuntimeError("boom")

    resp = app.test_client().get("/_test_fail_after_enqueue")
    assert resp.status_code == 500
    assert calls == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxTask.id))) == 0


def test_broker_down_leaves_row_pending_and_sweep_redrives(ctx, app, monkeypatch):
    celery_app = app.extensions["celery"]

    def down(*a, **k):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(celery_app, "send_task", down)
    enqueue_after_commit("tracker.health.ping", "later")
    db.session.commit()
    row = db.session.scalar(sa.select(OutboxTask))
    assert row.status == "pending" and row.attempts == 1 and "unreachable" in row.last_error

    calls = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args=None, task_id=None, **kw: calls.append(task_id))
    # Too recent: the sweep leaves it for the after-commit send that may still be under way.
    assert jobs.redrive(60) == 0
    assert jobs.redrive(60, now=row.created_at + timedelta(seconds=61)) == 1
    assert calls == [f"outbox-{row.id}"]
    db.session.expire_all()
    assert db.session.get(OutboxTask, row.id).status == "sent"
    # A row just sent is left to the worker; one no worker started a minute later is sent again.
    assert jobs.redrive(60) == 0


def test_publishing_never_retries_nor_asks_for_a_result(ctx, app, monkeypatch):
    """A broker that is down or hung costs a request one short try: no retry loop in the request,
    no subscription to the result backend."""
    options = []
    monkeypatch.setattr(app.extensions["celery"], "send_task", lambda name, **kw: options.append(kw))
    enqueue_after_commit("tracker.health.ping", "x")
    db.session.commit()
    assert options[0]["retry"] is False and options[0]["ignore_result"] is True


def _run_from_outbox(app, task_name, row):
    """Deliver an outbox row's message to its task, as a worker does."""
    from tracker.celery import TASK_MODULES

    for module in TASK_MODULES:
        __import__(module)
    task = app.extensions["celery"].tasks[task_name]
    return task.apply(args=row.args, task_id=f"outbox-{row.id}")


@pytest.mark.parametrize("task_name", ["tracker.notify.send", "tracker.documents.render", "tracker.health.ping"])
def test_every_kind_of_task_the_broker_lost_is_sent_again(ctx, app, sent, task_name):
    row = enqueue_after_commit(task_name, 1)
    db.session.commit()
    assert len(sent) == 1
    row = db.session.get(OutboxTask, row.id)
    assert row.status == "sent"
    # The broker took the message and lost it: nobody started the task.
    assert jobs.redrive(60, now=row.sent_at + timedelta(seconds=59)) == 0
    assert jobs.redrive(60, now=row.sent_at + timedelta(seconds=61)) == 1
    assert [call[0] for call in sent] == [task_name, task_name]


def test_a_task_marks_its_row_running_then_done_and_a_second_delivery_does_nothing(ctx, app, sent, monkeypatch):
    row = enqueue_after_commit("tracker.health.ping", "once")
    db.session.commit()
    row_id = row.id
    seen = []
    monkeypatch.setattr(jobs, "task_done", lambda rid, error=None: seen.append(_status(rid)) or _done(rid, error))
    result = _run_from_outbox(app, "tracker.health.ping", db.session.get(OutboxTask, row_id))
    assert result.get() == "pong:once"
    assert seen == ["running"]
    db.session.expire_all()
    done = db.session.get(OutboxTask, row_id)
    assert done.status == "done" and done.started_at and done.done_at
    # Nothing to send again, however late the sweep.
    assert jobs.redrive(0, restart_after_seconds=0) == 0
    # A duplicate delivery of a done row does not run the task again.
    assert _run_from_outbox(app, "tracker.health.ping", done).get() is None


_done = jobs.task_done


def _status(row_id):
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(OutboxTask.status).where(OutboxTask.id == row_id))


def test_a_task_that_fails_for_good_is_done_and_not_sent_again(ctx, app, sent):
    row = enqueue_after_commit("tracker.documents.render", 999_999)  # no such document: it returns "missing"
    db.session.commit()
    _run_from_outbox(app, "tracker.documents.render", db.session.get(OutboxTask, row.id))
    db.session.expire_all()
    assert db.session.get(OutboxTask, row.id).status == "done"


def test_a_task_whose_worker_died_is_sent_again_after_the_restart_age(ctx, app, sent):
    row = enqueue_after_commit("tracker.health.ping", "killed")
    db.session.commit()
    assert jobs.task_started(row.id)  # a worker started it, then was killed
    db.session.expire_all()
    started = db.session.get(OutboxTask, row.id).started_at
    assert jobs.redrive(60, now=started + timedelta(seconds=600), restart_after_seconds=720) == 0
    assert jobs.redrive(60, now=started + timedelta(seconds=721), restart_after_seconds=720) == 1
    db.session.expire_all()
    assert db.session.get(OutboxTask, row.id).status == "sent"


def test_purge_forgets_done_rows_and_idempotency_records_past_their_retention(ctx, app, sent, make_user):
    from datetime import datetime

    from tracker.api import idempotency
    from tracker.api.models import IdempotencyRecord

    uid = make_user("coordinator")
    long_ago = datetime(2026, 1, 1)
    old = OutboxTask(task_name="t", args=[], status="done", done_at=long_ago)
    recent = OutboxTask(task_name="t", args=[], status="done", done_at=long_ago + timedelta(hours=200))
    waiting = OutboxTask(task_name="t", args=[], status="pending", created_at=long_ago)
    db.session.add_all([old, recent, waiting])
    for key, hours in (("old", 0), ("new", 100)):
        db.session.add(
            IdempotencyRecord(
                user_id=uid,
                key=key,
                request_hash="h",
                status_code=201,
                body="{}",
                created_at=long_ago + timedelta(hours=hours),
            )
        )
    db.session.commit()
    now = long_ago + timedelta(hours=250)
    assert jobs.purge_done(168, now=now) == 1
    assert idempotency.purge(200, now=now) == 1
    db.session.commit()
    assert {r.status for r in db.session.scalars(sa.select(OutboxTask))} == {"done", "pending"}
    assert db.session.scalars(sa.select(IdempotencyRecord.key)).all() == ["new"]


def test_beat_sweeps_the_outbox_every_minute_and_purges_hourly(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["outbox-sweep"]["schedule"] == 60.0
    assert schedule["outbox-purge"]["task"] == "tracker.outbox.purge"


def test_after_a_failed_send_requests_leave_work_to_the_sweep_for_a_while(make_app, monkeypatch):
    """One failure ends the batch (the rest would wait on the broker too), and for
    BROKER_BACKOFF_SECONDS requests do not try the broker; the sweep still does."""
    app = make_app(BROKER_BACKOFF_SECONDS=30)
    tries = []

    def down(name, **kw):
        tries.append(kw["task_id"])
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(app.extensions["celery"], "send_task", down)
    with app.app_context():
        enqueue_after_commit("tracker.health.ping", "a")
        enqueue_after_commit("tracker.health.ping", "b")
        db.session.commit()
        assert len(tries) == 1
        enqueue_after_commit("tracker.health.ping", "c")
        db.session.commit()
        assert len(tries) == 1  # resting: not even tried
        assert set(db.session.scalars(sa.select(OutboxTask.status))) == {"pending"}
        monkeypatch.setattr(app.extensions["celery"], "send_task", lambda name, **kw: tries.append(kw["task_id"]))
        assert jobs.redrive(0) == 3
