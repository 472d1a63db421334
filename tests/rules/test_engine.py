"""The engine: every rule family of the default pack at its boundaries, version changes, counting."""

import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.engine import core
from tracker.engine.core import (
    Claim,
    Ledger,
    LedgerExpense,
    LedgerHours,
    LedgerIncome,
    LedgerPayment,
    ProposedPayment,
    rules_in_force,
)
from tracker.engine.pack import load_default_pack
from tracker.rules import wording

ROOT = Path(__file__).resolve().parents[2]
RULES = load_default_pack()
FAMILIES = {r.family for r in RULES}
PENNY = D("0.01")


def check(*args, **kwargs):
    """The engine's check with its words filled in, as the tracker shows it."""
    return wording.check_result(core.check(*args, **kwargs))


def position(*args, **kwargs):
    """The engine's position with its notes in words, as the tracker shows it."""
    return wording.verdicts(core.position(*args, **kwargs))


def claim(benefit, start=date(2020, 1, 1), end=None, **attrs):
    return Claim(benefit, start, end, attrs)


def pay(amount, on, kind="cash", **kw):
    return LedgerPayment(kind, D(amount), on, **kw)


def find(verdicts, family):
    hits = [v for v in verdicts if v.family == family]
    assert len(hits) == 1, f"{family}: {[v.rule for v in verdicts]}"
    return hits[0]


def at(claims, family, on, payments=(), hours=(), expenses=(), income=()):
    ledger = Ledger(payments=tuple(payments), hours=tuple(hours), expenses=tuple(expenses), other_income=tuple(income))
    return find(position(claims, RULES, ledger, on), family)


# --- every family at its boundaries ------------------------------------------------------------

UC = {"ap_start_day": 1}
Y24, Y25, Y26 = date(2024, 6, 5), date(2025, 6, 4), date(2026, 6, 3)

