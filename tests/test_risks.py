"""Risk flags: raised at recording time and by the scan, one per person × rule × period; the scan
is idempotent and never overlaps; notifications and their retries."""

from __future__ import annotations

import smtplib
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.builders import assert_error, pay, payment, saved, user
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.notify.models import Notification
from tracker.risks import service
from tracker.risks.models import JobLock, RiskFlag


def run_scan(on: date, **kw) -> dict:
    """The scheduled scan, as the worker runs it: the task owns the lease and the commits."""
    from tasks.risks import scan

    return scan(on.isoformat(), **kw)


def flags(app):
    with app.app_context():
        return db.session.scalars(sa.select(RiskFlag).order_by(RiskFlag.id)).all()


def test_recording_a_payment_near_the_limit_raises_a_flag_at_once(app, api_as, make_user, carer):
    make_user("coordinator")
    fin = api_as("finance")
    assert fin.post("/payments", json=pay(carer, "180.00", "2025-04-09")).status_code == 201
    [flag] = flags(app)
    assert (flag.rule_code, flag.level, flag.status) == ("CA_EARN_2025", "near", "open")
    assert (flag.period_start, flag.period_end) == (date(2025, 4, 7), date(2025, 4, 13))
    # Going over in the same week escalates the same flag: still one per person × rule × period.
    resp = fin.post("/payments", json=pay(carer, "20.00", "2025-04-10", override_reason="Agreed with adviser"))
    assert resp.status_code == 201
    [flag] = flags(app)
    assert flag.level == "over" and flag.total == "200.00"
    with app.app_context():
        notes = db.session.scalars(sa.select(Notification)).all()
    assert len(notes) == 2 and all(n.status == "outbox" for n in notes)  # no SMTP set: shown in the app
    assert "Carer" in notes[0].body


def test_scan_raises_once_and_resolves_past_periods(app, carer, make_user):
    make_user("coordinator")
    saved(app, payment, carer, "190.00", date(2025, 4, 9))
    with app.app_context():
        first = run_scan(date(2025, 4, 10))
        second = run_scan(date(2025, 4, 10))
    assert first == {"skipped": False, "raised": 1, "resolved": 0}
    assert second == {"skipped": False, "raised": 0, "resolved": 0}
    assert len(flags(app)) == 1
    with app.app_context():
        later = run_scan(date(2025, 4, 20))
    assert later["resolved"] == 1 and flags(app)[0].status == "resolved"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1


def test_scan_keeps_everyones_position_for_the_dashboard(app, carer, make_person, monkeypatch):
    from tracker.people.models import Person
    from tracker.risks import dashboard, positions
    from tracker.risks.models import RiskPosition

    other = make_person("Other", claims=[{"benefit": "CA", "start_on": date(2024, 1, 1)}])
    saved(app, payment, carer, "190.00", date(2025, 4, 9))
    saved(app, payment, other, "20.00", date(2025, 4, 9))
    with app.app_context():
        run_scan(date(2025, 4, 10))
        kept = db.session.execute(
            sa.select(
                RiskPosition.person_id,
                RiskPosition.benefit,
                RiskPosition.status,
                RiskPosition.ledger_version,
                Person.ledger_version,
            )
            .join(Person, Person.id == RiskPosition.person_id)
            .order_by(RiskPosition.person_id, RiskPosition.benefit)
        ).all()
        assert [(p, b, s) for p, b, s, _, _ in kept] == [
            (carer, "", "near"),
            (carer, "CA", "near"),
            (carer, "TAX", "ok"),  # the trading allowance too
            (other, "", "ok"),
            (other, "CA", "ok"),
            (other, "TAX", "ok"),
        ]
        assert all(a == b for *_, a, b in kept)
        # so the dashboard works nobody out again that day
        monkeypatch.setattr(positions, "work_out", lambda *a, **k: pytest.fail("worked out again"))
        page = dashboard.dashboard_rows(date(2025, 4, 10), dashboard.Filters(), redact=False)
        assert [(r.person_id, r.status) for r in page.items] == [(carer, "near"), (other, "ok")]


def test_scan_never_overlaps(app, carer):
    with app.app_context():
        holder = service.acquire_lock(service.SCAN_LOCK, 60)
        db.session.commit()
        assert holder
        assert run_scan(date(2025, 4, 10))["skipped"] is True
        service.release_lock(service.SCAN_LOCK, holder)
        db.session.commit()
        assert run_scan(date(2025, 4, 10))["skipped"] is False


