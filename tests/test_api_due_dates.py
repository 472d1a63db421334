"""Due dates, covered periods and benefit weeks through the API (issue 11, items 2 and 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.builders import assert_error, count, pay
from tracker.extensions import db
from tracker.payments.models import Payment


def ca_verdicts(body):
    return [v for v in body["verdicts"] if (v["rule"] or "").startswith("CA_EARN")]


def test_due_on_defaults_to_the_receipt_date_and_a_covered_period_is_kept(app, api_as, carer):
    api = api_as("finance")
    resp = api.post("/payments", json=pay(carer, "20.00", "2025-04-09"))
    assert resp.status_code == 201, resp.get_json()
    got = api.get(f"/payments/{resp.get_json()['id']}").get_json()
    assert (got["due_on"], got["covers_from"], got["covers_to"]) == ("2025-04-09", None, None)
    body = pay(carer, "40.00", "2025-04-16", due_on="2025-04-13", covers_from="2025-03-31", covers_to="2025-04-13")
    resp = api.post("/payments", json=body)
    assert resp.status_code == 201, resp.get_json()
    got = api.get(f"/payments/{resp.get_json()['id']}").get_json()
    assert (got["due_on"], got["covers_from"], got["covers_to"]) == ("2025-04-13", "2025-03-31", "2025-04-13")
    with app.app_context():
        row = db.session.get(Payment, resp.get_json()["id"])
        assert (row.due_on.isoformat(), row.covers_to.isoformat()) == ("2025-04-13", "2025-04-13")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"covers_from": "2025-04-07"}, "covers_to"),
        ({"covers_to": "2025-04-07"}, "covers_from"),
        ({"covers_from": "2025-04-08", "covers_to": "2025-04-07"}, "covers_to"),
        ({"covers_from": "2024-01-01", "covers_to": "2025-04-07"}, "covers_to"),
        ({"covers_from": "2025-04-07", "covers_to": "2025-06-30"}, "covers_to"),
        ({"due_on": "2026-06-01"}, "due_on"),
        ({"due_on": "1999-12-31"}, "due_on"),
        ({"covers_from": "2101-01-01", "covers_to": "2101-01-02"}, "covers_from"),
        ({"due_on": "not a date"}, "due_on"),
    ],
)
def test_bad_due_dates_and_covered_periods_are_422_and_write_nothing(app, api_as, carer, extra, field):
    api = api_as("finance")
    before = count(app, Payment)
    for path in ("/payments", "/payments/check"):
        assert_error(api.post(path, json=pay(carer, "20.00", "2025-04-09", **extra)), 422, field=field)
    assert count(app, Payment) == before


def test_a_check_counts_the_week_the_payment_is_due(app, api_as, carer):
    api = api_as("admin")
    # received on Wednesday 16 April but due on Sunday 13 April: the week of 7 April counts it
    body = api.post("/payments/check", json=pay(carer, "196.01", "2025-04-16", due_on="2025-04-13")).get_json()
    [v] = ca_verdicts(body)
    assert v["period"] == {"start": "2025-04-07", "end": "2025-04-13"} and v["status"] == "over"
    assert v["benefit_week"] == {"start": "2025-04-14", "end": "2025-04-20"}
    assert body["blocked"] is True
    for s in body["suggestions"]:
        for p in s["payments"]:
            assert p["due_on"] == p["paid_on"] or p["due_on"] == "2025-04-13", s


def test_a_payment_for_two_weeks_is_checked_in_each_week_it_covers(app, api_as, carer):
    api = api_as("admin")
    body = pay(carer, "392.00", "2025-04-20", covers_from="2025-04-07", covers_to="2025-04-20")
    weeks = ca_verdicts(api.post("/payments/check", json=body).get_json())
    assert [(v["period"]["start"], v["total_after"], v["status"]) for v in weeks] == [
        ("2025-04-07", "196.00", "near"),
        ("2025-04-14", "196.00", "near"),
    ]
    over = ca_verdicts(api.post("/payments/check", json={**body, "amount": "392.02"}).get_json())
    assert [v["total_after"] for v in over] == ["196.01", "196.01"]
    assert {v["status"] for v in over} == {"over"}


def test_finance_sees_the_benefit_week_but_no_benefit(app, api_as, carer):
    body = api_as("finance").post("/payments/check", json=pay(carer, "160.00", "2025-04-06")).get_json()
    weekly = [v for v in body["verdicts"] if v.get("benefit_week")]
    assert weekly, body["verdicts"]
    v = weekly[0]
    assert v["benefit_week"] == {"start": "2025-04-07", "end": "2025-04-13"} and v["limit"] == "196.00"
    assert v["rule"] is None and v["benefit"] is None and "Carer" not in str(v)


def test_a_reversal_nets_out_a_covered_payment_in_every_week(app, api_as, carer, make_user):
    recorder, approver = api_as("finance"), api_as("finance")
    body = pay(carer, "100.00", "2025-04-20", covers_from="2025-04-07", covers_to="2025-04-20")
    pid = recorder.post("/payments", json=body).get_json()["id"]
    assert approver.post(f"/payments/{pid}/approve").status_code == 200
    assert recorder.post(f"/payments/{pid}/pay", json={"paid_on": "2025-04-20", "method": "cash"}).status_code == 200
    rid = recorder.post(f"/payments/{pid}/reverse", json={"reason": "Paid to the wrong person."}).get_json()["id"]
    assert approver.post(f"/payments/{rid}/approve").status_code == 200
    position = api_as("admin").get(f"/people/{carer}/position?on=2025-04-08").get_json()
    [v] = ca_verdicts(position)
    assert Decimal(v["total"]) == 0


def test_paying_on_another_day_moves_a_default_due_date_but_not_a_given_one(app, api_as, carer):
    recorder, approver = api_as("finance"), api_as("finance")
    default = recorder.post("/payments", json=pay(carer, "20.00", "2025-04-09")).get_json()["id"]
    given = recorder.post("/payments", json=pay(carer, "20.00", "2025-04-09", due_on="2025-04-04")).get_json()["id"]
    for pid in (default, given):
        assert approver.post(f"/payments/{pid}/approve").status_code == 200
        resp = recorder.post(f"/payments/{pid}/pay", json={"paid_on": "2025-04-16", "method": "cash"})
        assert resp.status_code == 200 and resp.get_json()["status"] == "paid", resp.get_json()
    assert recorder.get(f"/payments/{default}").get_json()["due_on"] == "2025-04-16"
    assert recorder.get(f"/payments/{given}").get_json()["due_on"] == "2025-04-04"
