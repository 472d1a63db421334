"""The payment planner (pure: no app, no database): concrete cases and properties.

Every proposal is checked again here with engine.check, with all of its payments at once.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.engine import planner
from tracker.engine.core import Claim, Ledger, LedgerIncome, LedgerPayment, ProposedPayment, check
from tracker.engine.pack import load_default_pack
from tracker.engine.planner import Session
from tracker.rules import wording

RULES = load_default_pack()


def plan(*args, **kwargs):
    """The planner's plan with its words filled in, as the tracker shows it."""
    return wording.plan(planner.plan(*args, **kwargs))


TODAY = date(2025, 4, 9)  # a Wednesday; the Carer's Allowance week runs 7 to 13 April 2025
MON = date(2025, 4, 7)

CA = [Claim("CA", date(2024, 1, 1))]
#: Universal Credit answers, given explicitly (no answer that decides a rule is defaulted).
NO_WA = {"work_allowance": False, "lcw_pending": False, "joint_claim": False}
WA_NO_HOUSING = {"work_allowance": True, "housing_element": False, "lcw_pending": False, "joint_claim": False}
ESA_LOWER = [Claim("ESA", date(2024, 1, 1), None, {"permitted_work": "lower"})]


def recheck(claims, ledger, proposal, sessions):
    """engine.check with every payment of the proposal together (hours on each session's first payment)."""
    seen, proposed = set(), []
    for p in proposal.payments:
        hours = None
        if p.session not in seen:
            seen.add(p.session)
            hours = sessions[p.session].hours
        # a no-money proposal carries the money offered, judged for notional earnings
        proposed.append(
            ProposedPayment(
                p.kind,
                p.amount,
                p.paid_on,
                worked_on=p.worked_on,
                hours=hours,
                offered=p.offered,
                service_user_context=p.service_user_context,
            )
        )
    return check(claims, RULES, ledger, proposed, [])


def overs(result):
    return [v for v in result.verdicts if v.status == "over"]


def assert_sound(claims, ledger, result, sessions, today=TODAY):
    """Amounts conserved to the penny; no date before today or the session; clean means clean."""
    total = sum((s.amount for s in sessions), D("0"))
    assert result.total == total
    assert result.proposals
    for proposal in result.proposals:
        paid = sum((p.amount for p in proposal.payments), D("0"))
        offered = sum((p.offered or D("0") for p in proposal.payments), D("0"))
        assert paid == total or (paid == 0 and offered == total), proposal
        for p in proposal.payments:
            assert isinstance(p.amount, D)
            assert p.amount == p.amount.quantize(D("0.01"))
            assert p.paid_on >= today and p.paid_on >= sessions[p.session].worked_on
        again = recheck(claims, ledger, proposal, sessions)
        assert proposal.clean == (not overs(again))
        if result.clean:
            assert proposal.clean and not overs(again), [v.to_dict() for v in overs(again)]
        assert proposal.explanation


def week_totals(proposal, ledger, kinds=("cash", "bank_transfer", "voucher", "charity")):
    totals: dict[date, D] = {}
    for p in list(ledger.payments) + list(proposal.payments):
        if p.kind in kinds:
            monday = p.paid_on - timedelta(days=p.paid_on.weekday())
            totals[monday] = totals.get(monday, D("0")) + p.amount
    return totals


# ---- concrete cases ---------------------------------------------------------------------------


def test_carer_with_150_paid_this_week_and_a_100_session_moves_or_splits():
    ledger = Ledger(payments=(LedgerPayment("cash", D("150.00"), MON),))
    sessions = [Session(TODAY, D("100.00"), D("4"))]
    result = plan(CA, RULES, ledger, sessions, ["cash"], TODAY)
    assert result.clean
    assert_sound(CA, ledger, result, sessions)
    keys = [p.key for p in result.proposals]
    assert "split" in keys and "whole" in keys
    for proposal in result.proposals:
        # no week goes over £196; this week takes at most the £46 left
        assert all(total <= D("196.00") for total in week_totals(proposal, ledger).values())
        assert all(p.kind == "cash" for p in proposal.payments)
    split = next(p for p in result.proposals if p.key == "split")
    assert [(p.amount, p.paid_on) for p in split.payments] == [(D("46.00"), TODAY), (D("54.00"), date(2025, 4, 14))]
    assert "£46.00" in split.explanation and "Carer's Allowance earnings limit" in split.explanation
    whole = next(p for p in result.proposals if p.key == "whole")
    assert [(p.amount, p.paid_on) for p in whole.payments] == [(D("100.00"), date(2025, 4, 14))]
    assert "no benefit rule goes over its limit" in whole.explanation