# (family, rule code, claims, date, limit, kind of boundary, effective severity)
BOUNDARIES = [
    (
        "UC_WA_HOUSING",
        "UC_WA_HOUSING_2024",
        [claim("UC", **UC, work_allowance=True, housing_element=True, lcw_pending=False, joint_claim=False)],
        Y24,
        "404.00",
        "taper",
        "warn",
    ),
    (
        "UC_WA_HOUSING",
        "UC_WA_HOUSING_2025",
        [claim("UC", **UC, work_allowance=True, housing_element=True, lcw_pending=False, joint_claim=False)],
        Y25,
        "411.00",
        "taper",
        "warn",
    ),
    (
        "UC_WA_HOUSING",
        "UC_WA_HOUSING_2026",
        [claim("UC", **UC, work_allowance=True, housing_element=True, lcw_pending=False, joint_claim=False)],
        Y26,
        "427.00",
        "taper",
        "warn",
    ),
    (
        "UC_WA_NOHOUSING",
        "UC_WA_NOHOUSING_2024",
        [claim("UC", **UC, work_allowance=True, housing_element=False, lcw_pending=False, joint_claim=False)],
        Y24,
        "673.00",
        "taper",
        "warn",
    ),
    (
        "UC_WA_NOHOUSING",
        "UC_WA_NOHOUSING_2025",
        [claim("UC", **UC, work_allowance=True, housing_element=False, lcw_pending=False, joint_claim=False)],
        Y25,
        "684.00",
        "taper",
        "warn",
    ),
    (
        "UC_WA_NOHOUSING",
        "UC_WA_NOHOUSING_2026",
        [claim("UC", **UC, work_allowance=True, housing_element=False, lcw_pending=False, joint_claim=False)],
        Y26,
        "710.00",
        "taper",
        "warn",
    ),
    (
        "UC_NO_WA",
        "UC_NO_WA",
        [claim("UC", **UC, work_allowance=False, lcw_pending=False, joint_claim=False)],
        Y25,
        "0.00",
        "taper",
        "warn",
    ),
    (
        "UC_LCW_BAR",
        "UC_LCW_BAR_2024",
        [claim("UC", **UC, lcw_pending=True, joint_claim=False, work_allowance=False)],
        Y24,
        "793.18",
        "at_or_above",
        "block",
    ),
    (
        "UC_LCW_BAR",
        "UC_LCW_BAR_2025",
        [claim("UC", **UC, lcw_pending=True, joint_claim=False, work_allowance=False)],
        Y25,
        "846.56",
        "at_or_above",
        "block",
    ),
    (
        "UC_LCW_BAR",
        "UC_LCW_BAR_2026",
        [claim("UC", **UC, lcw_pending=True, joint_claim=False, work_allowance=False)],
        Y26,
        "881.23",
        "at_or_above",
        "block",
    ),
    (
        "UC_SURPLUS",
        "UC_SURPLUS_2025",
        [claim("UC", **UC, work_allowance=False, lcw_pending=False, joint_claim=False)],
        Y25,
        None,
        "info",
        "warn",
    ),
    (
        "UC_SURPLUS",
        "UC_SURPLUS_2026",
        [claim("UC", **UC, work_allowance=False, lcw_pending=False, joint_claim=False)],
        Y26,
        None,
        "info",
        "warn",
    ),
    ("ESA_PW_LOWER", "ESA_PW_LOWER", [claim("ESA", permitted_work="lower")], Y25, "20.00", "above", "block"),
    ("ESA_PW_HIGHER", "ESA_PW_HIGHER_2024", [claim("ESA", permitted_work="higher")], Y24, "183.50", "above", "block"),
    ("ESA_PW_HIGHER", "ESA_PW_HIGHER_2025", [claim("ESA", permitted_work="higher")], Y25, "195.50", "above", "block"),
    ("ESA_PW_HIGHER", "ESA_PW_HIGHER_2026", [claim("ESA", permitted_work="higher")], Y26, "203.50", "above", "block"),
    ("ESA_PW_HOURS", "ESA_PW_HOURS", [claim("ESA", permitted_work="higher")], Y25, "16.00", "hours", "block"),
    ("ESA_SPW", "ESA_SPW_2024", [claim("ESA", permitted_work="supported")], Y24, "183.50", "above", "block"),
    ("ESA_SPW", "ESA_SPW_2025", [claim("ESA", permitted_work="supported")], Y25, "195.50", "above", "block"),
    ("ESA_SPW", "ESA_SPW_2026", [claim("ESA", permitted_work="supported")], Y26, "203.50", "above", "block"),
    ("CA_EARN", "CA_EARN_2024", [claim("CA")], Y24, "151.00", "above", "block"),
    ("CA_EARN", "CA_EARN_2025", [claim("CA")], Y25, "196.00", "above", "block"),
    ("CA_EARN", "CA_EARN_2026", [claim("CA")], Y26, "204.00", "above", "block"),
    ("CSP_EARN", "CSP_EARN_2024", [claim("CSP")], Y24, "151.00", "above", "block"),
    ("CSP_EARN", "CSP_EARN_2025", [claim("CSP")], Y25, "196.00", "above", "block"),
    ("CSP_EARN", "CSP_EARN_2026", [claim("CSP")], Y26, "204.00", "above", "block"),
    ("JSA_HOURS", "JSA_HOURS", [claim("JSA")], Y25, "16.00", "hours", "block"),
    ("JSA_DISREGARD", "JSA_DISREGARD", [claim("JSA")], Y25, "5.00", "taper", "warn"),
    ("HB_DISREGARD_SINGLE", "HB_DISREGARD_SINGLE", [claim("HB")], Y25, "5.00", "taper", "warn"),
    ("HB_DISREGARD_COUPLE", "HB_DISREGARD_COUPLE", [claim("HB", disregard="couple")], Y25, "10.00", "taper", "warn"),
    ("HB_DISREGARD_HIGHER", "HB_DISREGARD_HIGHER", [claim("HB", disregard="higher")], Y25, "20.00", "taper", "warn"),
    (
        "HB_DISREGARD_LONE_PARENT",
        "HB_DISREGARD_LONE_PARENT",
        [claim("HB", disregard="lone_parent")],
        Y25,
        "25.00",
        "taper",
        "warn",
    ),
    ("PC_DISREGARD_SINGLE", "PC_DISREGARD_SINGLE", [claim("PC", disregard="single")], Y25, "5.00", "taper", "warn"),
    ("PC_DISREGARD_COUPLE", "PC_DISREGARD_COUPLE", [claim("PC", disregard="couple")], Y25, "10.00", "taper", "warn"),
    ("PC_DISREGARD_HIGHER", "PC_DISREGARD_HIGHER", [claim("PC", disregard="higher")], Y25, "20.00", "taper", "warn"),
    ("PIP_INFO", "PIP_INFO", [claim("PIP")], Y25, None, "info", "warn"),
    ("ADP_INFO", "ADP_INFO", [claim("ADP")], Y25, None, "info", "warn"),
    ("TAX_TRADING_ALLOWANCE", "TAX_TRADING_ALLOWANCE", [], Y25, "1000.00", "above", "warn"),
]