def test_two_scans_at_once_only_one_runs(app, carer):
    saved(app, payment, carer, "190.00", date(2025, 4, 9))
    results = []
    barrier = threading.Barrier(2)

    def run():
        with app.app_context():
            barrier.wait()
            results.append(run_scan(date(2025, 4, 10), lease_seconds=60))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(flags(app)) == 1
    assert sum(r["raised"] for r in results) == 1


def test_expired_lock_is_taken_over(app):
    with app.app_context():
        db.session.add(JobLock(name="x", holder="dead", locked_until=date(2000, 1, 1)))
        db.session.commit()
        assert service.acquire_lock("x", 60) is not None


def test_manual_flags_and_moves(app, api_as, carer):
    coord = api_as("coordinator")
    resp = coord.post("/risks", json={"person_id": carer, "note": "Mentioned a new part-time job", "rule": "CA_EARN"})
    assert resp.status_code == 201, resp.get_json()
    flag = resp.get_json()
    assert flag["level"] == "manual" and flag["notes"][0]["text"] == "Mentioned a new part-time job"
    again = coord.post("/risks", json={"person_id": carer, "note": "twice", "rule": "CA_EARN"})
    assert_error(again, 409, "flag_exists")
    fid = flag["id"]
    assert coord.post(f"/risks/{fid}/acknowledge", json={"note": "Spoke to them"}).status_code == 200
    assert_error(coord.post(f"/risks/{fid}/acknowledge"), 409, "invalid_transition")
    assert coord.post(f"/risks/{fid}/notes", json={"note": "Booked adviser"}).status_code == 201
    assert coord.post(f"/risks/{fid}/resolve").status_code == 200
    listed = coord.get("/risks?status=resolved").get_json()["items"]
    assert [f["id"] for f in listed] == [fid] and len(listed[0]["notes"]) == 3
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("risk.%"))).all()
    assert {"risk.raised", "risk.acknowledged", "risk.noted", "risk.resolved"} <= set(actions)
    assert_error(coord.post("/risks", json={"person_id": carer, "note": ""}), 422, field="note")
    assert_error(coord.post("/risks/99999/resolve"), 404)
    assert_error(api_as("finance").post("/risks", json={"person_id": carer, "note": "x"}), 403)


def test_finance_does_not_see_which_benefit(app, api_as, carer):
    saved(app, payment, carer, "190.00", date(2025, 4, 9))
    with app.app_context():
        run_scan(date(2025, 4, 10))
    item = api_as("finance").get("/risks").get_json()["items"][0]
    assert item["benefit"] is None and item["rule"] is None and item["title"] == "A benefit rule"
    assert item["total"] == "190.00" and item["limit"] == "196.00"
    coord = api_as("coordinator").get("/risks").get_json()["items"][0]
    assert coord["benefit"] == "CA"
    pos = api_as("finance").get(f"/people/{carer}/position?on=2025-04-10").get_json()["verdicts"]
    assert all(v["benefit"] is None for v in pos)
    assert any(v["total"] == "190.00" and v["headroom"] == "6.00" for v in pos)


class FakeSMTP:
    """Stands in for smtplib.SMTP: fails ``failures`` times with the given error, then accepts."""

    sent: list = []
    failures: list = []

    def __init__(self, host, port, timeout=None):
        if FakeSMTP.failures:
            raise FakeSMTP.failures.pop(0)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def starttls(self, context=None):
        pass

    def login(self, user, password):
        pass

    def send_message(self, msg):
        FakeSMTP.sent.append(msg)


@pytest.fixture
def smtp_app(make_app, monkeypatch):
    app = make_app(SMTP_HOST="mail.invalid", SMTP_PORT=587)
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent, FakeSMTP.failures = [], []
    return app


def _queued(app):
    from tracker.notify import service as notify

    with app.app_context():
        coordinator = user("coordinator", email="coord@example.org", password=None)
        n = notify.queue(coordinator, "Subject", "Body", "flag")
        db.session.commit()
        assert n.status == "pending"
        return n.id