def test_a_session_that_fits_is_paid_on_the_day():
    sessions = [Session(TODAY, D("80.00"), D("3"))]
    result = plan(CA, RULES, Ledger(), sessions, ["bank_transfer", "cash"], TODAY)
    assert result.clean and len(result.proposals) == 1
    [proposal] = result.proposals
    assert proposal.key == "as_asked"
    assert [(p.kind, p.amount, p.paid_on) for p in proposal.payments] == [("bank_transfer", D("80.00"), TODAY)]
    assert_sound(CA, Ledger(), result, sessions)


def test_esa_lower_limit_and_a_100_session_no_clean_plan_within_the_horizon():
    sessions = [Session(TODAY, D("100.00"), D("5"))]
    # £20 a week: £100 needs five benefit weeks; three weeks from a Wednesday reach into only four
    result = plan(ESA_LOWER, RULES, Ledger(), sessions, ["cash", "voucher"], TODAY, horizon_weeks=3)
    assert not result.clean
    assert "There is no way to pay £100.00 by" in result.message
    assert "least harm" in result.message and "benefits adviser" in result.message
    [proposal] = result.proposals
    assert not proposal.clean and proposal.key == "least_harm"
    assert "still breaks" in proposal.explanation and "ESA permitted work lower limit" in proposal.explanation
    bad = overs(recheck(ESA_LOWER, Ledger(), proposal, sessions))
    assert [v.family for v in bad] == ["ESA_PW_LOWER"]  # one week over, not several
    assert proposal.harm.blocks == 1
    assert_sound(ESA_LOWER, Ledger(), result, sessions)
    # every kind used is one the person chose, and no "declined"
    assert {p.kind for p in proposal.payments} <= {"cash", "voucher"}


def test_esa_lower_limit_with_the_allowance_used_elsewhere_has_no_clean_plan():
    # £20 a week declared from another job for the next 30 weeks: every week is full.
    income = tuple(LedgerIncome(D("20.00"), MON + timedelta(weeks=n)) for n in range(30))
    ledger = Ledger(other_income=income)
    sessions = [Session(TODAY, D("100.00"))]
    result = plan(ESA_LOWER, RULES, ledger, sessions, ["cash", "voucher"], TODAY)
    assert not result.clean
    assert result.message.startswith("There is no way to pay £100.00 by 7 October 2025")
    [proposal] = result.proposals
    # the least harmful option puts it all into one week: one week over, not five
    assert len(overs(recheck(ESA_LOWER, ledger, proposal, sessions))) == 1
    assert_sound(ESA_LOWER, ledger, result, sessions)


def test_esa_lower_limit_and_a_100_session_within_26_weeks_splits_20_a_week():
    sessions = [Session(TODAY, D("100.00"))]
    result = plan(ESA_LOWER, RULES, Ledger(), sessions, ["cash"], TODAY)
    assert result.clean
    [proposal] = result.proposals
    assert [p.amount for p in proposal.payments] == [D("20.00")] * 5
    assert all(t <= D("20.00") for t in week_totals(proposal, Ledger()).values())
    assert_sound(ESA_LOWER, Ledger(), result, sessions)


def test_a_large_session_on_a_tiny_limit_returns_the_least_harmful_option():
    sessions = [Session(TODAY, D("1000.00"))]
    result = plan(ESA_LOWER, RULES, Ledger(), sessions, ["cash"], TODAY)
    assert not result.clean
    [proposal] = result.proposals
    assert proposal.harm.overs == 1
    assert_sound(ESA_LOWER, Ledger(), result, sessions)