def test_the_table_covers_every_family_and_rule_in_the_pack():
    assert {row[0] for row in BOUNDARIES} == FAMILIES
    assert {row[1] for row in BOUNDARIES} == {r.code for r in RULES}


@pytest.mark.parametrize("family,code,claims,on,limit,kind,severity", BOUNDARIES, ids=[b[1] for b in BOUNDARIES])
def test_boundaries(family, code, claims, on, limit, kind, severity):
    rule = next(r for r in RULES if r.code == code)
    if kind == "info":
        v = at(claims, family, on, [pay("50.00", on)])
        assert (v.rule, v.status, v.limit, v.headroom) == (code, "info", None, None)
        assert v.severity == "warn"
        assert rule.message and rule.message in v.notes
        return
    lim = D(limit)
    if kind == "hours":
        ok = at(claims, family, on, hours=[LedgerHours(on, D("15.99"))])
        assert (ok.rule, ok.status, ok.limit) == (code, "near", lim)
        assert ok.headroom == D("0.01")
        over = at(
            claims,
            family,
            on,
            hours=[LedgerHours(on, D("10")), LedgerHours(on + timedelta(days=1), D("6"))]
            if on.weekday() < 6
            else [LedgerHours(on, D("16"))],
        )
        assert (over.status, over.severity, over.headroom) == ("over", severity, D("0.00"))
        assert at(claims, family, on, hours=[LedgerHours(on, D("14.39"))]).status == "ok"
        return
    exact = at(claims, family, on, [pay(limit, on)])
    penny_over = at(claims, family, on, [pay(limit, on), pay("0.01", on)])
    assert exact.rule == code and exact.limit == lim and exact.severity == severity
    assert exact.total_before == exact.total_after == lim
    if kind == "above":
        assert exact.status == "near" and exact.headroom == 0
        assert penny_over.status == "over" and penny_over.headroom == -PENNY
    elif kind == "at_or_above":
        assert exact.status == "over"  # reaching the level is enough
        below = at(claims, family, on, [pay(str(lim - PENNY), on)])
        assert below.status == "near"
        assert at(claims, family, on, [pay(str((lim * D("0.79")).quantize(PENNY)), on)]).status == "ok"
    else:  # taper: never "over"
        assert exact.status == ("ok" if lim == 0 else "near")
        assert exact.estimated_reduction in (D("0.00"), None)
        assert penny_over.status == "info"
        if rule.taper_rate is None:
            assert penny_over.estimated_reduction is None
            assert any("can reduce" in n for n in penny_over.notes)
        else:
            assert penny_over.estimated_reduction == (rule.taper_rate * PENNY).quantize(PENNY)
            big = at(claims, family, on, [pay(str(lim + 100), on)])
            assert big.estimated_reduction == (rule.taper_rate * 100).quantize(PENNY)
    if kind != "at_or_above" and lim > 0:
        assert at(claims, family, on, [pay(str((lim * D("0.9")).quantize(PENNY)), on)]).status == "near"
        assert at(claims, family, on, [pay(str((lim * D("0.9")).quantize(PENNY) - PENNY), on)]).status == "ok"


# --- new figures start on the right day --------------------------------------------------------


def test_carers_allowance_151_to_196_for_the_benefit_week_from_monday_7_april_2025():
    """A week's earnings decide the following benefit week, judged against that week's limit
    (ICA Regulations 1976 reg 8; KJ [2010] UKUT 218 (AAC)); the uprating is Monday 7 April 2025."""
    ca = [claim("CA")]
    v = at(ca, "CA_EARN", date(2025, 4, 7), [pay("196.00", date(2025, 4, 7))])
    assert (v.rule, v.limit, v.status) == ("CA_EARN_2025", D("196.00"), "near")
    assert (v.period_start, v.period_end) == (date(2025, 4, 7), date(2025, 4, 13))
    assert (v.benefit_week_start, v.benefit_week_end) == (date(2025, 4, 14), date(2025, 4, 20))
    # the case: received and due on Sunday 6 April 2025 decides the week from 7 April (£196)
    sunday = at(ca, "CA_EARN", date(2025, 4, 6), [pay("196.00", date(2025, 4, 6))])
    assert (sunday.rule, sunday.limit, sunday.status) == ("CA_EARN_2025", D("196.00"), "near")
    assert (sunday.period_start, sunday.period_end) == (date(2025, 3, 31), date(2025, 4, 6))
    assert (sunday.benefit_week_start, sunday.benefit_week_end) == (date(2025, 4, 7), date(2025, 4, 13))
    assert at(ca, "CA_EARN", date(2025, 4, 6), [pay("196.01", date(2025, 4, 6))]).status == "over"
    # the week before decides the week from 31 March, still under the 2024/25 figure
    old = at(ca, "CA_EARN", date(2025, 3, 30), [pay("151.01", date(2025, 3, 30))])
    assert (old.rule, old.limit, old.status) == ("CA_EARN_2024", D("151.00"), "over")
    assert at(ca, "CA_EARN", date(2025, 3, 30), [pay("151.00", date(2025, 3, 30))]).status == "near"
    assert at(ca, "CA_EARN", date(2026, 4, 5), [pay("204.00", date(2026, 4, 5))]).rule == "CA_EARN_2026"
    assert at(ca, "CA_EARN", date(2026, 3, 29), [pay("196.01", date(2026, 3, 29))]).status == "over"