def test_notification_retries_transient_errors_only(smtp_app):
    from tasks.notify import send

    nid = _queued(smtp_app)
    FakeSMTP.failures = [smtplib.SMTPServerDisconnected("gone"), smtplib.SMTPResponseException(451, b"later")]
    with smtp_app.app_context():
        retries = []
        send.retry = lambda exc=None, countdown=None: retries.append(countdown) or RuntimeError("retry")
        for _ in range(2):
            with pytest.raises(RuntimeError, match="retry"):
                send.run(nid)
        assert send.run(nid) == "sent"
        assert len(retries) == 2 and len(FakeSMTP.sent) == 1
        assert db.session.get(Notification, nid).status == "sent"


def test_notification_permanent_error_is_not_retried(smtp_app):
    from tasks.notify import send

    nid = _queued(smtp_app)
    FakeSMTP.failures = [smtplib.SMTPResponseException(550, b"no such user")]
    with smtp_app.app_context():
        assert send.run(nid) == "failed"
        n = db.session.get(Notification, nid)
        assert n.status == "failed" and "550" in n.last_error and n.attempts == 1


def test_daily_digest(app, carer, make_user):
    make_user("coordinator")
    saved(app, payment, carer, "190.00", date(2025, 4, 9))
    with app.app_context():
        run_scan(date(2025, 4, 10))
        assert service.digest(date(2025, 4, 10)) == 1
        digest = db.session.scalar(sa.select(Notification).where(Notification.kind == "digest"))
    assert "Open benefit-rule flags" in digest.body and "Carer" in digest.body
    assert digest.created_at - timedelta(days=1) < digest.created_at


def test_two_views_keeping_the_same_people_at_once_on_postgresql(postgresql_carer):
    """On PostgreSQL two requests can work out the same stale people at the same moment. The one
    that comes second gives way (its savepoint is rolled back) instead of failing the page."""
    import threading

    from tracker.risks import positions
    from tracker.risks.models import RiskPosition
    from tracker.rules import checks

    on = date(2025, 4, 10)
    app, pid = postgresql_carer
    first_kept, second_may_go = threading.Event(), threading.Event()
    result = {}

    def first():
        with app.app_context():
            versions = positions.versions_of(sa.select(sa.literal(pid)))
            result["first"] = positions.keep(checks.positions([pid], on), versions, on)
            first_kept.set()  # written, not yet committed: the second request now waits on its locks
            second_may_go.wait(10)
            db.session.commit()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_kept.wait(10)
    with app.app_context():
        versions = positions.versions_of(sa.select(sa.literal(pid)))
        found = checks.positions([pid], on)
        timer = threading.Timer(0.5, second_may_go.set)  # the first commits while the second waits
        timer.start()
        result["second"] = positions.keep(found, versions, on)
        db.session.commit()  # the session is still usable: only the savepoint was rolled back
        kept = db.session.scalars(sa.select(RiskPosition.benefit).where(RiskPosition.person_id == pid)).all()
    thread.join(10)
    assert result == {"first": 1, "second": 0}
    assert sorted(kept) == ["", "CA", "TAX"]
    with app.app_context():
        db.engine.dispose()


def test_a_flag_notification_links_to_the_person_s_risk_page_and_the_dashboard(app, client, carer, make_user, login):
    """Every mention of a page in a notification is a link (issue 13, item 3): full addresses in the
    body (it is also emailed), links named in words on the notifications page."""
    app.config["PUBLIC_URL"] = "https://tracker.example.org/"
    login("coordinator")
    saved(app, payment, carer, "190.00", date(2025, 4, 9))
    with app.app_context():
        run_scan(date(2025, 4, 10))
        [note] = db.session.scalars(sa.select(Notification)).all()
    assert f"https://tracker.example.org/risks/people/{carer}" in note.body
    assert "Open the risk dashboard: https://tracker.example.org/risks/" in note.body
    page = client.get("/risks/notifications").get_data(as_text=True)
    assert f'<a href="/risks/people/{carer}">Where ' in page
    assert '<a href="/risks/">Open the risk dashboard</a>' in page
    assert "https://tracker.example.org" not in page  # the page links to paths, so it works wherever opened


def test_only_our_own_pages_become_links_and_the_body_stays_escaped():
    from tracker.notify.presenters import linked

    body = "Hi <b>\nOpen it: https://tracker.example.org/risks/\nElsewhere: https://evil.example/phish\nx: https://tracker.example.org//evil.example"
    html = str(linked(body, "https://tracker.example.org"))
    assert '<a href="/risks/">Open it</a>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert 'href="https://evil.example' not in html and "Elsewhere: https://evil.example/phish" in html
    assert 'href="//evil' not in html
