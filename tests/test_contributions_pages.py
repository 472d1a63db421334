"""The contribution pages: the list, a whole session at once, one contribution, and activities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.contributions.models import Activity, Contribution
from tracker.extensions import db


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def activity(app):
    from tracker.contributions import service

    with app.app_context():
        a = service.create_activity(
            {
                "name": "Service design panel",
                "default_rate": "20.00",
                "rate_unit": "hour",
                "includes_preparation": True,
                "service_user_context": "yes",
                "consulting_body": "City NHS Trust",
            },
            actor=None,
        )
        db.session.commit()
        return a.id


@pytest.fixture
def people(make_person):
    return [make_person(name) for name in ("Ann Able", "Ben Brook", "Cat Cole")]


def session_data(activity_id, rows, worked_on="2025-04-07", **extra):
    data = {"activity_id": str(activity_id), "worked_on": worked_on, "description": "April panel"}
    for i, (person_id, hours, prep) in enumerate(rows):
        data[f"person_{i}"] = "" if person_id is None else str(person_id)
        data[f"hours_{i}"] = hours
        data[f"prep_{i}"] = prep
    data.update(extra)
    return data


# ---- who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_managers_see_every_page(app, client, login, activity, people, role):
    login(role)
    for url in [
        "/contributions/",
        "/contributions/session",
        f"/contributions/session?activity_id={activity}",
        "/contributions/new",
        f"/contributions/new?person_id={people[0]}",
        "/contributions/activities",
        "/contributions/activities/new",
        f"/contributions/activities/{activity}/edit",
    ]:
        assert client.get(url).status_code == 200, url


def test_finance_may_view_lists_only(app, client, login, activity, people):
    login("finance")
    assert client.get("/contributions/").status_code == 200
    assert client.get("/contributions/activities").status_code == 200
    for url in [
        "/contributions/session",
        "/contributions/new",
        "/contributions/activities/new",
        f"/contributions/activities/{activity}/edit",
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, data={}).status_code == 403, url
    assert _count(app, Contribution) == 0


def test_contributor_sees_none_of_it(app, client, login, activity, people):
    login("contributor", person_id=people[0])
    for url in [
        "/contributions/",
        "/contributions/session",
        "/contributions/new",
        "/contributions/activities",
        "/contributions/activities/new",
        f"/contributions/activities/{activity}/edit",
    ]:
        assert client.get(url).status_code == 403, url


def test_signed_out_is_sent_to_sign_in(client):
    resp = client.get("/contributions/session")
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]


def test_missing_records_are_404(app, client, login, activity):
    login("coordinator")
    assert client.get("/contributions/activities/999999/edit").status_code == 404
    assert client.post("/contributions/activities/999999/edit", data={}).status_code == 404
    assert client.get("/contributions/activities/99999999999999999999999/edit").status_code == 404
    assert client.get("/contributions/new?person_id=999999").status_code == 404
    assert client.get("/contributions/new?person_id=abc").status_code == 404


# ---- a session ------------------------------------------------------------------------------


def test_session_shows_the_rate_card_of_the_chosen_activity(client, login, activity):
    login("coordinator")
    page = client.get(f"/contributions/session?activity_id={activity}").get_data(as_text=True)
    assert "Rate card: Service design panel" in page
    assert "£20.00 an hour, preparation time paid too" in page
    # Three rows to start with ("Add another person" adds more), each field with a label.
    for i in range(3):
        assert f'for="person_{i}"' in page and f'for="hours_{i}"' in page and f'for="prep_{i}"' in page
    assert 'for="person_3"' not in page
    assert "Add another person" in page


def test_recording_a_session_for_three_people(app, client, login, activity, people):
    login("coordinator")
    ann, ben, cat = people
    rows = [(ann, "2", ""), ("", "", ""), (ben, "3", "1"), (cat, "1.5", "0"), (None, "", "")]
    resp = client.post("/contributions/session", data=session_data(activity, rows))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert f"activity_id={activity}" in resp.headers["Location"] and "from=2025-04-07" in resp.headers["Location"]
    with app.app_context():
        made = {c.person_id: c for c in db.session.scalars(sa.select(Contribution))}
        assert set(made) == {ann, ben, cat}
        # £20 an hour, preparation paid too.
        assert made[ann].value_owed == Decimal("40.00")
        assert made[ben].value_owed == Decimal("80.00") and made[ben].preparation_hours == Decimal("1.00")
        assert made[cat].value_owed == Decimal("30.00")
        assert all(c.worked_on == date(2025, 4, 7) and c.activity_id == activity for c in made.values())
        assert all(c.description == "April panel" for c in made.values())
    assert _count(app, AuditEvent, AuditEvent.action == "contribution.recorded") == 3
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "3 people took part" in page
    assert "Ann Able £40.00" in page and "Ben Brook £80.00" in page and "Cat Cole £30.00" in page
    assert "<caption>" in page and 'scope="col"' in page


@pytest.mark.parametrize(
    "bad_hours, message",
    [
        ("abc", "Enter hours as a number, for example 1.5."),
        ("1.005", "Enter hours with at most 2 decimal places"),
        ("NaN", "Enter hours as a number"),
        ("-1", "Hours cannot be negative."),
        ("", "Enter the hours, for example 1.5."),
        ("25", "Enter at most 24 hours."),
        ("1e9999", "far too large: enter hours"),
    ],
)
def test_one_bad_row_saves_nothing_and_names_the_row(app, client, login, activity, people, bad_hours, message):
    login("coordinator")
    ann, ben, cat = people
    rows = [(ann, "2", ""), (ben, bad_hours, ""), (cat, "1", "")]
    resp = client.post("/contributions/session", data=session_data(activity, rows))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "There is a problem" in page and "Row 2, hours:" in page and message in page
    assert "150.00" not in page  # hours are never spoken of as money
    assert 'href="#hours_1"' in page  # the error summary links to the field
    assert _count(app, Contribution) == 0
    # What was typed is kept.
    assert 'value="2"' in page


def test_a_row_with_hours_but_no_person_is_named(app, client, login, activity, people):
    login("coordinator")
    rows = [(people[0], "2", ""), ("", "", ""), (None, "3", "")]
    resp = client.post("/contributions/session", data=session_data(activity, rows))
    assert resp.status_code == 422
    assert "Row 3, person: Choose a person." in resp.get_data(as_text=True)
    assert _count(app, Contribution) == 0


def test_the_same_person_twice_is_refused(app, client, login, activity, people):
    login("coordinator")
    rows = [(people[0], "2", ""), (people[0], "1", "")]
    resp = client.post("/contributions/session", data=session_data(activity, rows))
    assert resp.status_code == 422 and "listed twice" in resp.get_data(as_text=True)
    assert _count(app, Contribution) == 0


@pytest.mark.parametrize("worked_on", ["2025-02-30", "not a date", "", "1066-10-14"])
def test_a_bad_session_date_saves_nothing(app, client, login, activity, people, worked_on):
    login("coordinator")
    resp = client.post("/contributions/session", data=session_data(activity, [(people[0], "2", "")], worked_on))
    assert resp.status_code == 422
    assert 'href="#worked_on-day"' in resp.get_data(as_text=True)  # the first box of the date
    assert _count(app, Contribution) == 0


def test_a_session_needs_an_activity_and_someone(app, client, login, activity, people):
    login("coordinator")
    resp = client.post("/contributions/session", data=session_data("", [(people[0], "2", "")]))
    assert resp.status_code == 422 and "Choose the activity." in resp.get_data(as_text=True)
    resp = client.post("/contributions/session", data=session_data(activity, []))
    assert resp.status_code == 422 and "Add at least one person" in resp.get_data(as_text=True)
    resp = client.post("/contributions/session", data=session_data("999999", [(people[0], "2", "")]))
    assert resp.status_code == 422
    assert _count(app, Contribution) == 0


# ---- one contribution -----------------------------------------------------------------------


def test_one_contribution_for_one_person(app, client, login, activity, people):
    login("coordinator")
    page = client.get(f"/contributions/new?person_id={people[1]}").get_data(as_text=True)
    assert f'<option selected value="{people[1]}">Ben Brook</option>' in page
    resp = client.post(
        f"/contributions/new?person_id={people[1]}",
        data={
            "person_id": str(people[1]),
            "activity_id": str(activity),
            "worked_on": "2025-05-01",
            "hours": "2.5",
            "preparation_hours": "0.5",
            "role": "panel member",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.scalar(sa.select(Contribution))
        assert c.person_id == people[1] and c.value_owed == Decimal("60.00") and c.role == "panel member"


@pytest.mark.parametrize(
    "field, value",
    [
        ("hours", "1.005"),
        ("hours", "NaN"),
        ("hours", "lots"),
        ("preparation_hours", "-2"),
        ("worked_on", "2025-02-30"),
        ("person_id", ""),
        ("person_id", "999999"),
    ],
)
def test_a_bad_contribution_is_refused(app, client, login, activity, people, field, value):
    login("coordinator")
    data = {"person_id": str(people[0]), "activity_id": str(activity), "worked_on": "2025-05-01", "hours": "2"}
    data[field] = value
    resp = client.post("/contributions/new", data=data)
    assert resp.status_code == 422
    anchor = f"{field}-day" if field == "worked_on" else field  # a date links to its first box
    assert f'href="#{anchor}"' in resp.get_data(as_text=True)
    assert _count(app, Contribution) == 0


# ---- activities -----------------------------------------------------------------------------


def test_adding_and_changing_an_activity(app, client, login):
    login("coordinator")
    page = client.get("/contributions/activities/new").get_data(as_text=True)
    assert "service users" in page and "benefits" in page  # the hint says why it matters
    data = {"name": "Workshop", "default_rate": "1.005", "rate_unit": "session", "service_user_context": "no"}
    resp = client.post("/contributions/activities/new", data={**data, "name": "", "default_rate": "1" * 3000})
    assert resp.status_code == 422 and 'href="#name"' in resp.get_data(as_text=True)
    assert "far too large" in resp.get_data(as_text=True)
    resp = client.post("/contributions/activities/new", data=data)
    assert resp.status_code == 422 and "decimal places" in resp.get_data(as_text=True)
    assert _count(app, Activity) == 0
    resp = client.post("/contributions/activities/new", data={**data, "name": ""})
    assert resp.status_code == 422 and 'href="#name"' in resp.get_data(as_text=True)
    resp = client.post(
        "/contributions/activities/new", data={**data, "default_rate": "75.00", "consulting_body": "Council"}
    )
    assert resp.status_code == 302
    with app.app_context():
        a = db.session.scalar(sa.select(Activity))
        assert a.default_rate == Decimal("75.00") and a.rate_unit == "session" and a.service_user_context == "no"
        activity_id = a.id
    page = client.get("/contributions/activities").get_data(as_text=True)
    assert "£75.00 a session" in page
    edit = client.get(f"/contributions/activities/{activity_id}/edit").get_data(as_text=True)
    assert 'value="75.00"' in edit
    resp = client.post(
        f"/contributions/activities/{activity_id}/edit",
        data={
            "name": "Workshop",
            "default_rate": "18.50",
            "rate_unit": "hour",
            "includes_preparation": "y",
            "service_user_context": "yes",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        a = db.session.get(Activity, activity_id)
        assert a.default_rate == Decimal("18.50") and a.includes_preparation and a.rate_unit == "hour"
    resp = client.post(
        f"/contributions/activities/{activity_id}/edit",
        data={"name": "Workshop", "default_rate": "18.50", "rate_unit": "fortnight"},
    )
    assert resp.status_code == 422
    assert _count(app, AuditEvent, AuditEvent.action == "activity.updated") == 1


# ---- the list -------------------------------------------------------------------------------


def test_the_list_filters_and_shows_value_owed(app, client, login, activity, people):
    login("coordinator")
    client.post("/contributions/session", data=session_data(activity, [(people[0], "2", ""), (people[1], "1", "")]))
    page = client.get(f"/contributions/?person_id={people[0]}").get_data(as_text=True)
    assert "Ann Able" in page and "£40.00" in page and "Ben Brook</th>" not in page
    assert "Record a session" in page
    resp = client.get("/contributions/?from=2025-02-30")
    assert resp.status_code == 422 and 'href="#from-day"' in resp.get_data(as_text=True)
    assert client.get("/contributions/?page=999999999999999999999").status_code == 422
    assert client.get("/contributions/?person_id=99999999999999999999999").status_code == 422
    resp = client.get("/contributions/?page=5")
    assert resp.status_code == 200 and "There is no page 5" in resp.get_data(as_text=True)