def test_carer_support_payment_sunday_weeks_196_from_6_april_2025():
    csp = [claim("CSP")]
    v = at(csp, "CSP_EARN", date(2025, 4, 6), [pay("196.00", date(2025, 4, 6))])
    assert (v.rule, v.status, v.period_start, v.period_end) == (
        "CSP_EARN_2025",
        "near",
        date(2025, 4, 6),
        date(2025, 4, 12),
    )
    assert (v.benefit_week_start, v.benefit_week_end) == (date(2025, 4, 13), date(2025, 4, 19))
    # Saturday 5 April ends the week that decides the award week from Sunday 6 April: £196
    sat = at(csp, "CSP_EARN", date(2025, 4, 5), [pay("196.00", date(2025, 4, 5))])
    assert (sat.rule, sat.status, sat.period_start, sat.benefit_week_start) == (
        "CSP_EARN_2025",
        "near",
        date(2025, 3, 30),
        date(2025, 4, 6),
    )
    old = at(csp, "CSP_EARN", date(2025, 3, 29), [pay("196.00", date(2025, 3, 29))])
    assert (old.rule, old.status, old.period_start, old.period_end) == (
        "CSP_EARN_2024",
        "over",
        date(2025, 3, 23),
        date(2025, 3, 29),
    )
    assert at(csp, "CSP_EARN", date(2026, 3, 29), []).rule == "CSP_EARN_2026"
    # a claim can choose its own week start
    own = at([claim("CSP", week_start="monday")], "CSP_EARN", date(2025, 4, 9), [])
    assert own.period_start == date(2025, 4, 7)


def test_uc_assessment_period_straddling_13_april_2026_keeps_the_2025_work_allowance():
    uc = [claim("UC", ap_start_day=10, work_allowance=True, housing_element=True, lcw_pending=False, joint_claim=False)]
    v = at(uc, "UC_WA_HOUSING", date(2026, 4, 20), [pay("420.00", date(2026, 4, 20))])
    assert (v.rule, v.limit, v.period_start, v.period_end) == (
        "UC_WA_HOUSING_2025",
        D("411.00"),
        date(2026, 4, 10),
        date(2026, 5, 9),
    )
    assert v.status == "info" and v.estimated_reduction == D("4.95")  # 55% of £9
    nxt = at(uc, "UC_WA_HOUSING", date(2026, 5, 10), [pay("420.00", date(2026, 5, 10))])
    assert (nxt.rule, nxt.limit, nxt.status) == ("UC_WA_HOUSING_2026", D("427.00"), "near")
    on_day = at(
        [
            claim(
                "UC", ap_start_day=13, work_allowance=True, housing_element=False, lcw_pending=False, joint_claim=False
            )
        ],
        "UC_WA_NOHOUSING",
        date(2026, 4, 13),
    )
    assert on_day.rule == "UC_WA_NOHOUSING_2026"
    before = at(
        [
            claim(
                "UC", ap_start_day=12, work_allowance=True, housing_element=False, lcw_pending=False, joint_claim=False
            )
        ],
        "UC_WA_NOHOUSING",
        date(2026, 5, 1),
    )
    assert (before.rule, before.period_start) == ("UC_WA_NOHOUSING_2025", date(2026, 4, 12))


