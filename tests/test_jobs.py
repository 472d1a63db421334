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
    # A second sweep has nothing left to send.
    assert jobs.redrive(0) == 0
