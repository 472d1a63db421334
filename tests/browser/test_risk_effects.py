"""Issue 13, items 1 and 9 in a real browser: the risk dashboard puts people in order of what their
worst benefit verdict costs them, each row saying so in words; a person's charts have labels that
overlap neither each other nor the bars; axe-core finds no serious or critical violation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tests.browser.conftest import assert_accessible, sign_in
from tests.builders import payment
from tracker import vocab

EMAIL = "coordinator.effects@example.org"
START = date(2024, 1, 1)
CA = [{"benefit": "CA", "start_on": START, "attributes": {}}]
UC = [
    {
        "benefit": "UC",
        "start_on": START,
        "attributes": {"ap_start_day": 1, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
    }
]
PIP = [{"benefit": "PIP", "start_on": START, "attributes": {}}]

#: Every <text> of each chart, and its bars, as boxes on the screen: [{texts: [...], bars: [...]}].
CHART_BOXES = """
() => [...document.querySelectorAll('svg.chart-svg')].map(svg => {
  const box = el => { const r = el.getBoundingClientRect();
                      return {text: el.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const texts = [...svg.querySelectorAll('text')].map(box);
  const bars = [...svg.querySelectorAll(':scope > rect')].map(box);
  return {texts, bars};
})
"""


def _overlap(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (
        a["left"] < b["right"] - slack
        and b["left"] < a["right"] - slack
        and a["top"] < b["bottom"] - slack
        and b["top"] < a["bottom"] - slack
    )


def _people(app, make_person) -> dict:
    """A carer over this week's limit, one losing Universal Credit, a carer close to the limit, one
    within it, someone with PIP only; and the over carer has sixteen weeks of bars, some over."""
    from tracker.extensions import db

    on = date.today()
    made = {
        "info": make_person("Pat Pip", claims=PIP),
        "within": make_person("Wren Within", claims=CA),
        "near": make_person("Nico Near", claims=CA),
        "reduces": make_person("Ruth Reduced", claims=UC),
        "stops": make_person("Stan Stops", claims=CA),
    }
    with app.app_context():
        payment(made["within"], Decimal("20.00"), on)
        payment(made["near"], Decimal("190.00"), on)
        payment(made["reduces"], Decimal("100.00"), on)
        payment(made["stops"], Decimal("400.00"), on)
        for week in range(1, 12):  # eleven weeks back, every other one over the limit
            payment(made["stops"], Decimal("400.00" if week % 2 else "60.00"), on - timedelta(weeks=week))
        for week in range(1, 5):  # four weeks ahead with planned payments
            payment(made["stops"], Decimal("150.00"), on + timedelta(weeks=week), status="draft")
        db.session.commit()
        db.session.remove()
    return made


def test_dashboard_order_by_effect_and_chart_labels_that_do_not_overlap(page, live_app, rules, make_person, make_user):
    app, base = live_app
    people = _people(app, make_person)
    make_user("coordinator", email=EMAIL)
    sign_in(page, base, EMAIL)

    # ---- the dashboard: worst effect first, each row in words -----------------------------------
    page.goto(base + "/risks/")
    rows = page.locator("table.risk-table tr[data-person-id]")
    shown = [(int(r.get_attribute("data-person-id")), r.get_attribute("data-effect")) for r in rows.all()]
    expected = [(people[e], e) for e in ("stops", "reduces", "near", "within", "info")]
    assert shown == expected, shown
    ranks = [vocab.EFFECT_RANK[e] for _, e in shown]
    assert ranks == sorted(ranks)
    costs = [" ".join(c.inner_text().split()) for c in rows.locator("td[data-label='What it costs']").all()]
    assert costs[0] == "Over the limit: stops Carer's Allowance for this period", costs
    assert costs[1] == "Reduces Universal Credit by about £55.00", costs
    explanations = page.locator("table.risk-table tr.row-explanation")
    assert explanations.count() == len(shown)
    headers = page.locator("table.risk-table thead th")
    assert headers.count() <= 5
    assert_accessible(page, "the risk dashboard")

    # ---- a person's chart: sixteen weeks, labels clear of each other and of the bars ------------
    page.goto(base + f"/risks/people/{people['stops']}")
    charts = page.evaluate(CHART_BOXES)
    assert charts, "no chart on the risk page"
    weekly = max(charts, key=lambda c: len(c["bars"]))
    assert len(weekly["bars"]) >= 16, len(weekly["bars"])  # paid and planned bars of 16 weeks
    for chart in charts:
        texts = [t for t in chart["texts"] if t["text"].strip()]
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                assert not _overlap(a, b), ("labels overlap", a, b)
            for bar in chart["bars"]:
                assert not _overlap(a, bar), ("a label covers a bar", a, bar)
    labels = [t["text"] for t in weekly["texts"]]
    assert "now" in labels and labels.count("Over") >= 5, labels
    assert_accessible(page, "a risk page with charts")