def test_uc_ap_start_day_31_and_30_in_february():
    uc31 = [
        claim("UC", ap_start_day=31, work_allowance=True, housing_element=False, lcw_pending=False, joint_claim=False)
    ]
    v = at(
        uc31, "UC_WA_NOHOUSING", date(2025, 2, 15), [pay("10.00", date(2025, 2, 27)), pay("20.00", date(2025, 2, 28))]
    )
    assert (v.period_start, v.period_end, v.total_after) == (date(2025, 1, 31), date(2025, 2, 27), D("10.00"))
    v = at(uc31, "UC_WA_NOHOUSING", date(2025, 4, 30), [])
    assert (v.period_start, v.period_end) == (date(2025, 4, 30), date(2025, 5, 30))
    uc30 = [
        claim("UC", ap_start_day=30, work_allowance=False, lcw_pending=False, joint_claim=False)
    ]  # no work allowance: the UC_NO_WA taper, in force since 2021
    assert at(uc30, "UC_NO_WA", date(2024, 2, 28), []).period_start == date(2024, 2, 28)
    assert at(uc30, "UC_NO_WA", date(2024, 2, 27), []).period_start == date(2024, 1, 30)
    assert at(uc30, "UC_NO_WA", date(2025, 2, 27), []).period_start == date(2025, 2, 27)
    assert at(uc30, "UC_NO_WA", date(2025, 2, 26), []).period_end == date(2025, 2, 26)
    uc29 = [claim("UC", ap_start_day=29, work_allowance=False, lcw_pending=False, joint_claim=False)]
    assert at(uc29, "UC_NO_WA", date(2024, 2, 29), []).period_start == date(2024, 2, 28)
    assert at(uc29, "UC_NO_WA", date(2025, 2, 28), []).period_start == date(2025, 2, 27)
    assert at(
        [claim("UC", ap_start_day=31, work_allowance=False, lcw_pending=False, joint_claim=False)],
        "UC_NO_WA",
        date(2024, 2, 29),
        [],
    ).period_end == date(2024, 3, 30)


def test_esa_hours_1599_ok_and_16_over():
    esa = [claim("ESA", permitted_work="higher")]
    monday = date(2025, 6, 2)
    ok = at(
        esa,
        "ESA_PW_HOURS",
        monday,
        hours=[LedgerHours(monday, D("10.00")), LedgerHours(monday + timedelta(days=3), D("5.99"))],
    )
    assert ok.status != "over" and ok.to_dict()["total_after"] == "15.99"
    over = at(
        esa,
        "ESA_PW_HOURS",
        monday,
        hours=[LedgerHours(monday, D("10")), LedgerHours(monday + timedelta(days=6), D("6"))],
    )
    assert over.status == "over" and over.severity == "block"
    # hours in the next week do not count
    assert at(esa, "ESA_PW_HOURS", monday, hours=[LedgerHours(monday + timedelta(days=7), D("20"))]).total_after == 0


def test_esa_lower_limit_has_no_hours_rule():
    vs = position([claim("ESA", permitted_work="lower")], RULES, Ledger(), Y25)
    assert {v.family for v in vs} == {"ESA_PW_LOWER", "TAX_TRADING_ALLOWANCE"}


# --- what counts -------------------------------------------------------------------------------


def test_statuses_and_reversals():
    on = date(2025, 6, 4)
    ca = [claim("CA")]
    payments = [
        pay("50.00", on, status="draft"),
        pay("20.00", on, status="approved"),
        pay("30.00", on, status="paid"),
        pay("500.00", on, status="cancelled"),
        pay("40.00", on, id=7),
        pay("-40.00", on, id=8),  # reversal of 7
    ]
    assert at(ca, "CA_EARN", on, payments).total_after == D("100.00")


def test_kinds():
    on = date(2025, 6, 4)
    payments = [
        pay("10.00", on, "cash"),
        pay("20.00", on, "bank_transfer"),
        pay("30.00", on, "voucher"),
        pay("40.00", on, "charity"),
        pay("100.00", on, "training", benefit_value=D("80.00")),
        pay("0.00", on, "certificate"),
        pay("0.00", on, "declined"),
    ]
    assert at([claim("CA")], "CA_EARN", on, payments).total_after == D("100.00")
    tax = at([], "TAX_TRADING_ALLOWANCE", on, payments)
    assert tax.total_after == D("180.00")  # training at its declared value
    # a training reversal nets out even when its benefit value was entered as positive
    reversed_ = payments + [pay("-100.00", on, "training", benefit_value=D("80.00"))]
    assert at([], "TAX_TRADING_ALLOWANCE", on, reversed_).total_after == D("100.00")


