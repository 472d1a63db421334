"""Issue 11, items 1, 7 and 8 in the engine: unknown is not safe, stale figures say so, derived and
secondary cliff edges block, and Universal Credit counts what the DWP guidance counts."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from tracker.engine import core, coverage
from tracker.engine.core import Claim, Ledger, LedgerExpense, LedgerPayment, ProposedPayment
from tracker.engine.pack import load_default_pack
from tracker.rules import wording

RULES = load_default_pack()
BY_CODE = {r.code: r for r in RULES}
UC_ANSWERS = {
    "ap_start_day": 1,
    "work_allowance": True,
    "housing_element": False,
    "lcw_pending": False,
    "joint_claim": False,
}


EMPTY = Ledger()


def check(claims, amount, on, kind="cash", rules=RULES, ledger=EMPTY):
    return wording.check_result(core.check(claims, rules, ledger, [ProposedPayment(kind, D(amount), on)], []))


def family(result, name):
    return next(v for v in result.verdicts if v.family == name)


def unknowns(result):
    return [v for v in result.verdicts if v.status == "unknown"]


# --- unknown is not safe ------------------------------------------------------------------------


def test_a_carers_allowance_claim_on_a_date_no_rule_covers_is_not_checked_and_blocks():
    res = check([Claim("CA", date(2020, 1, 1))], "50.00", date(2023, 6, 1))
    [v] = unknowns(res)
    assert (v.benefit, v.severity, v.period_start, v.period_end) == ("CA", "block", date(2023, 6, 1), date(2023, 6, 1))
    assert res.blocked
    assert v.title == "Carer's Allowance: not checked: no rule covers this date"
    assert any("Not checked" in n and "override" in n for n in v.notes)
    d = v.to_dict()
    assert (d["status"], d["severity"], d["rule"], d["total_after"], d["limit"], d["source"]) == (
        "unknown",
        "block",
        None,
        None,
        None,
        None,
    )
    assert res.suggestions == ()


def test_a_fresh_database_with_no_rules_checks_nothing_and_blocks_every_claim_but_pip():
    claims = [
        Claim("CA", date(2024, 1, 1)),
        Claim("UC", date(2024, 1, 1), None, UC_ANSWERS),
        Claim("PIP", date(2024, 1, 1)),
    ]
    res = check(claims, "10.00", date(2025, 6, 4), rules=[])
    assert sorted(v.benefit for v in unknowns(res)) == ["CA", "UC"]
    assert res.blocked
    pos = core.position(claims, [], Ledger(), date(2025, 6, 4))
    assert sorted(v.benefit for v in pos if v.status == "unknown") == ["CA", "UC"]


def test_a_covered_claim_is_not_unknown_and_an_ended_claim_is_not_checked():
    res = check([Claim("CA", date(2020, 1, 1))], "50.00", date(2025, 6, 4))
    assert not unknowns(res) and not res.blocked
    ended = check([Claim("CA", date(2020, 1, 1), date(2021, 1, 1))], "50.00", date(2023, 6, 1))
    assert not unknowns(ended) and not ended.blocked


def test_a_uc_claim_without_its_answers_is_not_checked_and_says_which_are_missing():
    """No silent defaults: the work allowance and work capability answers decide the rule."""
    res = check([Claim("UC", date(2024, 1, 1), None, {"ap_start_day": 1})], "10.00", date(2025, 6, 4))
    [v] = unknowns(res)
    assert v.benefit == "UC" and res.blocked
    assert any("has a work allowance" in n and "waiting for a work capability assessment" in n for n in v.notes)
    half = check([Claim("UC", date(2024, 1, 1), None, {**UC_ANSWERS, "housing_element": None})], "1", date(2025, 6, 4))
    assert any("award includes help with housing costs" in n for n in unknowns(half)[0].notes)
    esa = check([Claim("ESA", date(2024, 1, 1))], "10.00", date(2025, 6, 4))
    assert [v.benefit for v in unknowns(esa)] == ["ESA"]
    answered = check([Claim("UC", date(2024, 1, 1), None, UC_ANSWERS)], "10.00", date(2025, 6, 4))
    assert not unknowns(answered) and not answered.blocked


def test_an_information_rule_alone_does_not_cover_a_claim():
    only_surplus = [r for r in RULES if r.family == "UC_SURPLUS"]
    res = check([Claim("UC", date(2024, 1, 1), None, UC_ANSWERS)], "10.00", date(2025, 6, 4), rules=only_surplus)
    assert [v.benefit for v in unknowns(res)] == ["UC"]


def test_an_hours_rule_in_force_does_not_hide_a_missing_earnings_figure():
    """Coverage is per measure: ESA permitted work limits hours and earnings, and in June 2023
    the pack has the hours rule but no higher earnings figure, so the earnings are not checked."""
    esa = [Claim("ESA", date(2020, 1, 1), None, {"permitted_work": "higher"})]
    res = check(esa, "500.00", date(2023, 6, 1))
    assert [v.benefit for v in unknowns(res)] == ["ESA"] and res.blocked
    hours_only = [r for r in RULES if r.benefit == "ESA" and r.measure == "hours"]
    assert hours_only, "the pack limits ESA permitted-work hours"
    covered_then = check(esa, "10.00", date(2025, 6, 4))
    assert not unknowns(covered_then)
    before_the_higher_figure = check(esa, "10.00", date(2024, 4, 7))
    assert [v.benefit for v in unknowns(before_the_higher_figure)] == ["ESA"]


# --- stale figures ------------------------------------------------------------------------------


def test_a_figure_used_after_its_next_uprating_is_stale_with_a_note():
    ca = [Claim("CA", date(2020, 1, 1))]
    now = family(check(ca, "50.00", date(2026, 6, 3)), "CA_EARN")
    assert now.rule == "CA_EARN_2026" and not now.stale and now.to_dict()["stale"] is False
    later = family(check(ca, "50.00", date(2027, 4, 7)), "CA_EARN")  # a planned payment next April
    assert later.rule == "CA_EARN_2026" and later.stale and later.to_dict()["stale"] is True
    assert any("may be out of date" in n and "1 April 2027" in n for n in later.notes)
    before = family(check(ca, "50.00", date(2027, 3, 31)), "CA_EARN")  # its week starts on 29 March
    assert not before.stale


def test_a_newer_figure_loaded_ends_the_staleness():
    old = replace(BY_CODE["CA_EARN_2026"], effective_to=date(2027, 4, 4))
    new = replace(
        old,
        code="CA_EARN_2027",
        limit=D("212.00"),
        effective_from=date(2027, 4, 5),
        effective_to=None,
        next_uprating=None,
    )
    rules = [r for r in RULES if r.code != "CA_EARN_2026"] + [old, new]
    v = family(check([Claim("CA", date(2020, 1, 1))], "50.00", date(2027, 4, 7), rules=rules), "CA_EARN")
    assert v.rule == "CA_EARN_2027" and not v.stale
    waiting = [r.code for r in coverage.awaiting_uprating(rules, date(2027, 3, 2))]
    assert "CA_EARN_2026" not in waiting and "CA_EARN_2027" not in waiting and "CSP_EARN_2026" in waiting


def test_the_banner_list_starts_on_1_march_of_the_uprating_year():
    assert coverage.awaiting_uprating(RULES, date(2027, 2, 28)) == []
    waiting = [r.code for r in coverage.awaiting_uprating(RULES, date(2027, 3, 1))]
    assert {"CA_EARN_2026", "CSP_EARN_2026", "ESA_PW_HIGHER_2026", "UC_WA_HOUSING_2026"} <= set(waiting)
    assert "CA_EARN_2025" not in waiting and "ESA_PW_LOWER" not in waiting


# --- figures: derived and secondary cliff edges block ------------------------------------------


def test_esa_permitted_work_over_the_derived_2026_limit_blocks():
    """The worst outcome the tracker exists to prevent: £250 in a week of permitted work."""
    esa = [Claim("ESA", date(2024, 1, 1), None, {"permitted_work": "higher"})]
    res = check(esa, "250.00", date(2026, 6, 3))
    v = family(res, "ESA_PW_HIGHER")
    assert (v.rule, v.status, v.severity, v.confidence) == ("ESA_PW_HIGHER_2026", "over", "block", "derived")
    assert res.blocked
    assert any("worked out from a formula" in n for n in v.notes)
    assert family(check(esa, "203.50", date(2026, 6, 3)), "ESA_PW_HIGHER").status != "over"


def test_a_secondary_figure_blocks_and_says_so():
    res = check([Claim("CA", date(2020, 1, 1))], "204.01", date(2026, 6, 3))
    v = family(res, "CA_EARN")
    assert (v.status, v.severity, v.confidence) == ("over", "block", "secondary") and res.blocked
    assert any("secondary source" in n for n in v.notes)
    assert v.source.startswith("https://www.gov.uk/")


def test_the_lcw_earnings_level_for_2024_is_reached_at_793_18_not_793_17():
    """UC Regs reg 41(2)-(3): 16 x £11.44 x 52 / 12 = £793.1733..., reached by whole pence at £793.18."""
    uc = [Claim("UC", date(2024, 1, 1), None, {**UC_ANSWERS, "lcw_pending": True, "joint_claim": False})]
    assert family(check(uc, "793.17", date(2024, 6, 5)), "UC_LCW_BAR").status != "over"
    reached = check(uc, "793.18", date(2024, 6, 5))
    assert family(reached, "UC_LCW_BAR").status == "over" and reached.blocked


# --- Universal Credit counts what the DWP guidance counts ----------------------------------------


def test_uc_does_not_count_vouchers_or_expenses_by_default_but_other_benefits_do():
    on = date(2025, 6, 4)
    claims = [Claim("UC", date(2024, 1, 1), None, UC_ANSWERS), Claim("CA", date(2020, 1, 1))]
    ledger = Ledger(expenses=(LedgerExpense(D("30.00"), on, on, "unknown"),))
    res = check(claims, "40.00", on, kind="voucher", ledger=ledger)
    assert family(res, "UC_WA_NOHOUSING").total_after == 0
    assert family(res, "CA_EARN").total_after == D("70.00")
    cash = check(claims, "40.00", on, ledger=Ledger(payments=(LedgerPayment("bank_transfer", D("5.00"), on),)))
    assert family(cash, "UC_WA_NOHOUSING").total_after == D("45.00")
