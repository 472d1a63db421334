"""The partner's earnings page (issue 11 item 5): listed for whoever sees the person's benefits,
recorded by the people who look after them, with GOV.UK-style errors."""

from __future__ import annotations

import sqlalchemy as sa

from tests.builders import count
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.people.models import PartnerEarning

GOOD = {"amount": "450.00", "received_on": "2025-06-02", "due_on": "", "note": "Wages from the shop"}


def _url(pid: int) -> str:
    return f"/people/{pid}/partner-earnings"


def _actions(app, pid: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.person_id == pid)))


def test_a_coordinator_records_lists_and_removes_partner_earnings(app, client, login, make_person):
    pid = make_person("Robin Couple")
    login("coordinator")
    detail = client.get(f"/people/{pid}").get_data(as_text=True)
    assert _url(pid) in detail and "See or record the partner's earnings" in detail
    page = client.get(_url(pid))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "None recorded." in html and "not benefits" in html and "Carer's Allowance" in html
    resp = client.post(_url(pid), data=GOOD)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(_url(pid))
    html = client.get(_url(pid)).get_data(as_text=True)
    assert "£450.00" in html and "2 June 2025" in html and "Wages from the shop" in html
    assert "partner_earning.recorded" in _actions(app, pid) and "benefits.viewed" in _actions(app, pid)
    with app.app_context():
        entry = db.session.scalar(sa.select(PartnerEarning.id).where(PartnerEarning.person_id == pid))
    resp = client.post(f"{_url(pid)}/{entry}/remove")
    assert resp.status_code == 302
    assert count(app, PartnerEarning) == 0 and "partner_earning.removed" in _actions(app, pid)


def test_bad_input_is_shown_as_errors_and_writes_nothing(app, client, login, make_person):
    pid = make_person("Robin Couple")
    login("coordinator")
    resp = client.post(_url(pid), data={"amount": "0", "received_on": "2025-02-30", "due_on": "", "note": "n" * 201})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "There is a problem" in html and "Error:" in html
    assert 'href="#received_on-day"' in html  # the date input's first box (GOV.UK pattern)
    assert count(app, PartnerEarning) == 0
    resp = client.post(_url(pid), data={**GOOD, "amount": "0.00"})
    assert resp.status_code == 422 and "Enter an amount above 0.00." in resp.get_data(as_text=True)
    assert count(app, PartnerEarning) == 0


def test_finance_is_refused_and_a_contributor_only_reads_their_own(app, client, login, make_person):
    pid = make_person("Robin Couple")
    other = make_person("Someone Else")
    login("coordinator")
    client.post(_url(pid), data=GOOD)
    login("finance")
    assert client.get(_url(pid)).status_code == 403
    assert client.post(_url(pid), data=GOOD).status_code == 403
    login("contributor", person_id=pid)
    html = client.get(_url(pid)).get_data(as_text=True)
    assert "<h1>Your partner&#39;s earnings</h1>" in html and "£450.00" in html
    assert "Record the earnings" not in html and "Remove" not in html
    assert client.post(_url(pid), data=GOOD).status_code == 403
    assert client.get(_url(other)).status_code == 404
    assert count(app, PartnerEarning) == 1


def test_without_consent_nothing_can_be_recorded(app, client, login, make_person):
    pid = make_person("No Consent", consent=False)
    login("coordinator")
    assert "Record the earnings" not in client.get(_url(pid)).get_data(as_text=True)
    assert client.post(_url(pid), data=GOOD).status_code == 409
    assert count(app, PartnerEarning) == 0