def test_expenses_count_unless_service_user_and_say_check_easement():
    on = date(2025, 6, 4)
    ca = [claim("CA")]
    yes = LedgerExpense(D("15.00"), on, on, "yes")
    no = LedgerExpense(D("12.00"), on, on, "no")
    unknown = LedgerExpense(D("3.00"), on, on, "unknown")
    v = at(ca, "CA_EARN", on, [pay("10.00", on)], expenses=[yes])
    assert v.total_after == D("10.00") and not any("check easement" in n for n in v.notes)
    v = at(ca, "CA_EARN", on, [pay("10.00", on)], expenses=[yes, no, unknown])
    assert v.total_after == D("25.00")
    assert any("check easement" in n and "£15.00" in n for n in v.notes)
    assert at([], "TAX_TRADING_ALLOWANCE", on, [], expenses=[no]).total_after == 0


def test_other_income_counts():
    on = date(2025, 6, 4)
    v = at([claim("CA")], "CA_EARN", on, [pay("100.00", on)], income=[LedgerIncome(D("96.01"), on)])
    assert v.total_after == D("196.01") and v.status == "over"


def test_date_basis_worked():
    base = next(r for r in RULES if r.code == "CA_EARN_2025")
    import dataclasses

    worked = dataclasses.replace(base, code="CA_WORKED", family="CA_WORKED", date_basis="worked")
    on = date(2025, 6, 4)
    ledger = Ledger(payments=(pay("100.00", on + timedelta(days=14), worked_on=on), pay("5.00", on)))
    vs = position([claim("CA")], [base, worked], ledger, on)
    assert find(vs, "CA_EARN").total_after == D("5.00")
    assert find(vs, "CA_WORKED").total_after == D("105.00")


def test_claims_must_be_active_and_tax_needs_no_claim():
    on = date(2025, 6, 4)
    ended = [claim("CA", start=date(2024, 1, 1), end=date(2025, 5, 31))]
    assert [v.family for v in position(ended, RULES, Ledger(), on)] == ["TAX_TRADING_ALLOWANCE"]
    assert [v.family for v in position([], RULES, Ledger(), on)] == ["TAX_TRADING_ALLOWANCE"]
    assert [v.family for v in position([], RULES, Ledger(), date(2017, 4, 5))] == []


def test_uc_defaults_no_work_allowance():
    vs = position(
        [claim("UC", ap_start_day=3, work_allowance=False, lcw_pending=False, joint_claim=False)], RULES, Ledger(), Y25
    )
    assert {v.family for v in vs} == {"UC_NO_WA", "UC_SURPLUS", "TAX_TRADING_ALLOWANCE"}


def test_unconfirmed_rule_never_blocks_and_says_so():
    import dataclasses

    base = next(r for r in RULES if r.code == "CA_EARN_2025")
    unconfirmed = dataclasses.replace(base, confidence="unconfirmed")
    on = date(2025, 6, 4)
    v = find(position([claim("CA")], [unconfirmed], Ledger(payments=(pay("300.00", on),)), on), "CA_EARN")
    assert v.status == "over" and v.severity == "warn"
    assert wording.NOTE_UNCONFIRMED in v.notes
    derived = at([claim("ESA", permitted_work="higher")], "ESA_PW_HIGHER", Y26, [pay("1.00", Y26)])
    assert derived.confidence == "derived" and wording.NOTE_DERIVED in derived.notes


def test_rules_in_force():
    codes = {r.code for r in rules_in_force(RULES, date(2025, 4, 7))}
    assert "CA_EARN_2025" in codes and "CA_EARN_2024" not in codes
    assert "CA_EARN_2024" in {r.code for r in rules_in_force(RULES, date(2025, 4, 6))}
    assert "UC_WA_HOUSING_2025" in {r.code for r in rules_in_force(RULES, date(2026, 4, 12))}
    assert "UC_WA_HOUSING_2026" in {r.code for r in rules_in_force(RULES, date(2026, 4, 13))}


# --- check ------------------------------------------------------------------------------------


