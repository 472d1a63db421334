"""Notional earnings on the pages (issue 11 item 4): the contributor's pages, the planner and the
rules page say in plain words that money offered and not taken can count, or which exemption applies."""

from __future__ import annotations

import html
import re
from datetime import date

from tests.builders import CA, activity, contribution, payment
from tracker.extensions import db


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _declined(app, pid, context):
    with app.app_context():
        act = activity("Research panel", service_user_context=context)
        work = contribution(pid, date(2025, 4, 2), activity=act)
        payment(
            pid, "0.00", date(2025, 4, 9), kind="declined", amount_offered="250.00", contributions=[work], method=None
        )
        db.session.commit()


def test_the_contributor_sees_a_declined_fee_counts_and_why(app, client, login, make_person, rules):
    pid = make_person("Casey Carer", claims=[CA])
    _declined(app, pid, "no")
    login("contributor", person_id=pid)
    payments = _text(client.get("/me/payments").get_data(as_text=True))
    assert "You were offered £250.00 and chose not to take it." in payments
    assert "can still count as your earnings for some benefits, unless you took part as a service user" in payments
    position = _text(client.get("/me/position?on=2025-04-10").get_data(as_text=True))
    assert "£250.00 offered and not taken counts as earnings for Carer's Allowance (notional earnings)" in position
    assert "the work is recorded as not being service-user involvement" in position
    assert "Over the limit" in position and "safeguard, not benefits advice" in position


def test_the_contributor_sees_which_exemption_keeps_a_declined_fee_out(app, client, login, make_person, rules):
    pid = make_person("Casey Carer", claims=[CA])
    _declined(app, pid, "yes")
    login("contributor", person_id=pid)
    position = _text(client.get("/me/position?on=2025-04-10").get_data(as_text=True))
    assert "£250.00 offered and not taken does not count for Carer's Allowance" in position
    assert "the person took part as a service user" in position
    assert "Within the limit" in position


def test_the_rules_page_shows_admins_the_organisation_payer_and_the_exemptions(client, login, rules):
    login("admin")
    page = _text(client.get("/rules/").get_data(as_text=True))
    assert "Money offered and not taken (notional earnings)" in page
    assert "Your organisation pays as A public body" in page
    assert "Only a charity or voluntary organisation can use the Universal Credit exemption" in page
    assert "the work is for a charity or voluntary organisation" in page
    login("coordinator")
    assert "notional earnings" not in client.get("/rules/").get_data(as_text=True)


def test_the_rules_page_says_a_charity_payer_can_use_the_uc_exemption(make_app, make_user, rules):
    app = make_app(ORGANISATION_PAYER="charity")
    client = app.test_client()
    from tests.conftest import PASSWORD
    from tracker.auth.models import User

    uid = make_user("admin")
    with app.app_context():
        email = db.session.get(User, uid).email
    client.post("/sign-in", data={"email": email, "password": PASSWORD})
    page = _text(client.get("/rules/").get_data(as_text=True))
    assert "Your organisation pays as A charity or voluntary organisation" in page
    assert "does not count for Universal Credit when it is reasonable for the work to be unpaid" in page


def test_the_check_page_says_a_declined_fee_counts_as_notional_earnings(client, login, carer):
    login("admin")
    data = {
        "kind": "declined",
        "amount": "0.00",
        "amount_offered": "250.00",
        "paid_on": "2025-04-09",
        "note": "Declined on the phone.",
        "action": "check",
    }
    resp = client.post(f"/payments/new?person_id={carer}", data=data)
    assert resp.status_code == 200
    page = _text(resp.get_data(as_text=True))
    assert "Over the limit" in page and "not benefits advice" in page
    assert "£250.00 offered and not taken counts as earnings for Carer's Allowance (notional earnings)" in page
    assert "nobody has recorded whether the work is service-user involvement" in page
    assert "Reason to override the benefit check" in page


def test_the_owed_queue_judges_a_declined_preference_as_recording_it_would(app, api_as, rules, make_person):
    """The queue's check of paying a person who prefers to decline carries the money owed as the
    offer, as the payment it records does; so it agrees with the one-person check."""
    from tracker.contributions import service as contributions
    from tracker.payments import owed
    from tracker.people.models import Person

    pid = make_person("Dee Decline", preferences=[{"kind": "declined"}], claims=[CA])
    with app.app_context():
        act = contributions.create_activity(
            {"name": "Panel", "default_rate": "20.00", "rate_unit": "hour", "service_user_context": "no"}, actor=None
        )
        person = db.session.get(Person, pid)
        work = [
            contributions.record_contribution(
                person, {"activity_id": act.id, "worked_on": date(2025, 4, 1), "hours": "12.5"}, actor=None
            ).id
        ]
        db.session.commit()
    body = {
        "person_id": pid,
        "kind": "declined",
        "amount": "0.00",
        "amount_offered": "250.00",
        "paid_on": "2025-04-09",
        "contribution_ids": work,
    }
    single = api_as("coordinator").post("/payments/check", json=body).get_json()
    with app.test_request_context():
        row = owed.queue(date(2025, 4, 9), today=date.today()).rows[0]
    assert row.blocked and single["blocked"]
    [v] = [v for v in row.check["verdicts"] if v["measure"] == "notional_earnings"]
    assert v["notional"]["counted"] == "250.00"
    assert row.check["verdicts"] == [{k: v for k, v in d.items() if k != "sources"} for d in single["verdicts"]]


def test_the_planner_page_no_longer_says_nothing_counts_for_a_decline(
    app, client, login, rules, make_person, monkeypatch
):
    from tracker.risks import views

    monkeypatch.setattr(views, "today", lambda: date(2025, 6, 11))
    pid = make_person("Dee Decline", claims=[CA], preferences=[{"kind": "declined", "note": ""}])
    login("admin")
    data = {"action": "plan", "date_0": "2025-06-11", "hours_0": "4", "amount_0": "100.00", "rate_0": ""}
    page = _text(client.post(f"/risks/people/{pid}/plan", data=data).get_data(as_text=True))
    assert "nothing counts" not in page
    assert (
        "DWP may still treat the money offered as earnings for Carer's Allowance (notional earnings), unless the "
        "service-user exemption applies" in page
    )
    data["amount_0"] = "250.00"
    page = _text(client.post(f"/risks/people/{pid}/plan", data=data).get_data(as_text=True))
    assert "DWP may treat the money offered as earnings (notional earnings)" in page
    assert "Talk to the person and a benefits adviser first" in page
