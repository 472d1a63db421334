"""Recording a session: rows added and removed without JavaScript, hours spoken of as hours, the
vendored type-ahead served from the tracker itself, and a warning after recording when what a
person is owed would break a benefit rule, saying what they chose."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.builders import person, saved
from tracker.audit.models import AuditEvent
from tracker.contributions.forms import MAX_SESSION_ROWS, row_count, with_rows_changed
from tracker.contributions.models import Contribution
from tracker.extensions import db

ESA_LOWER = {"benefit": "ESA", "start_on": date(2024, 1, 1), "attributes": {"permitted_work": "lower"}}


@pytest.fixture
def activity(app) -> int:
    from tracker.contributions import service

    with app.app_context():
        a = service.create_activity(
            {"name": "Panel", "default_rate": "25.00", "rate_unit": "hour", "includes_preparation": False}, actor=None
        )
        db.session.commit()
        return a.id


def _rows(html: str) -> int:
    return len(re.findall(r'<select[^>]*name="person_\d+"', html))


def _form(activity: int, rows: list[tuple[str, str]], **extra) -> dict:
    data = {"activity_id": str(activity), "worked_on": date.today().isoformat(), "description": "Panel"}
    for i, (pid, hours) in enumerate(rows):
        data.update({f"person_{i}": pid, f"hours_{i}": hours, f"prep_{i}": ""})
    return {**data, **extra}


def test_add_another_person_adds_a_row_and_keeps_what_was_typed(app, client, login, activity, make_person):
    ann = make_person("Ann Able")
    login("coordinator")
    page = client.get("/contributions/session").get_data(as_text=True)
    assert _rows(page) == 3 and "Add another person" in page
    rows = [(str(ann), "2"), ("", ""), ("", "")]
    resp = client.post("/contributions/session", data=_form(activity, rows, action="add"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "There is a problem" not in html
    assert _rows(html) == 4
    assert re.search(rf'<option selected value="{ann}">|<option value="{ann}" selected>', html)
    assert 'name="hours_0" type="text" value="2"' in html or 'value="2"' in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contribution)) == 0


def test_remove_takes_the_row_out_and_moves_the_rest_up(app, client, login, activity, make_person):
    ann, ben = make_person("Ann Able"), make_person("Ben Brook")
    login("coordinator")
    rows = [(str(ann), "2"), ("", ""), (str(ben), "3")]
    html = client.post("/contributions/session", data=_form(activity, rows, remove="0")).get_data(as_text=True)
    assert _rows(html) == 2
    assert re.search(rf'<select[^>]*name="person_1".*?<option selected value="{ben}">', html, re.S)
    # then record: Ben, 3 hours, is row 2 now
    resp = client.post("/contributions/session", data=_form(activity, [("", ""), (str(ben), "3")], action="record"))
    assert resp.status_code == 302
    with app.app_context():
        [c] = db.session.scalars(sa.select(Contribution)).all()
        assert (c.person_id, str(c.hours)) == (ben, "3.00")


def test_row_changes_are_bounded():
    from werkzeug.datastructures import MultiDict

    posted = MultiDict({"person_0": "1", "hours_0": "2", "prep_0": "", "person_999": "", "csrf_token": "t"})
    assert row_count(posted) == MAX_SESSION_ROWS
    assert row_count(MultiDict({"csrf_token": "t"})) == 3
    data, count = with_rows_changed(MultiDict({"person_0": "1", "hours_0": "2"}), 1, None, 0)
    assert count == 1 and "person_0" not in data  # one empty row is left
    data, count = with_rows_changed(MultiDict({"person_0": "1"}), MAX_SESSION_ROWS, "add", None)
    assert count == MAX_SESSION_ROWS


def test_the_page_loads_the_vendored_picker_from_its_own_static_folder(app, client, login):
    login("coordinator")
    resp = client.get("/contributions/session")
    html = resp.get_data(as_text=True)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/static/vendor/accessible-autocomplete/accessible-autocomplete.min.js" in scripts
    assert all(s.startswith("/static/") for s in scripts)
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "data-person-picker" in html
    folder = Path(app.static_folder) / "vendor" / "accessible-autocomplete"
    assert {"accessible-autocomplete.min.js", "accessible-autocomplete.min.css", "LICENSE.txt"} <= {
        p.name for p in folder.iterdir()
    }
    assert "3.0.1" in (folder / "README.md").read_text() and "MIT" in (folder / "README.md").read_text()
    assert client.get("/static/vendor/accessible-autocomplete/accessible-autocomplete.min.js").status_code == 200


def test_a_session_warns_when_what_is_owed_would_break_a_rule(app, client, login, activity, rules):
    esa = saved(app, person, "Esa Person", preferences=["cash", "voucher"], claims=[ESA_LOWER])
    ok = saved(app, person, "Una Claimant", preferences=["cash"])
    login("coordinator")
    rows = [(str(esa), "3"), (str(ok), "3")]
    resp = client.post("/contributions/session", data=_form(activity, rows, action="record"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Esa Person is now owed £75.00" in page
    assert "Paying it all now as “Cash” would break" in page
    assert "(limit £20.00)" in page
    assert "Esa Person chose: Cash; then Vouchers" in page
    assert "Una Claimant is now owed" not in page
    assert "safeguard, not benefits advice" in page
    with app.app_context():
        viewed = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "benefits.viewed")).all()
        assert [e.person_id for e in viewed] == [esa]


def test_one_contribution_warns_too(app, client, login, activity, rules):
    esa = saved(app, person, "Esa Person", preferences=["voucher"], claims=[ESA_LOWER])
    login("coordinator")
    resp = client.post(
        "/contributions/new",
        data={"person_id": str(esa), "activity_id": str(activity), "worked_on": date.today().isoformat(), "hours": "3"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Esa Person is now owed £75.00" in page and "Esa Person chose: Vouchers" in page