def test_check_before_and_after_and_blocked():
    on = date(2025, 6, 4)
    ledger = Ledger(payments=(pay("100.00", on),))
    res = check([claim("CA")], RULES, ledger, [ProposedPayment("cash", D("96.01"), on)], ["cash"])
    v = find(res.verdicts, "CA_EARN")
    assert (v.total_before, v.total_after, v.status) == (D("100.00"), D("196.01"), "over")
    assert res.blocked
    res = check([claim("CA")], RULES, ledger, [ProposedPayment("cash", D("96.00"), on)], ["cash"])
    assert not res.blocked and find(res.verdicts, "CA_EARN").status == "near"
    # a warn-only breach does not block
    big = Ledger(payments=(pay("999.00", on),))
    res = check([], RULES, big, [ProposedPayment("cash", D("2.00"), on)], [])
    assert find(res.verdicts, "TAX_TRADING_ALLOWANCE").status == "over" and not res.blocked


def test_check_covers_every_period_a_proposal_touches():
    ca = [claim("CA")]
    res = check(
        ca,
        RULES,
        Ledger(),
        [
            ProposedPayment("cash", D("50.00"), date(2025, 6, 4)),
            ProposedPayment("cash", D("60.00"), date(2025, 6, 5)),
            ProposedPayment("cash", D("70.00"), date(2025, 6, 12)),
        ],
        [],
    )
    weeks = [(v.period_start, v.total_after) for v in res.verdicts if v.family == "CA_EARN"]
    assert weeks == [(date(2025, 6, 2), D("110.00")), (date(2025, 6, 9), D("70.00"))]


def test_to_dict_shape():
    on = date(2025, 6, 4)
    uc = [
        claim("UC", ap_start_day=1, work_allowance=True, housing_element=False, lcw_pending=False, joint_claim=False),
        claim("ESA", permitted_work="higher"),
    ]
    ledger = Ledger(payments=(pay("700.5", on),), hours=(LedgerHours(on, D("3.5")),))
    res = check(uc, RULES, ledger, [ProposedPayment("cash", D("10"), on)], [])
    d = res.to_dict()
    assert set(d) == {"verdicts", "suggestions"}
    wa = next(v for v in d["verdicts"] if v["family"] == "UC_WA_NOHOUSING")
    assert wa == {
        "rule": "UC_WA_NOHOUSING_2025",
        "family": "UC_WA_NOHOUSING",
        "benefit": "UC",
        "title": "Universal Credit work allowance (no housing costs)",
        "period": {"start": "2025-06-01", "end": "2025-06-30"},
        "measure": "earnings",
        "total_before": "700.50",
        "total_after": "710.50",
        "limit": "684.00",
        "headroom": "-26.50",
        "status": "info",
        "effect": "reduces",
        "severity": "warn",
        "confidence": "confirmed",
        "source": "https://askcpag.org.uk/?id=-267269",
        "estimated_reduction": "14.58",
        "notes": ["About £14.58 less Universal Credit for this assessment period: 55p for each £1 above £684.00."],
        "stale": False,
        "date_basis": "received",
        "benefit_week": None,
    }
    hours = next(v for v in d["verdicts"] if v["family"] == "ESA_PW_HOURS")
    assert (hours["total_after"], hours["limit"], hours["headroom"]) == ("3.50", "16.00", "12.50")
    assert "estimated_reduction" not in hours
    pos = position(uc, RULES, ledger, on)[0].to_dict(position=True)
    assert pos["total"] == pos["total_after"] == pos["total_before"]


# --- floats never reach the engine -------------------------------------------------------------

floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@settings(max_examples=30, deadline=None)
@given(x=floats)
def test_floats_raise_type_error(x):
    on = date(2025, 6, 4)
    with pytest.raises(TypeError):
        LedgerPayment("cash", x, on)
    with pytest.raises(TypeError):
        LedgerPayment("training", D("1.00"), on, benefit_value=x)
    with pytest.raises(TypeError):
        ProposedPayment("cash", x, on)
    with pytest.raises(TypeError):
        ProposedPayment("cash", D("1.00"), on, hours=x)
    with pytest.raises(TypeError):
        LedgerHours(on, x)
    with pytest.raises(TypeError):
        LedgerExpense(x, on, on)
    with pytest.raises(TypeError):
        LedgerIncome(x, on)
    import dataclasses

    with pytest.raises(TypeError):
        dataclasses.replace(RULES[0], limit=x)


def test_public_functions_refuse_untyped_input():
    on = date(2025, 6, 4)
    with pytest.raises(TypeError):
        check([], RULES, Ledger(), [{"kind": "cash", "amount": 1.5, "paid_on": on}], [])
    with pytest.raises(TypeError):
        position([], RULES, {"payments": []}, on)
    with pytest.raises(TypeError):
        Ledger(payments=[{"amount": 1.5}])
    with pytest.raises(TypeError):
        position([], RULES, Ledger(), "2025-06-04")
    with pytest.raises(ValueError):
        LedgerPayment("cash", D("1.001"), on)
    with pytest.raises(ValueError):
        LedgerPayment("gold", D("1.00"), on)


