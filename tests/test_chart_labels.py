"""Issue 13, item 9: a chart's labels never overlap. The geometry thins the labels out so that the
widest one fits between its neighbours; the browser test (tests/browser/test_risk_effects.py)
measures the boxes Chromium draws."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from tracker.risks import presenters as present
from tracker.risks.dashboard import Bar, Chart


def chart(n: int, period: str, current: int) -> Chart:
    days = 365 if period == "tax_year" else 7
    start = date(2010, 4, 6) if period == "tax_year" else date(2026, 9, 14)
    bars = [
        Bar(start + timedelta(days=days * i), start + timedelta(days=days * i + days - 1), D(300), D(0), D(196), "over")
        for i in range(n)
    ]
    bars[current].current = True
    return Chart("CA_EARN", "A rule", "CA", "earnings", period, bars, "limit")


@pytest.mark.parametrize("period", ["week", "tax_year"])
@pytest.mark.parametrize("n", range(1, 17))
def test_labels_leave_room_for_each_other(period, n):
    svg = present.chart_svg(chart(n, period, current=max(0, n - 5)))
    labelled = [(D(b["cx"]), b["label"]) for b in svg["bars"] if b["label"]]
    assert labelled, "no bar is labelled"
    for (x1, a), (x2, b) in zip(labelled, labelled[1:], strict=False):
        half = (len(a) + len(b)) * present.LABEL_CHAR / 2
        assert x2 - x1 >= half + present.LABEL_GAP, (a, b, x1, x2)
    # the current period always has its label, and "now" under it
    current = next(b for b in svg["bars"] if b["current"])
    assert current["label"]


def test_every_bar_is_labelled_when_there_is_room():
    svg = present.chart_svg(chart(5, "week", current=4))
    assert all(b["label"] for b in svg["bars"])


def test_the_limit_figure_is_in_the_legend_not_on_the_plot():
    svg = present.chart_svg(chart(16, "week", current=11))
    assert svg["limit_label"] == "Limit £196.00"
    assert "limit_label_y" not in svg


def test_label_step():
    assert present.label_step([], D(10)) == 1
    assert present.label_step(["12 May"], D(60)) == 1
    assert present.label_step(["12 May"], D("36.25")) == 2
    assert present.label_step(["12 May"], D("17")) == 4
