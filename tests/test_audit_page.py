"""The audit log page: filters, readable before/after, benefit information hidden from finance."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.audit.service import record
from tracker.auth.models import User
from tracker.extensions import db

HIDDEN = "Benefit information (hidden for your role)"


def event(
    app, actor_id, action, entity_type, entity_id, *, at, person_id=None, before=None, after=None, reason=None
) -> int:
    with app.app_context():
        actor = db.session.get(User, actor_id) if actor_id else None
        e = record(
            actor,
            action,
            None,
            entity_type=entity_type,
            entity_id=entity_id,
            person_id=person_id,
            before=before,
            after=after,
            reason=reason,
        )
        e.at = at
        db.session.commit()
        return e.id


def count_events(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


@pytest.fixture
def log(app, make_person, make_user):
    """Events by two staff about two people, on different days, plus benefit events."""
    sam = make_person("Sam Jones", consent=False)
    zoe = make_person("Zoë Brontë", consent=False)
    anna = make_user("finance", email="anna.finance@example.org")
    bob = make_user("admin", email="bob.admin@example.org")
    event(
        app,
        anna,
        "payment.recorded",
        "payment",
        11,
        person_id=sam,
        at=datetime(2025, 3, 1, 10, 0),
        after={
            "kind": "cash",
            "amount": "150.00",
            "paid_on": "2025-03-05",
            "contribution_ids": [4, 5],
            "note": "marker-one",
        },
    )
    event(
        app,
        anna,
        "payment.cancelled",
        "payment",
        11,
        person_id=sam,
        at=datetime(2025, 3, 2, 10, 0),
        before={"status": "draft", "amount": "150.00"},
        after={"status": "cancelled", "amount": "150.00"},
        reason="marker-two entered twice",
    )
    event(
        app,
        bob,
        "user.role_changed",
        "user_account",
        7,
        at=datetime(2025, 4, 10, 9, 0),
        before={"role": "coordinator"},
        after={"role": "finance"},
    )
    event(
        app,
        anna,
        "payment.recorded",
        "payment",
        12,
        person_id=zoe,
        at=datetime(2025, 4, 20, 16, 30),
        after={"kind": "voucher", "amount": "20.00", "note": "marker-three"},
    )
    event(
        app,
        bob,
        "claim.added",
        "benefit_claim",
        3,
        person_id=zoe,
        at=datetime(2025, 5, 1, 9, 0),
        after={"benefit": "UC", "ap_start_day": 15, "secret": "marker-claim"},
    )
    event(
        app,
        bob,
        "consent.recorded",
        "consent",
        4,
        person_id=zoe,
        at=datetime(2025, 5, 1, 9, 5),
        after={"notice_version": "marker-consent"},
        reason="marker-consent-reason",
    )
    event(
        app,
        bob,
        "benefits.viewed",
        "person",
        zoe,
        person_id=zoe,
        at=datetime(2025, 5, 2, 9, 0),
        after={"where": "marker-viewed"},
    )
    event(
        app,
        None,
        "payment.override",
        "payment",
        12,
        person_id=zoe,
        at=datetime(2025, 5, 3, 9, 0),
        after={"verdicts": [{"rule": "CA-weekly", "status": "over"}]},
        reason="marker-override",
    )
    return {"sam": sam, "zoe": zoe}


def page(client, **args) -> str:
    resp = client.get("/audit/", query_string=args)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    return resp.get_data(as_text=True)


MARKERS = ("marker-one", "marker-two", "marker-three", "Role: finance")


def shown(html: str) -> set[str]:
    return {m for m in MARKERS if m in html}


def test_everything_newest_first_and_readable(client, login, log):
    login("admin")
    html = page(client)
    assert shown(html) == set(MARKERS)
    assert html.index("marker-three") < html.index("marker-two") < html.index("marker-one")
    # before/after as key: value lists, not raw JSON
    assert "Amount: 150.00" in html and "Contribution ids: 4, 5" in html and "Paid on: 2025-03-05" in html
    assert "Status: cancelled <strong>(changed)</strong>" in html
    assert "{&#34;" not in html and '{"' not in html and "&#39;kind&#39;" not in html
    assert "Reason:" in html and "marker-two entered twice" in html
    assert "Rule: CA-weekly; Status: over" in html
    assert "The system" in html
    assert "<caption>" in html and '<th scope="col">When</th>' in html


def test_filter_by_who(client, login, log):
    login("admin")
    assert shown(page(client, who="ANNA.finance")) == {"marker-one", "marker-two", "marker-three"}
    assert shown(page(client, who="bob.admin@example.org")) == {"Role: finance"}
    assert shown(page(client, who="%")) == set()
    assert "No events match these filters." in page(client, who="nobody")


def test_filter_by_what(client, login, log):
    login("admin")
    html = page(client, action="payment.recorded")
    assert shown(html) == {"marker-one", "marker-three"}
    assert '<option selected value="payment.recorded">' in html or 'value="payment.recorded" selected' in html
    for action in ("claim.added", "consent.recorded", "import.completed") + ("payment.cancelled",):
        if action != "import.completed":
            assert f'value="{action}"' in html  # a select of the actions recorded


def test_filter_by_record_and_person(client, login, log):
    login("admin")
    assert shown(page(client, entity_type="payment", entity_id=11)) == {"marker-one", "marker-two"}
    assert shown(page(client, entity_type="user_account", entity_id=7)) == {"Role: finance"}
    assert shown(page(client, person_id=log["zoe"])) == {"marker-three"}
    assert shown(page(client, person_id=log["sam"])) == {"marker-one", "marker-two"}


def test_filter_by_when(client, login, log):
    login("admin")
    assert shown(page(client, **{"from": "2025-03-02", "to": "2025-04-10"})) == {"marker-two", "Role: finance"}
    # 16:30 UTC on 20 April is 17:30 UK time: still 20 April.
    assert shown(page(client, **{"from": "2025-04-20", "to": "2025-04-20"})) == {"marker-three"}
    assert "20 April 2025, 17:30" in page(client, **{"from": "2025-04-20"})


def test_pages_of_fifty(app, client, login, make_user):
    uid = make_user("admin", email="pager@example.org")
    for i in range(60):
        event(
            app,
            uid,
            "activity.updated",
            "activity",
            i + 1,
            at=datetime(2025, 1, 1, 0, i),
            after={"name": f"activity-{i:02d}-end"},
        )
    login("admin")
    first = page(client, action="activity.updated")
    assert "activity-59-end" in first and "activity-10-end" in first and "activity-09-end" not in first
    assert "page 1 of 2" in first and "Older events" in first
    assert "action=activity.updated" in first
    second = page(client, action="activity.updated", page=2)
    assert "activity-09-end" in second and "activity-00-end" in second and "activity-10-end" not in second
    assert client.get("/audit/?page=abc").status_code == 200
    assert "There is no page 9" in page(client, page=9)


def test_finance_sees_benefit_events_hidden(client, login, log):
    login("finance")
    html = page(client)
    assert html.count(HIDDEN) == 3  # claim.added, consent.recorded, benefits.viewed
    for secret in (
        "marker-claim",
        "marker-consent",
        "marker-consent-reason",
        "marker-viewed",
        "Assessment period start day",
    ):
        assert secret not in html, secret
    # Other events are shown in full.
    assert shown(html) == set(MARKERS) and "marker-override" in html


def test_admin_sees_benefit_events(client, login, log):
    login("admin")
    html = page(client)
    assert HIDDEN not in html
    assert "Assessment period start day: 15" in html and "marker-claim" in html
    assert "marker-consent-reason" in html and "marker-viewed" in html


@pytest.mark.parametrize("role", ["contributor", "coordinator"])
def test_other_roles_get_403(client, login, log, role):
    login(role)
    assert client.get("/audit/").status_code == 403


def test_viewing_is_read_only(app, client, login, log):
    login("admin")
    before = count_events(app)
    page(client)
    page(client, person_id=log["zoe"])
    assert count_events(app) == before


@pytest.mark.parametrize(
    "args, message",
    [
        ({"from": "2025-02-30"}, "From must be a real date"),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "on or after the start date"),
        ({"entity_id": "abc", "entity_type": "payment"}, "Use a whole number"),
        ({"entity_id": "5"}, "Choose the type of record"),
        ({"person_id": "0"}, "Use a number from 1 up"),
        ({"person_id": "99999999999999999999999"}, "Use a number from 1 up"),
        ({"action": "made.up"}, "Choose something from the list"),
        ({"entity_type": "spaceship"}, "Choose a type of record from the list"),
        ({"to": "9999-12-31"}, "To must be between 2000 and 2100"),
        ({"from": "0001-01-01"}, "From must be between 2000 and 2100"),
        ({"from-day": "1", "from-month": "", "from-year": "2025"}, "From must include a month"),
    ],
)
def test_bad_filters_are_form_errors_not_500(client, login, log, args, message):
    login("finance")
    resp = client.get("/audit/", query_string=args)
    html = resp.get_data(as_text=True)
    if message is None:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 422, html[:500]
        assert "There is a problem" in html and message in html