# --- purity and speed --------------------------------------------------------------------------


def test_rules_modules_import_neither_flask_nor_sqlalchemy():
    code = f"""
import sys
for name in ("flask", "sqlalchemy", "flask_sqlalchemy"):
    sys.modules[name] = None  # any import of these now fails
sys.path.insert(0, {str(ROOT)!r})
import tracker.engine, tracker.engine.periods, tracker.engine.core, tracker.engine.pack, tracker.engine.planner
import tracker.engine.model, tracker.engine.evaluate, tracker.engine.suggest
tracker.engine.pack.load_default_pack()
loaded = [m for m in sys.modules if m.split(".")[0] in ("flask", "sqlalchemy", "flask_sqlalchemy")
          and sys.modules[m] is not None]
assert not loaded, loaded
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    for name in ENGINE_MODULES:
        text = (ROOT / "tracker" / "engine" / name).read_text()
        assert "import flask" not in text and "from flask" not in text and "sqlalchemy" not in text


ENGINE_MODULES = (
    "__init__.py",
    "core.py",
    "model.py",
    "dates.py",
    "evaluate.py",
    "suggest.py",
    "periods.py",
    "coverage.py",
    "pack.py",
    "planner.py",
    "effects.py",
    "notional.py",
)


def test_the_engine_imports_nothing_from_the_tracker_but_the_vocabulary():
    """Every module in tracker/engine is listed above, and reaches into the tracker only for tracker.vocab."""
    import ast

    found = {p.name for p in (ROOT / "tracker" / "engine").glob("*.py")}
    assert found == set(ENGINE_MODULES)
    for name in ENGINE_MODULES:
        tree = ast.parse((ROOT / "tracker" / "engine" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{name}: write imports in full, not relative")
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            )
            for module in modules:
                if module == "tracker" or module.startswith("tracker."):
                    assert module == "tracker.vocab" or module.startswith("tracker.engine"), (name, module)


def test_600_payments_three_claims_is_fast():
    import random

    rng = random.Random(7)
    start = date(2024, 4, 1)
    payments = tuple(
        LedgerPayment(
            rng.choice(["cash", "voucher", "bank_transfer", "training"]),
            D(rng.randint(500, 4000)) / 100,
            start + timedelta(days=rng.randint(0, 730)),
            benefit_value=D("20.00"),
        )
        for _ in range(600)
    )
    ledger = Ledger(payments=payments)
    claims = [
        claim("UC", ap_start_day=15, work_allowance=True, housing_element=False, lcw_pending=False, joint_claim=False),
        claim("CA"),
        claim("HB", disregard="couple"),
    ]
    proposal = [ProposedPayment("cash", D("180.00"), date(2025, 6, 4))]
    check(claims, RULES, ledger, proposal, ["cash", "voucher", "training"])
    n = 20
    t = time.perf_counter()
    for _ in range(n):
        res = check(claims, RULES, ledger, proposal, ["cash", "voucher", "training"])
    per_call = (time.perf_counter() - t) / n
    assert res.suggestions
    # report-only in spirit: generous so a slow CI machine does not fail, tight enough to catch a rescan
    assert per_call < 0.05, f"check took {per_call * 1000:.1f} ms"


def test_a_position_does_not_speak_of_a_payment():
    """'Already over before this payment' belongs to a what-if check, not to a position."""
    from datetime import date
    from decimal import Decimal

    from tracker.engine import core as engine
    from tracker.engine import pack

    rules = pack.load_default_pack()
    ledger = engine.Ledger(payments=(engine.LedgerPayment("cash", Decimal("300.00"), date(2025, 4, 9)),))
    [ca] = [
        v
        for v in position([engine.Claim("CA", date(2024, 1, 1))], rules, ledger, date(2025, 4, 9))
        if v.benefit == "CA"
    ]
    assert ca.status == "over" and wording.NOTE_ALREADY_OVER not in ca.notes
    result = check(
        [engine.Claim("CA", date(2024, 1, 1))],
        rules,
        ledger,
        [engine.ProposedPayment("cash", Decimal("1.00"), date(2025, 4, 10))],
    )
    [ca] = [v for v in result.verdicts if v.benefit == "CA"]
    assert wording.NOTE_ALREADY_OVER in ca.notes
