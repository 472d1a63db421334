"""Suggestions through the API (issue 11, item 9): a suggested bank transfer arrives on a working
day after the organisation's lead time, with the bank holidays of the configured part of the UK."""

from __future__ import annotations

from datetime import date

import pytest

import tracker.api.payments
from tests.builders import pay
from tracker.rules import checks

TODAY = date(2026, 12, 21)  # a Monday; Christmas Day is Friday 25, the Boxing Day holiday Monday 28


@pytest.fixture
def carer_preferences() -> list[dict]:
    return [{"kind": "bank_transfer"}]


@pytest.fixture
def on_21_december(monkeypatch):
    monkeypatch.setattr(tracker.api.payments, "today", lambda: TODAY)


def test_suggested_bank_transfers_skip_christmas_and_allow_the_lead_time(app, api_as, carer, on_21_december):
    api = api_as("admin")
    done = api.post("/payments", json=pay(carer, "150.00", "2026-12-21", "bank_transfer"))
    assert done.status_code == 201, done.get_json()
    body = api.post("/payments/check", json=pay(carer, "150.00", "2026-12-22", "bank_transfer")).get_json()
    assert body["blocked"] is True and body["suggestions"], body
    holidays = {"2026-12-25", "2026-12-28", "2027-01-01"}
    for s in body["suggestions"]:
        for p in s["payments"]:
            day = date.fromisoformat(p["paid_on"])
            assert day.weekday() < 5 and p["paid_on"] not in holidays, s
            assert p["paid_on"] >= "2026-12-24", s  # three working days after Monday 21 December
            assert day < date(2027, 1, 11), s  # no further than the next two weeks
    defer = next(s for s in body["suggestions"] if s["kind"] == "defer")
    assert defer["payments"][0]["paid_on"] == "2026-12-29"
    assert "29 December 2026" in defer["explanation"]


def test_the_lead_time_is_the_organisations_setting(make_app, rules):
    with make_app(PAYMENT_LEAD_DAYS=5).app_context():
        assert checks.pay_days([TODAY]).first_after_lead(TODAY) == date(2026, 12, 30)  # 22, 23, 24, 29, 30
    with make_app(PAYMENT_LEAD_DAYS=0).app_context():
        assert checks.pay_days([TODAY]).first_after_lead(TODAY) == TODAY


def test_bank_holidays_follow_the_configured_part_of_the_uk(make_app):
    with make_app().app_context():
        england = checks.pay_days([TODAY]).closed
    with make_app(BANK_HOLIDAYS_REGION="SCT").app_context():
        scotland = checks.pay_days([TODAY]).closed
    with make_app(BANK_HOLIDAYS_REGION="NIR").app_context():
        northern_ireland = checks.pay_days([TODAY]).closed
    assert date(2027, 1, 4) in scotland and date(2027, 1, 4) not in england  # 2 January, moved to Monday
    assert date(2027, 3, 17) in northern_ireland and date(2027, 3, 17) not in england  # St Patrick's Day
    assert {date(2026, 12, 25), date(2026, 12, 28), date(2027, 3, 26), date(2027, 3, 29)} <= england


def test_an_unknown_region_stops_the_app_starting(make_app):
    with pytest.raises(RuntimeError, match="BANK_HOLIDAYS_REGION"):
        make_app(BANK_HOLIDAYS_REGION="XYZ")


def test_the_settings_are_read_from_the_environment():
    import config

    got = config.load_config({"BANK_HOLIDAYS_REGION": " sct ", "PAYMENT_LEAD_DAYS": "2"})
    assert got["BANK_HOLIDAYS_REGION"] == "SCT" and got["PAYMENT_LEAD_DAYS"] == 2
