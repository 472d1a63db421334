"""The operator's numbers: /metrics (who may scrape it, what it counts) and the scheduler in /readyz."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.builders import person
from tracker.documents.models import Document
from tracker.engine.pack import load_default_pack
from tracker.extensions import db
from tracker.jobs import OutboxTask
from tracker.ops import service
from tracker.timeutil import utcnow

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "m" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of a scrape."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def scrape_app(make_app):
    return make_app(METRICS_TOKEN=TOKEN)


def scrape(app) -> str:
    resp = app.test_client().get("/metrics", headers=AUTH)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_data(as_text=True)


# ---- who may scrape -----------------------------------------------------------------------------


def test_metrics_are_off_unless_a_setting_turns_them_on(make_app):
    client = make_app().test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404


def test_metrics_need_the_bearer_token(scrape_app):
    client = scrape_app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404
    resp = client.get("/metrics", headers=AUTH)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "Set-Cookie" not in resp.headers  # no session
    assert "tracker_outbox_pending" in resp.get_data(as_text=True)


def test_private_addresses_may_scrape_by_setting(make_app):
    client = make_app(METRICS_ALLOW_PRIVATE=True).test_client()

    def status(addr: str, **headers: str) -> int:
        return client.get("/metrics", environ_base={"REMOTE_ADDR": addr}, headers=headers).status_code

    assert status("127.0.0.1") == 200
    assert status("10.1.2.3") == 200
    assert status("::1") == 200
    assert status("::ffff:192.168.1.9") == 200
    assert status("203.0.113.5") == 404
    assert status("81.2.69.160") == 404
    # Through a proxy the app does not trust, the proxy's loopback address is not the client's.
    assert status("127.0.0.1", **{"X-Forwarded-For": "10.0.0.5"}) == 404


def test_private_addresses_behind_a_trusted_proxy_are_the_clients(make_app):
    client = make_app(METRICS_ALLOW_PRIVATE=True, TRUSTED_PROXIES=1).test_client()

    def status(forwarded_for: str) -> int:
        return client.get(
            "/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    assert status("10.0.0.5") == 200
    assert status("203.0.113.9") == 404
    assert status("10.0.0.5, 203.0.113.9") == 404  # only the hop the proxy added counts


def test_settings_come_from_the_environment():
    from config import load_config

    cfg = load_config({"METRICS_TOKEN": TOKEN, "METRICS_ALLOW_PRIVATE": "true"})
    assert cfg["METRICS_TOKEN"] == TOKEN and cfg["METRICS_ALLOW_PRIVATE"] is True
    assert load_config({"METRICS_ALLOW_PRIVATE": "false"})["METRICS_ALLOW_PRIVATE"] is False


def test_production_refuses_a_short_metrics_token():
    from tracker import create_app

    settings = {
        "ENV_NAME": "production",
        "SECRET_KEY": "s" * 48,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "ORGANISATION_PAYER": "company",
    }
    with pytest.raises(RuntimeError, match="METRICS_TOKEN"):
        create_app({**settings, "METRICS_TOKEN": "short"})
    assert create_app({**settings, "METRICS_TOKEN": TOKEN}).config["METRICS_TOKEN"] == TOKEN


# ---- what it counts -----------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_method_and_status_class(scrape_app):
    client = scrape_app.test_client()
    route = {"route": "/people/<int:person_id>", "method": "GET", "status": "3xx"}  # anonymous: to sign in
    before = scrape(scrape_app)
    client.get("/people/1")
    client.get("/people/2")
    client.get("/no/such/page")
    after = scrape(scrape_app)
    assert (
        value(after, "tracker_http_requests_total", **route)
        == value(before, "tracker_http_requests_total", **route) + 2
    )
    assert "/people/1" not in after and "/no/such/page" not in after  # never a raw path
    unmatched = {"route": "(no route)", "method": "GET", "status": "4xx"}
    assert value(after, "tracker_http_requests_total", **unmatched) >= 1
    count = "tracker_http_request_duration_seconds_count"
    assert value(after, count, **route) == value(before, count, **route) + 2


def test_task_runs_durations_and_failures_are_counted_by_task(scrape_app):
    from tasks.health import ping
    from tasks.risks import scan

    ok = {"task": "tracker.health.ping", "outcome": "succeeded"}
    failed = {"task": "tracker.risks.scan", "outcome": "failed"}
    before = scrape(scrape_app)
    with scrape_app.app_context():
        assert ping.apply(args=["hi"]).get() == "pong:hi"
        assert scan.apply(args=["not a date"]).failed()
    after = scrape(scrape_app)
    assert value(after, "tracker_tasks_total", **ok) == value(before, "tracker_tasks_total", **ok) + 1
    assert value(after, "tracker_tasks_total", **failed) == value(before, "tracker_tasks_total", **failed) + 1
    durations = "tracker_task_duration_seconds_count"
    assert (
        value(after, durations, task="tracker.health.ping") == value(before, durations, task="tracker.health.ping") + 1
    )


def test_gauges_show_the_outbox_backlog_and_documents_waiting(scrape_app):
    with scrape_app.app_context():
        old = utcnow() - timedelta(minutes=10)
        db.session.add_all(
            [
                OutboxTask(task_name="tracker.health.ping", args=["a"], created_at=old),
                OutboxTask(task_name="tracker.health.ping", args=["b"]),
                OutboxTask(task_name="tracker.health.ping", args=["c"], status="sent", sent_at=utcnow()),
            ]
        )
        someone = person()
        db.session.add_all(
            [
                Document(person_id=someone.id, kind="statement", start_on=date(2025, 4, 1), end_on=date(2025, 4, 30)),
                Document(
                    person_id=someone.id,
                    kind="statement",
                    start_on=date(2025, 5, 1),
                    end_on=date(2025, 5, 31),
                    status="failed",
                ),
            ]
        )
        db.session.commit()
    text = scrape(scrape_app)
    assert value(text, "tracker_outbox_pending") == 2
    assert 590 <= value(text, "tracker_outbox_oldest_pending_age_seconds") < 3600
    assert value(text, "tracker_documents_waiting") == 1
    assert value(text, "tracker_metrics_database_up") == 1


def test_gauges_show_the_age_of_the_last_scan_and_sweep(scrape_app, sent):
    from tasks.outbox import sweep
    from tasks.risks import scan

    text = scrape(scrape_app)
    for job in service.SCHEDULED_JOBS:  # never run: an age alert fires
        assert value(text, "tracker_job_last_run_age_seconds", job=job) == float("inf")
    assert value(text, "tracker_scheduler_heartbeat_age_seconds") == float("inf")
    with scrape_app.app_context():
        scan("2025-04-10")
        sweep()
    text = scrape(scrape_app)
    assert 0 <= value(text, "tracker_job_last_run_age_seconds", job="risk-scan") < 60
    assert 0 <= value(text, "tracker_job_last_run_age_seconds", job="outbox-sweep") < 60
    assert value(text, "tracker_job_last_run_age_seconds", job="risk-digest") == float("inf")
    assert 0 <= value(text, "tracker_scheduler_heartbeat_age_seconds") < 60


def test_a_scan_that_fails_leaves_the_last_good_time(scrape_app):
    from tasks.risks import scan

    two_hours_ago = utcnow() - timedelta(hours=2)
    with scrape_app.app_context():
        service.record_heartbeat(service.RISK_SCAN, two_hours_ago)
        db.session.commit()
        assert scan.apply(args=["not a date"]).failed()
    age = value(scrape(scrape_app), "tracker_job_last_run_age_seconds", job="risk-scan")
    assert 7200 <= age < 7300


def test_stale_rules_are_counted(scrape_app, rules, monkeypatch):
    from tracker.ops import views

    monkeypatch.setattr(views, "today", lambda: date(2026, 12, 7))
    assert value(scrape(scrape_app), "tracker_rules_stale") == 0
    monkeypatch.setattr(views, "today", lambda: date(2027, 6, 1))  # the 2027 uprating is not loaded
    assert value(scrape(scrape_app), "tracker_rules_stale") >= 5


def test_stale_families_are_those_whose_verdicts_say_stale():
    """One notion of stale (the verdicts' own, issue 11 item 7): a figure used on or after its next
    expected uprating with no newer one loaded. A figure that ran out is "not checked", not stale."""
    from tracker.engine import coverage

    pack = load_default_pack()
    assert service.stale_families(pack, date(2026, 12, 7)) == []
    later = date(2027, 6, 1)
    stale = service.stale_families(pack, later)
    assert "CA_EARN" in stale and stale == sorted({r.family for r in pack if coverage.is_stale(r, later)})
    uprated = min(r.next_uprating for r in pack if r.next_uprating and r.effective_to is None)
    assert service.stale_families(pack, uprated - timedelta(days=1)) == []
    assert service.stale_families(pack, uprated) != []
    # A figure that has run out with nothing after it is uncovered (its verdicts block as unknown).
    ca_2026 = max((r for r in pack if r.family == "CA_EARN"), key=lambda r: r.effective_from)
    ended = [r for r in pack if r.family != "CA_EARN"] + [
        ca_2026.__class__(**{**vars(ca_2026), "effective_to": date(2026, 6, 30)})
    ]
    assert "CA_EARN" not in service.stale_families(ended, later)


def test_the_scrape_survives_a_database_it_cannot_read(make_app, tmp_path):
    app = make_app(METRICS_TOKEN=TOKEN, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.sqlite")
    text = scrape(app)
    assert value(text, "tracker_metrics_database_up") == 0
    assert "tracker_http_requests_total" in text


# ---- multiprocess mode --------------------------------------------------------------------------

CHILD = """
from tracker import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
client = app.test_client()
for _ in range(3):
    assert client.get("/healthz").status_code == 200
"""


def test_multiprocess_mode_adds_up_every_process_in_the_folder(scrape_app, tmp_path, monkeypatch):
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "TRACKER_ENV": "test", "PYTHONPATH": str(ROOT)}
    for _ in range(2):  # two processes, as two gunicorn workers
        subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, check=True, timeout=120)
    assert list(folder.glob("*.db"))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    text = scrape(scrape_app)
    assert value(text, "tracker_http_requests_total", route="/healthz", method="GET", status="2xx") == 6
    assert "tracker_outbox_pending" in text  # the database's gauges come from the scraping process


def test_a_missing_multiprocess_folder_does_not_break_the_scrape(scrape_app, tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "not-made"))
    assert "tracker_outbox_pending" in scrape(scrape_app)


def test_gunicorn_marks_a_dead_workers_live_files(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    live, kept = tmp_path / "gauge_livesum_4242.db", tmp_path / "counter_4242.db"
    live.write_bytes(b"")
    kept.write_bytes(b"")
    hooks = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    hooks["child_exit"](None, type("Worker", (), {"pid": 4242})())
    assert not live.exists()
    assert kept.exists()  # counters of a dead process still count


# ---- /readyz ------------------------------------------------------------------------------------


def test_readyz_reports_the_scheduler_heartbeat_without_failing_on_it(client, app):
    body = client.get("/readyz").get_json()
    assert body["scheduler"]["heartbeat"] == {"last_at": None, "age_seconds": None}
    assert set(body["scheduler"]["jobs"]) == set(service.SCHEDULED_JOBS)
    two_days_ago = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    an_hour_ago = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    with app.app_context():
        service.record_heartbeat(service.RISK_SCAN, two_days_ago)
        service.record_heartbeat(service.OUTBOX_SWEEP, an_hour_ago)
        db.session.commit()
    resp = client.get("/readyz")
    assert resp.status_code == 200  # late jobs are information, not unreadiness
    scheduler = resp.get_json()["scheduler"]
    assert scheduler["heartbeat"]["last_at"] == an_hour_ago.isoformat() + "Z"
    assert 3600 <= scheduler["heartbeat"]["age_seconds"] < 3700
    assert scheduler["jobs"]["risk-scan"]["last_at"] == two_days_ago.isoformat() + "Z"
    assert scheduler["jobs"]["risk-digest"] == {"last_at": None, "age_seconds": None}


def test_a_heartbeat_is_one_row_a_job(ctx):
    first = utcnow() - timedelta(minutes=5)
    service.record_heartbeat(service.OUTBOX_SWEEP, first)
    service.record_heartbeat(service.OUTBOX_SWEEP)
    db.session.commit()
    beats = service.heartbeats()
    assert list(beats) == [service.OUTBOX_SWEEP]
    assert beats[service.OUTBOX_SWEEP] > first
