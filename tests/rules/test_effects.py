"""Issue 13, item 1: every verdict is classed by what it costs the person (``Verdict.effect``),
worked out in the engine at the boundaries of each kind of rule."""

from datetime import date
from decimal import Decimal as D

import pytest

import tracker.vocab as vocab
from tracker.engine import core, effects
from tracker.engine.core import Claim, Ledger, LedgerPayment
from tracker.engine.pack import load_default_pack

RULES = load_default_pack()
ON = date(2025, 6, 2)  # a Monday in the 2025/26 tax year
UC_NO_WA = {"ap_start_day": 1, "work_allowance": False, "lcw_pending": False}
UC_WA = {"ap_start_day": 1, "work_allowance": True, "housing_element": False, "lcw_pending": False}


def verdict(benefit, family, amount, on=ON, start=date(2020, 1, 1), **attrs):
    payments = (LedgerPayment("cash", D(amount), on),) if amount else ()
    verdicts = core.position([Claim(benefit, start, None, attrs)], RULES, Ledger(payments=payments), on)
    [v] = [v for v in verdicts if v.family == family]
    return v


@pytest.mark.parametrize(
    ("status", "is_taper", "reduction", "effect"),
    [
        ("over", False, None, "stops"),
        ("near", False, None, "near"),
        ("ok", False, None, "within"),
        ("info", False, None, "info"),
        ("unknown", False, None, "unknown"),
        ("info", True, D("95.15"), "reduces"),
        ("info", True, D("0.01"), "reduces"),
        ("info", True, None, "reduces"),  # above a taper with no rate: reduced by an unknown amount
        ("info", True, D("0.00"), "near"),  # above it by less than a penny's reduction
        ("near", True, D("0.00"), "near"),
        ("ok", True, D("0.00"), "within"),
        ("unknown", True, None, "unknown"),
    ],
)
def test_classify(status, is_taper, reduction, effect):
    assert effects.classify(status, is_taper=is_taper, estimated_reduction=reduction) == effect


def test_the_effects_are_in_order_worst_first():
    assert vocab.EFFECTS == ("stops", "reduces", "unknown", "near", "within", "info")
    assert [effects.rank(e) for e in vocab.EFFECTS] == list(range(6))
    assert effects.rank("nonsense") == len(vocab.EFFECTS)


def test_exactly_at_a_cliff_edge_is_close_and_a_penny_over_stops_the_benefit():
    at_limit = verdict("CA", "CA_EARN", "196.00")
    assert (at_limit.limit, at_limit.status, at_limit.effect) == (D("196.00"), "near", "near")
    over = verdict("CA", "CA_EARN", "196.01")
    assert (over.status, over.effect) == ("over", "stops")
    assert verdict("CA", "CA_EARN", "20.00").effect == "within"
    assert verdict("CA", "CA_EARN", "").effect == "within"


def test_a_taper_reduces_only_when_the_reduction_is_above_zero():
    nothing = verdict("UC", "UC_NO_WA", "", **UC_NO_WA)
    assert (nothing.estimated_reduction, nothing.effect) == (D("0.00"), "within")
    some = verdict("UC", "UC_NO_WA", "10.00", **UC_NO_WA)
    assert (some.estimated_reduction, some.effect) == (D("5.50"), "reduces")
    wa = verdict("UC", "UC_WA_NOHOUSING", "684.00", **UC_WA)
    assert (wa.limit, wa.estimated_reduction, wa.effect) == (D("684.00"), D("0.00"), "near")
    above = verdict("UC", "UC_WA_NOHOUSING", "684.01", **UC_WA)
    assert (above.estimated_reduction, above.effect) == (D("0.01"), "reduces")


def test_information_only_and_not_checked():
    assert verdict("PIP", "PIP_INFO", "50.00").effect == "info"
    [v] = [
        v
        for v in core.position([Claim("CA", date(2020, 1, 1))], RULES, Ledger(), date(2023, 6, 1))
        if v.status == "unknown"
    ]
    assert v.effect == "unknown"
    assert v.to_dict()["effect"] == "unknown"


def test_every_verdict_in_json_carries_its_effect():
    d = verdict("UC", "UC_NO_WA", "10.00", **UC_NO_WA).to_dict(position=True)
    assert (d["status"], d["effect"], d["estimated_reduction"]) == ("info", "reduces", "5.50")
