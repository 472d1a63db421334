"""Repeated views of one person's benefit information by one user are one audit row with a count
(BENEFIT_VIEW_COALESCE_MINUTES), and the audit page says how many and between when."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.extensions import db

CA = [{"benefit": "CA", "start_on": dt.date(2024, 1, 1)}]


def _views(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "benefits.viewed").order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def _view(app, user_id: int, person_id: int, *, at: dt.datetime, where: str = "person page") -> None:
    """One view at a given time (UTC), committed as a page would."""
    with app.app_context():
        original = audit.utcnow
        audit.utcnow = lambda: at
        try:
            event = audit.record(
                db.session.get(User, user_id),
                "benefits.viewed",
                None,
                entity_type="person",
                entity_id=person_id,
                person_id=person_id,
                after={"where": where},
            )
            if event.id is None:
                event.at = at
            db.session.commit()
        finally:
            audit.utcnow = original


T0 = dt.datetime(2026, 1, 5, 10, 2)  # 10:02 UK time in winter


@pytest.fixture
def people(make_person, make_user):
    return make_user("admin"), make_user("coordinator"), make_person(claims=CA), make_person(claims=CA)


def test_repeated_views_within_the_window_are_one_row_with_a_count(app, people):
    admin, _, sam, _ = people
    for minutes in (0, 2, 5, 7):
        _view(app, admin, sam, at=T0 + dt.timedelta(minutes=minutes))
    rows = _views(app)
    assert len(rows) == 1
    assert rows[0].at == T0 and rows[0].after == {"where": "person page", "views": 4, "last_at": "2026-01-05T10:09:00"}


def test_a_view_after_the_window_starts_a_new_row(app, people):
    admin, _, sam, _ = people
    _view(app, admin, sam, at=T0)
    _view(app, admin, sam, at=T0 + dt.timedelta(minutes=9))
    _view(app, admin, sam, at=T0 + dt.timedelta(minutes=11))  # 11 minutes after the row was opened
    rows = _views(app)
    assert [r.after.get("views") for r in rows] == [2, None]
    assert rows[1].at == T0 + dt.timedelta(minutes=11)


def test_other_users_people_and_places_are_separate_rows(app, people):
    admin, coordinator, sam, zoe = people
    _view(app, admin, sam, at=T0)
    _view(app, coordinator, sam, at=T0)
    _view(app, admin, zoe, at=T0)
    _view(app, admin, sam, at=T0, where="payment page")
    assert len(_views(app)) == 4


def test_zero_minutes_writes_one_row_per_view(app, people, monkeypatch):
    admin, _, sam, _ = people
    monkeypatch.setitem(app.config, "BENEFIT_VIEW_COALESCE_MINUTES", 0)
    for minutes in (0, 1, 2):
        _view(app, admin, sam, at=T0 + dt.timedelta(minutes=minutes))
    rows = _views(app)
    assert len(rows) == 3 and all("views" not in r.after for r in rows)


def test_the_setting_is_read_from_the_environment():
    from config import load_config

    assert load_config({"BENEFIT_VIEW_COALESCE_MINUTES": "0"})["BENEFIT_VIEW_COALESCE_MINUTES"] == 0
    assert load_config({"BENEFIT_VIEW_COALESCE_MINUTES": "30"})["BENEFIT_VIEW_COALESCE_MINUTES"] == 30


def test_repeated_api_reads_are_counted_and_kept(app, api_as, make_person):
    pid = make_person(claims=CA)
    api = api_as("coordinator")
    for _ in range(3):
        assert api.get(f"/people/{pid}/claims").status_code == 200
    rows = _views(app)
    assert len(rows) == 1 and rows[0].after["views"] == 3


def test_the_audit_page_says_how_many_views_and_between_when(app, client, login, people):
    admin, _, sam, _ = people
    for minutes in (0, 2, 5, 7):
        _view(app, admin, sam, at=T0 + dt.timedelta(minutes=minutes))
    login("admin")
    html = client.get("/audit/").get_data(as_text=True)
    assert "viewed 4 times between 10:02 and 10:09, counted on this one row" in html
    assert "Last at" not in html and "Views:" not in html
    # Finance cannot read what the view held, but sees that it was repeated.
    login("finance")
    html = client.get("/audit/").get_data(as_text=True)
    assert "viewed 4 times between 10:02 and 10:09" in html and "person page" not in html


def test_repeated_position_reads_are_counted_and_kept(app, api_as, make_person, rules):
    pid = make_person(claims=CA)
    api = api_as("coordinator")
    for _ in range(2):
        resp = api.get(f"/people/{pid}/position?on=2025-06-02")
        assert resp.status_code == 200 and resp.get_json()["verdicts"]
    rows = _views(app)
    assert len(rows) == 1 and rows[0].after["where"] == "position api" and rows[0].after["views"] == 2


def test_views_at_once_on_postgresql_each_count(make_app, own_postgres_url):
    """Eight views of one person by one user at the same moment, each in its own transaction on
    PostgreSQL: one row, and every view counted (the count is raised under the row's lock)."""
    import threading

    from flask_migrate import upgrade

    from tests import builders

    app = make_app(SQLALCHEMY_DATABASE_URI=own_postgres_url)
    with app.app_context():
        upgrade()
        user_id, person_id = builders.user("coordinator").id, builders.person("Viewed At Once").id
        db.session.commit()
    view = dict(entity_type="person", entity_id=person_id, person_id=person_id, after={"where": "person page"})
    with app.app_context():  # the first view opens the row
        audit.record(db.session.get(User, user_id), "benefits.viewed", None, **view)
        db.session.commit()
    start, errors = threading.Barrier(8), []

    def one_view():
        try:
            with app.app_context():
                actor = db.session.get(User, user_id)
                start.wait(timeout=10)
                audit.record(actor, "benefits.viewed", None, **view)
                db.session.commit()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_view) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    rows = _views(app)
    assert len(rows) == 1 and rows[0].after["views"] == 9
    with app.app_context():
        db.engine.dispose()