def test_switch_to_a_preferred_kind_the_rule_does_not_count():
    ledger = Ledger(payments=(LedgerPayment("cash", D("150.00"), MON),))
    sessions = [Session(TODAY, D("100.00"), D("4"))]
    result = plan(CA, RULES, ledger, sessions, ["cash", "training"], TODAY)
    assert result.clean
    switch = next(p for p in result.proposals if p.key == "switch")
    # on time: what fits in cash, the rest as training, both on the session's date
    assert {p.paid_on for p in switch.payments} == {TODAY}
    assert [(p.kind, p.amount) for p in switch.payments] == [("cash", D("46.00")), ("training", D("54.00"))]
    assert "Training does not count towards the Carer's Allowance earnings limit" in switch.explanation
    assert_sound(CA, ledger, result, sessions)


def test_training_first_is_paid_on_the_day():
    ledger = Ledger(payments=(LedgerPayment("cash", D("150.00"), MON),))
    sessions = [Session(TODAY, D("100.00"))]
    result = plan(CA, RULES, ledger, sessions, ["training"], TODAY)
    assert result.clean
    [proposal] = result.proposals
    assert [(p.kind, p.amount, p.paid_on) for p in proposal.payments] == [("training", D("100.00"), TODAY)]


def test_a_kind_not_on_the_list_is_never_used():
    ledger = Ledger(payments=(LedgerPayment("cash", D("150.00"), MON),))
    sessions = [Session(TODAY, D("100.00"))]
    result = plan(CA, RULES, ledger, sessions, ["voucher", "certificate"], TODAY)
    assert result.clean
    for proposal in result.proposals:
        assert {p.kind for p in proposal.payments} == {"voucher"}


def test_declined_only_when_it_is_the_only_choice():
    sessions = [Session(TODAY, D("100.00"))]
    result = plan(CA, RULES, Ledger(), sessions, ["declined"], TODAY)
    [proposal] = result.proposals
    assert result.clean and proposal.key == "no_money"
    assert [(p.kind, p.amount, p.offered) for p in proposal.payments] == [("declined", D("0.00"), D("100.00"))]
    # a money kind on the list wins over declined
    result = plan(CA, RULES, Ledger(), sessions, ["declined", "cash"], TODAY)
    assert all(p.kind == "cash" for pr in result.proposals for p in pr.payments)
    # with nothing said, cash
    result = plan(CA, RULES, Ledger(), sessions, [], TODAY)
    assert all(p.kind == "cash" for pr in result.proposals for p in pr.payments)


def test_too_many_hours_cannot_be_fixed_by_moving_money():
    esa = [Claim("ESA", date(2024, 1, 1), None, {"permitted_work": "higher"})]  # under 16 hours a week
    sessions = [Session(TODAY, D("50.00"), D("17"))]
    result = plan(esa, RULES, Ledger(), sessions, ["cash"], TODAY)
    assert not result.clean
    assert "Fewer hours are needed" in result.message
    assert_sound(esa, Ledger(), result, sessions)


def test_universal_credit_taper_offers_a_plan_without_a_reduction_first():
    uc = [Claim("UC", date(2024, 1, 1), None, {"ap_start_day": 15, **WA_NO_HOUSING})]
    sessions = [Session(TODAY, D("500.00")), Session(TODAY + timedelta(days=3), D("500.00"))]
    result = plan(uc, RULES, Ledger(), sessions, ["cash"], TODAY)
    assert result.clean
    first = result.proposals[0]
    assert first.key.endswith("_no_reduction") and first.harm.reduction == 0
    assert "no Universal Credit reduction" in first.title
    asked = next(p for p in result.proposals if p.key == "as_asked")
    assert asked.harm.reduction > 0
    assert_sound(uc, Ledger(), result, sessions)


def test_a_past_session_is_paid_from_today():
    sessions = [Session(TODAY - timedelta(days=10), D("60.00"))]
    result = plan(CA, RULES, Ledger(), sessions, ["cash"], TODAY)
    assert [p.paid_on for p in result.proposals[0].payments] == [TODAY]


