"""Issue 13, items 1 and 9 on the risk dashboard: people in order of what their worst benefit
verdict costs them (stops, reduces, not checked, close, within, information), then the least room
left; the trading allowance (tax) apart, so it never hides a benefit risk; each row says in words
what it means; information-only rules once per page."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from tests.builders import payment, saved
from tracker.risks import views

TODAY = date(2025, 6, 11)  # a Wednesday; the Carer's Allowance week runs 9 to 15 June 2025
MONDAY = date(2025, 6, 9)
START = date(2024, 1, 1)
CA = [{"benefit": "CA", "start_on": START}]
PIP = [{"benefit": "PIP", "start_on": START}]


def uc(work_allowance: bool) -> list[dict]:
    attrs = {"ap_start_day": 1, "work_allowance": work_allowance, "lcw_pending": False, "joint_claim": False}
    if work_allowance:
        attrs["housing_element"] = False
    return [{"benefit": "UC", "start_on": START, "attributes": attrs}]


ROW = re.compile(r'<tr class="verdict-\w+ effect-\w+" data-person-id="(\d+)" data-effect="(\w+)"')


def rows(client, url="/risks/") -> list[tuple[int, str]]:
    resp = client.get(url)
    assert resp.status_code == 200
    return [(int(pid), effect) for pid, effect in ROW.findall(resp.get_data(as_text=True))]


@pytest.fixture
def people(app, rules, make_person, monkeypatch):
    """The issue's case: two people losing Universal Credit, one with a £0.00 limit and nothing
    earned, a carer over and one close, a carer near the trading allowance, and two with PIP."""
    monkeypatch.setattr(views, "today", lambda: TODAY)
    made = {
        "zero_limit": make_person("Aaron Zero", claims=uc(False)),
        "uc_most": make_person("Bea Most", claims=uc(True)),
        "uc_less": make_person("Cy Less", claims=uc(True)),
        "ca_over": make_person("Dee Over", claims=CA),
        "ca_near": make_person("Eve Near", claims=CA),
        "tax_near": make_person("Fay Tax", claims=CA),
        "pip": make_person("Gus Pip", claims=PIP),
        "pip_too": make_person("Hal Pip", claims=PIP),
    }
    saved(app, payment, made["uc_most"], "857.00", MONDAY)  # £173.00 over the £684.00 work allowance
    saved(app, payment, made["uc_less"], "800.00", MONDAY)
    saved(app, payment, made["ca_over"], "250.00", MONDAY)
    saved(app, payment, made["ca_near"], "190.00", MONDAY)
    saved(app, payment, made["tax_near"], "950.00", date(2025, 4, 22))  # an earlier week; the tax year's total
    return made


def test_the_dashboard_orders_people_by_what_it_costs_them(client, login, people):
    login("coordinator")
    p = people
    assert rows(client) == [
        (p["ca_over"], "stops"),
        (p["uc_most"], "reduces"),
        (p["uc_less"], "reduces"),
        (p["ca_near"], "near"),
        (p["zero_limit"], "within"),  # no room at a £0.00 limit, but nothing is lost
        (p["tax_near"], "within"),  # close to the trading allowance, which is shown apart
        (p["pip"], "info"),
        (p["pip_too"], "info"),
    ]
    # the view: those losing Universal Credit first, not last "for information"
    assert rows(client, "/risks/?benefit=UC") == [
        (p["uc_most"], "reduces"),
        (p["uc_less"], "reduces"),
        (p["zero_limit"], "within"),
    ]
    # the filter by what it costs reads the kept positions too
    assert rows(client, "/risks/?effect=reduces") == [(p["uc_most"], "reduces"), (p["uc_less"], "reduces")]
    assert rows(client, "/risks/?effect=info&benefit=PIP") == [(p["pip"], "info"), (p["pip_too"], "info")]
    assert client.get("/risks/?effect=awful").status_code == 422
    # the order comes from kept positions the first view wrote: the next view agrees
    assert rows(client) == rows(client)


def test_each_row_says_what_it_means_and_tax_is_apart(client, login, people):
    login("coordinator")
    html = unescape(client.get("/risks/").get_data(as_text=True))
    assert "Reduces Universal Credit by about £95.15" in html
    assert "Over the limit: stops Carer's Allowance for this period" in html
    assert "If nothing changes, Carer's Allowance stops for this period." in html
    assert "Close to the trading allowance" in html  # the tax column, not the closest benefit rule
    header = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    assert len(re.findall(r"<th scope=\"col\"", header)) <= 5
    assert "Income tax (trading allowance)" in header
    assert "For information" in html
    # the PIP reminder once per page, however many people receive PIP
    assert html.count("<h3>PIP reminder") == 1


def test_finance_reads_the_effect_without_benefit_names(client, login, people):
    login("finance")
    html = unescape(client.get("/risks/").get_data(as_text=True))
    assert "Reduces the benefit by about £95.15" in html
    assert "Over the limit: stops the benefit for this period" in html
    for name in ("Universal Credit", "Carer's Allowance", "Personal Independence Payment", "PIP"):
        assert name not in html, name
    assert "Close to the trading allowance" in html  # tax is not a benefit: it keeps its name
    assert rows(client)[0] == (people["ca_over"], "stops")


def test_notifications_say_what_it_costs_and_a_reduction_raises_a_flag(app, login, people):
    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.notify.models import Notification
    from tracker.risks import service as risk_service
    from tracker.risks.models import RiskFlag

    login("coordinator")  # someone to notify
    with app.app_context():
        risk_service.scan(TODAY)
        db.session.commit()
        levels = dict(db.session.execute(sa.select(RiskFlag.person_id, RiskFlag.level)).tuples().all())
        body = " ".join(db.session.scalars(sa.select(Notification.body)).all())
    p = people
    # losing Universal Credit raises a flag, as a benefit that stops does; within raises none
    assert levels[p["uc_most"]] == levels[p["uc_less"]] == levels[p["ca_over"]] == "over"
    assert levels[p["ca_near"]] == "near"
    assert p["zero_limit"] not in levels and p["pip"] not in levels
    assert "Universal Credit is reduced" in body
    assert "Carer's Allowance stops" in body


def test_the_payment_check_page_says_what_each_verdict_costs(app, client, login, people):
    """The payment check: five columns, what each verdict costs in words, the notes under the row;
    finance reads "the benefit" where a coordinator reads its name."""
    form = {"kind": "cash", "amount": "100.00", "paid_on": TODAY.isoformat(), "action": "check"}
    login("finance")
    html = unescape(client.post(f"/payments/new?person_id={people['uc_most']}", data=form).get_data(as_text=True))
    verdicts = re.search(r"<table class=\"responsive verdicts\">.*?</table>", html, re.S).group(0)
    assert 'data-effect="reduces"' in verdicts
    assert "Reduces the benefit by about £150.15" in verdicts  # £273.00 over the work allowance, 55p a pound
    assert "Universal Credit" not in verdicts
    header = re.search(r"<thead>(.*?)</thead>", verdicts, re.S).group(1)
    assert len(re.findall(r"<th scope=\"col\"", header)) == 5
    html = unescape(client.post(f"/payments/new?person_id={people['ca_near']}", data=form).get_data(as_text=True))
    assert "Over the limit: stops the benefit for this period" in html


def test_a_contributor_reads_what_their_payments_cost_them(client, login, people):
    login("contributor", person_id=people["uc_most"])
    html = unescape(client.get(f"/me/position?on={TODAY.isoformat()}").get_data(as_text=True))
    assert "Reduces Universal Credit by about £95.15" in html
    assert "effect-reduces" in html


def test_a_taper_chart_marks_the_periods_that_reduce_the_benefit(client, login, people):
    login("coordinator")
    html = unescape(client.get(f"/risks/people/{people['uc_most']}").get_data(as_text=True))
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    assert svg.count(">Over</text>") == 1  # this assessment period, above the work allowance
    assert "1 was over the threshold" in svg
    figures = html[html.index("Figures for the chart") :]
    figures = figures[: figures.index("</table>")]
    assert "Reduces Universal Credit by about £95.15" in figures
    assert "For information" not in figures
    assert figures.count('<th scope="col"') == 5  # the threshold under the total: five columns
