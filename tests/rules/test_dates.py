"""Which date counts (received, due, worked), spreading a payment over the period it covers, and
the benefit week a Carer's Allowance or Carer Support Payment week's earnings decide."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.engine import core, dates
from tracker.engine.core import Claim, Ledger, LedgerPayment, ProposedPayment, Rule
from tracker.engine.pack import RuleError, load_default_pack, parse_rule, rule_to_dict

RULES = load_default_pack()


def claim(benefit, start=date(2020, 1, 1), end=None, **attrs):
    return Claim(benefit, start, end, attrs)


def pay(amount, on, kind="cash", **kw):
    return LedgerPayment(kind, D(amount), on, **kw)


def family(verdicts, name):
    return [v for v in verdicts if v.family == name]


def one(verdicts, name):
    found = family(verdicts, name)
    assert len(found) == 1, [v.rule for v in verdicts]
    return found[0]


def at(claims, name, on, payments=()):
    return family(core.position(claims, RULES, Ledger(payments=tuple(payments)), on), name)


ESA_LOWER = [claim("ESA", permitted_work="lower")]
MON = date(2025, 6, 2)  # a Monday
SUN = MON - timedelta(days=1)


# --- which date counts -------------------------------------------------------------------------


def test_the_pack_says_which_date_counts_for_each_benefit():
    by_family = {r.family: r for r in RULES}
    for name in ("CA_EARN", "CSP_EARN", "ESA_PW_LOWER", "ESA_PW_HIGHER", "ESA_SPW", "JSA_DISREGARD"):
        assert (by_family[name].date_basis, by_family[name].spread) == ("due", True), name
    for name in ("CA_EARN", "CSP_EARN"):
        assert by_family[name].affects == "following_week"
    for name in ("UC_WA_HOUSING", "UC_WA_NOHOUSING", "UC_LCW_BAR"):
        assert (by_family[name].date_basis, by_family[name].spread) == ("received", False), name
    assert by_family["ESA_PW_HOURS"].date_basis == "worked"


def test_esa_counts_the_week_a_payment_is_due_not_the_week_it_arrives():
    late = pay("20.01", MON + timedelta(days=8), due_on=MON)  # due Monday, received the next Tuesday
    [due_week] = at(ESA_LOWER, "ESA_PW_LOWER", MON, [late])
    assert (due_week.period_start, due_week.total_after, due_week.status) == (MON, D("20.01"), "over")
    assert due_week.date_basis == "due"
    [arrival_week] = at(ESA_LOWER, "ESA_PW_LOWER", MON + timedelta(days=8), [late])
    assert arrival_week.total_after == 0


def test_without_a_due_date_a_payment_is_due_when_received():
    [v] = at(ESA_LOWER, "ESA_PW_LOWER", MON, [pay("20.00", MON + timedelta(days=6))])
    assert (v.total_after, v.status) == (D("20.00"), "near")
    [v] = at(ESA_LOWER, "ESA_PW_LOWER", MON, [pay("20.01", MON + timedelta(days=6))])
    assert v.status == "over"


def test_universal_credit_counts_receipt_whatever_the_due_date():
    uc = [claim("UC", ap_start_day=1, work_allowance=True, housing_element=False)]
    p = pay(
        "700.00", date(2025, 7, 1), due_on=date(2025, 6, 30), covers_from=date(2025, 6, 1), covers_to=date(2025, 6, 30)
    )
    june = one(core.position(uc, RULES, Ledger(payments=(p,)), date(2025, 6, 15)), "UC_WA_NOHOUSING")
    july = one(core.position(uc, RULES, Ledger(payments=(p,)), date(2025, 7, 15)), "UC_WA_NOHOUSING")
    assert (june.total_after, july.total_after) == (0, D("700.00"))
    assert july.date_basis == "received"


def test_a_check_counts_a_proposed_payment_on_its_due_date():
    proposed = ProposedPayment("cash", D("20.01"), MON + timedelta(days=7), due_on=SUN)
    res = core.check(ESA_LOWER, RULES, Ledger(), [proposed])
    [v] = family(res.verdicts, "ESA_PW_LOWER")
    assert (v.period_start, v.status) == (SUN - timedelta(days=6), "over") and res.blocked


# --- spreading over the period a payment covers ------------------------------------------------


def test_shares_add_up_exactly_and_keep_the_running_total_nearest_the_exact_share():
    assert dates.shares(D("100.00"), 3) == [D("33.33"), D("33.34"), D("33.33")]
    assert dates.shares(D("-100.00"), 3) == [D("-33.33"), D("-33.34"), D("-33.33")]
    z, c = D("0.00"), D("0.01")
    assert dates.shares(D("0.02"), 7) == [z, c, z, z, z, c, z]
    # a whole number of pence a week stays whole in each week
    assert sum(dates.shares(D("40.00"), 14)[:7], D(0)) == D("20.00")


@given(st.integers(min_value=-10_000_000, max_value=10_000_000), st.integers(min_value=1, max_value=366))
def test_shares_always_sum_to_the_amount(pence, days):
    amount = D(pence) / 100
    parts = dates.shares(amount, days)
    assert sum(parts, D(0)) == amount and len(parts) == days
    assert max(parts) - min(parts) <= D("0.01")


def test_a_payment_for_two_weeks_counts_half_in_each_a_penny_either_side():
    cover = {"covers_from": MON, "covers_to": MON + timedelta(days=13)}
    at_limit = pay("40.00", MON + timedelta(days=14), **cover)
    weeks = core.position(ESA_LOWER, RULES, Ledger(payments=(at_limit,)), MON)
    assert one(weeks, "ESA_PW_LOWER").total_after == D("20.00")
    # 40.01 over 14 days: half is 20.005, so the first week has 20.01 (over) and the second 20.00
    odd = pay("40.01", MON + timedelta(days=14), **cover)
    first = one(core.position(ESA_LOWER, RULES, Ledger(payments=(odd,)), MON), "ESA_PW_LOWER")
    second = one(core.position(ESA_LOWER, RULES, Ledger(payments=(odd,)), MON + timedelta(days=7)), "ESA_PW_LOWER")
    assert (first.total_after, first.status) == (D("20.01"), "over")
    assert (second.total_after, second.status) == (D("20.00"), "near")


def test_a_proposed_payment_for_a_period_gives_a_verdict_for_each_week_it_covers():
    proposed = ProposedPayment(
        "cash", D("60.00"), MON + timedelta(days=21), covers_from=MON, covers_to=MON + timedelta(days=20)
    )
    res = core.check(ESA_LOWER, RULES, Ledger(), [proposed])
    weeks = [(v.period_start, v.total_after) for v in family(res.verdicts, "ESA_PW_LOWER")]
    assert weeks == [(MON + timedelta(days=7 * n), D("20.00")) for n in range(3)]
    assert not res.blocked


def test_a_reversal_nets_out_a_spread_payment_day_by_day():
    cover = {"covers_from": MON, "covers_to": MON + timedelta(days=9)}
    original = pay("33.33", MON + timedelta(days=10), **cover)
    reversal = pay("-33.33", MON + timedelta(days=10), **cover)
    for week in (MON, MON + timedelta(days=7)):
        [v] = at(ESA_LOWER, "ESA_PW_LOWER", week, [original, reversal])
        assert v.total_after == 0


def test_training_spreads_its_declared_value():
    rule = Rule(
        code="T_SPREAD",
        benefit="ESA",
        title="Spread test",
        limit=D("10.00"),
        counts=core.Counts(kinds=frozenset({"cash"}), training_at_value=True),
        date_basis="due",
        spread=True,
        effective_from=date(2020, 1, 1),
    )
    training = pay(
        "0.00", MON, kind="training", benefit_value=D("14.00"), covers_from=MON, covers_to=MON + timedelta(days=13)
    )
    [v] = family(core.position([claim("ESA")], [rule], Ledger(payments=(training,)), MON), "T_SPREAD")
    assert v.total_after == D("7.00")


def test_spreading_across_an_assessment_period_boundary_keeps_every_penny():
    rule = Rule(
        code="AP_SPREAD",
        benefit="UC",
        title="A spread monthly rule",
        kind="info",
        limit=None,
        period="uc_assessment_period",
        date_basis="due",
        spread=True,
        effective_from=date(2020, 1, 1),
    )
    uc = [claim("UC", ap_start_day=31)]
    # 29 January to 3 February 2025, six days across the assessment period that starts on 31 January
    p = pay("100.00", date(2025, 2, 3), covers_from=date(2025, 1, 29), covers_to=date(2025, 2, 3))
    res = core.check(
        uc,
        [rule],
        Ledger(),
        [ProposedPayment("cash", D("100.00"), p.paid_on, covers_from=p.covers_from, covers_to=p.covers_to)],
    )
    # (only this rule's verdicts: the claim also gets an "unknown" one, as no limit rule covers it)
    periods = [(v.period_start, v.period_end, v.total_after) for v in res.verdicts if v.rule == "AP_SPREAD"]
    # two days (a third, 33.33) in the period ending 30 January; four (66.67) in the next
    assert periods == [
        (date(2024, 12, 31), date(2025, 1, 30), D("33.33")),
        (date(2025, 1, 31), date(2025, 2, 27), D("66.67")),
    ]


def test_a_covered_period_is_whole_and_in_order():
    with pytest.raises(ValueError):
        pay("1.00", MON, covers_from=MON)
    with pytest.raises(ValueError):
        ProposedPayment("cash", D("1.00"), MON, covers_from=MON, covers_to=SUN)
    with pytest.raises(TypeError):
        pay("1.00", MON, due_on="2025-06-02")


# --- benefit weeks (Carer's Allowance, Carer Support Payment) ----------------------------------


def test_a_week_of_earnings_names_the_benefit_week_it_decides_sunday_and_monday():
    ca = [claim("CA")]
    [sunday] = at(ca, "CA_EARN", SUN, [pay("10.00", SUN)])
    [monday] = at(ca, "CA_EARN", MON, [pay("10.00", MON)])
    assert (sunday.period_start, sunday.period_end, sunday.benefit_week_start) == (SUN - timedelta(days=6), SUN, MON)
    assert (monday.period_start, monday.benefit_week_start, monday.benefit_week_end) == (
        MON,
        MON + timedelta(days=7),
        MON + timedelta(days=13),
    )
    d = monday.to_dict()
    assert d["benefit_week"] == {"start": "2025-06-09", "end": "2025-06-15"} and d["date_basis"] == "due"


def test_the_issue_case_sunday_6_april_2025_is_judged_against_196():
    res = core.check([claim("CA")], RULES, Ledger(), [ProposedPayment("cash", D("180.00"), date(2025, 4, 6))])
    v = one(res.verdicts, "CA_EARN")
    assert (v.rule, v.limit, v.status, v.benefit_week_start) == ("CA_EARN_2025", D("196.00"), "near", date(2025, 4, 7))
    assert not res.blocked


def test_earnings_in_the_week_before_a_claims_first_benefit_week_are_checked():
    ca = [claim("CA", start=MON)]
    [before] = at(ca, "CA_EARN", SUN, [pay("196.01", SUN)])
    assert (before.status, before.benefit_week_start) == ("over", MON)
    assert at(ca, "CA_EARN", SUN - timedelta(days=7), [pay("500.00", SUN - timedelta(days=7))]) == []
    # a claim starting mid-week: its first benefit week is the week it starts in
    midweek = [claim("CA", start=MON + timedelta(days=2))]
    assert at(midweek, "CA_EARN", SUN, [pay("196.01", SUN)])[0].status == "over"


def test_earnings_that_could_only_affect_weeks_after_the_claim_ended_are_not_checked():
    ca = [claim("CA", start=date(2024, 1, 1), end=SUN)]
    res = core.check(ca, RULES, Ledger(), [ProposedPayment("cash", D("500.00"), SUN)])
    assert family(res.verdicts, "CA_EARN") == [] and not res.blocked
    # the last week of the claim is still decided by the week before it
    res = core.check(ca, RULES, Ledger(), [ProposedPayment("cash", D("500.00"), SUN - timedelta(days=7))])
    v = one(res.verdicts, "CA_EARN")
    assert (v.status, v.benefit_week_end) == ("over", SUN) and res.blocked


def test_a_week_of_earnings_spread_across_an_uprating_keeps_each_weeks_limit():
    ca = [claim("CA")]
    # £392.02 for 24 March to 6 April 2025: £196.01 a week; the first week decides 31 March (£151),
    # the second decides 7 April (£196): both over, each against its own figure
    p = ProposedPayment(
        "cash", D("392.02"), date(2025, 4, 6), covers_from=date(2025, 3, 24), covers_to=date(2025, 4, 6)
    )
    res = core.check(ca, RULES, Ledger(), [p])
    assert [(v.rule, v.total_after, v.status) for v in family(res.verdicts, "CA_EARN")] == [
        ("CA_EARN_2024", D("196.01"), "over"),
        ("CA_EARN_2025", D("196.01"), "over"),
    ]


def test_a_deferral_moves_the_due_date_with_the_payment():
    ca = [claim("CA")]
    ledger = Ledger(payments=(pay("150.00", MON),))
    res = core.check(
        ca, RULES, ledger, [ProposedPayment("cash", D("100.00"), MON + timedelta(days=2), due_on=MON)], ["cash"]
    )
    defer = next(s for s in res.suggestions if s.kind == "defer")
    [moved] = defer.payments
    assert moved.due_on == moved.paid_on and moved.paid_on >= MON + timedelta(days=7)
    again = core.check(ca, RULES, ledger, [ProposedPayment("cash", D("100.00"), moved.paid_on, due_on=moved.due_on)])
    assert not again.blocked


# --- the rule format ---------------------------------------------------------------------------


def test_spread_and_affects_round_trip_and_are_checked():
    ca = next(r for r in RULES if r.code == "CA_EARN_2025")
    assert parse_rule(rule_to_dict(ca)) == ca
    d = rule_to_dict(ca)
    with pytest.raises(RuleError) as err:
        parse_rule({**d, "period": "calendar_month"})
    assert "affects" in err.value.args[0]
    with pytest.raises(RuleError) as err:
        parse_rule({**d, "spread": "yes"})
    assert "spread" in err.value.args[0]
