"""Logging (tracker.logs) and the task layer's unit of work (tracker.celery.TrackerTask)."""

from __future__ import annotations

import io
import logging
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tracker import logs
from tracker.extensions import db
from tracker.people.models import Person


@pytest.fixture
def log_lines():
    """Logging configured as in production, into a buffer; ``read()`` gives the lines so far."""
    buffer = io.StringIO()
    logs.configure("INFO", stream=buffer, again=True)
    yield lambda: buffer.getvalue().splitlines()
    logs.configure(again=True)


def test_the_level_comes_from_the_environment(app):
    assert logs.level_from({}) == "INFO"
    assert logs.level_from({"LOG_LEVEL": "debug"}) == "DEBUG"
    assert logs.level_from({"LOG_LEVEL": "WARNING"}) == "WARNING"
    assert logs.level_from({"LOG_LEVEL": "loud"}) == "INFO"
    assert logs.checked_level(None) == "INFO"
    # (Alembic's env.py reconfigures logging when a test migrates a database, so configure again here.)
    assert logs.configure("WARNING", again=True)
    root = logging.getLogger()
    assert root.level == logging.WARNING
    assert any(any(isinstance(f, logs.ContextFilter) for f in h.filters) for h in root.handlers)


def test_every_line_of_a_request_carries_its_request_id(make_app, log_lines):
    app = make_app()

    @app.get("/log-probe")
    def probe():
        logging.getLogger("tracker.probe").warning("probing %s", 1)
        logging.getLogger("tracker.probe").info("and again")
        return "ok"

    client = app.test_client()
    resp = client.get("/log-probe", headers={"X-Request-ID": "probe-123"})
    assert resp.headers["X-Request-ID"] == "probe-123"
    mine = [line for line in log_lines() if "tracker.probe" in line]
    assert len(mine) == 2 and all("[request probe-123 task -]" in line for line in mine), mine

    # An unsafe or too long id is replaced by a new one, which is echoed and logged.
    for unsafe in ("no spaces allowed", "x" * 65, "<script>"):
        resp = client.get("/log-probe", headers={"X-Request-ID": unsafe})
        new = resp.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", new)
        assert any(f"[request {new} task -]" in line for line in log_lines())
    assert client.get("/log-probe").headers["X-Request-ID"] != client.get("/log-probe").headers["X-Request-ID"]
    assert client.get("/healthz").headers.get("X-Request-ID")
    # Outside a request there is no request id.
    logging.getLogger("tracker.probe").warning("outside")
    assert log_lines()[-1].endswith("[request - task -] outside")


def test_every_line_of_a_task_carries_its_task_id(app, log_lines):
    from tasks.health import ping

    with app.app_context():
        assert ping.apply(args=["hi"], task_id="task-abc-1").get() == "pong:hi"
    mine = [line for line in log_lines() if " tracker.tasks " in line]
    assert [re.sub(r".*\] ", "", line).split(" in ")[0] for line in mine] == [
        "Task tracker.health.ping started",
        "Task tracker.health.ping finished",
    ]
    assert all("[request - task task-abc-1]" in line for line in mine), mine


def test_the_scan_logs_a_summary(app, rules, make_person, make_user, log_lines):
    from tasks.risks import scan
    from tracker.payments.models import Payment

    make_user("coordinator")
    pid = make_person("Carer", claims=[{"benefit": "CA", "start_on": date(2024, 1, 1)}])
    with app.app_context():
        db.session.add(
            Payment(person_id=pid, kind="cash", amount=Decimal("190.00"), paid_on=date(2025, 4, 9), status="paid")
        )
        db.session.commit()
        assert scan.apply(args=["2025-04-10"], task_id="scan-1").get()["raised"] == 1
    summary = [line for line in log_lines() if "Risk scan for 2025-04-10" in line]
    assert len(summary) == 1 and "task scan-1" in summary[0]
    assert "1 people checked, 1 flags raised, 0 resolved, 1 positions kept" in summary[0]
    assert "Carer" not in "\n".join(log_lines())  # ids and counts, never names


# ---- the unit of work -------------------------------------------------------------------------


@pytest.fixture
def writer(app):
    """A task that adds a person and then fails or not."""
    celery_app = app.extensions["celery"]

    @celery_app.task(name="tests.add_person", bind=True)
    def add_person(self, name: str, fail: bool = False) -> int:
        person = Person(name=name)
        db.session.add(person)
        db.session.flush()
        if fail:
            raise RuntimeError("boom")
        return person.id

    return add_person


def names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Person.name).order_by(Person.id)))


def test_a_task_commits_when_it_returns_and_rolls_back_when_it_raises(app, writer, log_lines):
    with app.app_context():
        db.session.add(Person(name="The caller's, not committed by the task"))
        assert writer("Kept") > 0
        with pytest.raises(RuntimeError):
            writer("Not kept", fail=True)
        db.session.rollback()
    assert names(app) == ["Kept"]
    assert any("Task tests.add_person failed" in line for line in log_lines())


def test_a_task_in_steps_keeps_the_steps_that_ended(app, log_lines):
    celery_app = app.extensions["celery"]

    @celery_app.task(name="tests.two_steps", bind=True)
    def two_steps(self) -> None:
        with self.step():
            db.session.add(Person(name="First step"))
        db.session.add(Person(name="Second step"))
        raise RuntimeError("the second step fails")

    with pytest.raises(RuntimeError):
        two_steps()
    assert names(app) == ["First step"]