def test_several_sessions_are_planned_together():
    ledger = Ledger(payments=(LedgerPayment("cash", D("150.00"), MON),))
    sessions = [Session(TODAY + timedelta(days=2 * n), D("120.00"), D("4")) for n in range(6)]
    result = plan(CA, RULES, ledger, sessions, ["cash", "voucher", "training"], TODAY)
    assert result.clean
    assert_sound(CA, ledger, result, sessions)
    for proposal in result.proposals:
        assert all(t <= D("196.00") for t in week_totals(proposal, ledger).values())


def test_bad_input_is_refused():
    with pytest.raises(TypeError):
        Session(TODAY, 100.0)
    with pytest.raises(ValueError):
        Session(TODAY, D("0.00"))
    with pytest.raises(ValueError):
        Session(TODAY, D("1.001"))
    with pytest.raises(ValueError):
        plan(CA, RULES, Ledger(), [], ["cash"], TODAY)
    with pytest.raises(TypeError):
        plan(CA, RULES, Ledger(), [Session(TODAY, D("1.00"))], ["cash"], None)


def test_the_module_is_pure():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(planner))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    assert not names & {"flask", "sqlalchemy", "flask_sqlalchemy"}


# ---- properties -------------------------------------------------------------------------------

CLAIM_SETS = st.sampled_from(
    [
        [],
        CA,
        [Claim("CSP", date(2024, 1, 1))],
        ESA_LOWER,
        [Claim("ESA", date(2024, 1, 1), None, {"permitted_work": "higher"})],
        [Claim("UC", date(2024, 1, 1), None, {"ap_start_day": 31, **WA_NO_HOUSING})],
        [Claim("UC", date(2024, 1, 1), None, {"ap_start_day": 3, **NO_WA})],
        [Claim("JSA", date(2024, 1, 1)), Claim("HB", date(2024, 1, 1))],
        CA + [Claim("UC", date(2024, 1, 1), None, {"ap_start_day": 20, **NO_WA})],
    ]
)
KINDS = ("cash", "bank_transfer", "voucher", "training", "charity", "certificate", "declined")
money = st.integers(min_value=1, max_value=40000).map(lambda p: (D(p) / 100).quantize(D("0.01")))
days = st.integers(min_value=-14, max_value=60)
past = st.lists(
    st.tuples(st.sampled_from(("cash", "voucher", "training")), money, st.integers(min_value=-30, max_value=40)),
    max_size=6,
)
sessions_st = st.lists(
    st.tuples(days, money, st.one_of(st.none(), st.integers(min_value=0, max_value=20))), min_size=1, max_size=4
)
prefs_st = st.lists(st.sampled_from(KINDS), unique=True, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    claims=CLAIM_SETS,
    history=past,
    raw_sessions=sessions_st,
    prefs=prefs_st,
    today_offset=st.integers(min_value=0, max_value=400),
)
def test_every_proposal_is_sound(claims, history, raw_sessions, prefs, today_offset):
    today = date(2025, 1, 1) + timedelta(days=today_offset)
    ledger = Ledger(payments=tuple(LedgerPayment(k, a, today + timedelta(days=d)) for k, a, d in history))
    sessions = [Session(today + timedelta(days=d), a, None if h is None else D(h)) for d, a, h in raw_sessions]
    result = plan(claims, RULES, ledger, sessions, prefs, today)
    assert_sound(claims, ledger, result, sessions, today)
    allowed = set(prefs) if prefs else {"cash"}
    money_prefs = [k for k in prefs if k not in ("certificate", "declined")]
    for proposal in result.proposals:
        kinds = {p.kind for p in proposal.payments}
        assert kinds <= allowed
        if "declined" in kinds:
            assert not money_prefs and [k for k in prefs if k != "declined"] == []
    if result.clean:
        assert all(p.clean for p in result.proposals)
    else:
        assert len(result.proposals) == 1 and not result.proposals[0].clean
        if result.proposals[0].key == "no_money":
            assert "chose not to be paid in money, but" in result.message
        else:
            assert "There is no way to pay" in result.message
