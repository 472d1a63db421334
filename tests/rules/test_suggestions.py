"""Suggestions: concrete cases, and properties (every suggestion re-checks clean, amounts conserved)."""

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.engine import core
from tracker.engine.core import Claim, Ledger, LedgerHours, LedgerIncome, LedgerPayment, ProposedPayment
from tracker.engine.pack import load_default_pack
from tracker.rules import wording
from tracker.rules.wording import NOTE_ALREADY_OVER

RULES = load_default_pack()


def check(*args, **kwargs):
    """The engine's check with its words filled in, as the tracker shows it."""
    return wording.check_result(core.check(*args, **kwargs))


def position(*args, **kwargs):
    """The engine's position with its notes in words, as the tracker shows it."""
    return wording.verdicts(core.position(*args, **kwargs))


def claim(benefit, **attrs):
    return Claim(benefit, date(2020, 1, 1), None, attrs)


def pay(amount, on, kind="cash", **kw):
    return LedgerPayment(kind, D(amount), on, **kw)


def as_dicts(result):
    return [s.to_dict() for s in result.suggestions]


def by_kind(result):
    return {s.kind: s for s in result.suggestions}


def recheck(claims, ledger, suggestion, proposed, others=()):
    """Run the engine again on the suggested payments (and any other proposed payments)."""
    props = list(others)
    for p in suggestion.payments:
        if p.kind == proposed.kind and p.amount == proposed.amount:
            bv = proposed.benefit_value
        else:
            bv = p.amount if p.kind == "training" else None
        props.append(ProposedPayment(p.kind, p.amount, p.paid_on, worked_on=proposed.worked_on, benefit_value=bv))
    return check(claims, RULES, ledger, props, [])


CA = [claim("CA")]
MON, TUE, WED = date(2025, 4, 7), date(2025, 4, 8), date(2025, 4, 9)
CA_LEDGER = Ledger(payments=(pay("100.00", TUE),))
CA_PROPOSAL = ProposedPayment("cash", D("150.00"), WED)


def test_carers_allowance_all_four_kinds():
    res = check(CA, RULES, CA_LEDGER, [CA_PROPOSAL], ["cash", "voucher", "training"])
    assert res.blocked
    assert [s.kind for s in res.suggestions] == ["split", "defer", "switch_kind", "reduce"]
    assert as_dicts(res) == [
        {
            "kind": "split",
            "payments": [
                {"kind": "cash", "amount": "75.00", "paid_on": "2025-04-09", "due_on": "2025-04-09"},
                {"kind": "cash", "amount": "75.00", "paid_on": "2025-04-14", "due_on": "2025-04-14"},
            ],
            "explanation": "Pay £75.00 on 9 April 2025 and £75.00 on 14 April 2025, so neither week goes over "
            "the Carer's Allowance earnings limit of £196.00.",
        },
        {
            "kind": "defer",
            "payments": [{"kind": "cash", "amount": "150.00", "paid_on": "2025-04-14", "due_on": "2025-04-14"}],
            "explanation": "Pay the whole £150.00 on 14 April 2025 instead of 9 April 2025: that week has room "
            "for it under the Carer's Allowance earnings limit of £196.00.",
        },
        {
            "kind": "switch_kind",
            "payments": [{"kind": "training", "amount": "150.00", "paid_on": "2025-04-09", "due_on": "2025-04-09"}],
            "explanation": "Give the £150.00 as training instead of cash. Training does not count towards the "
            "Carer's Allowance earnings limit. Training is on the person's list of ways they are happy to be paid.",
        },
        {
            "kind": "reduce",
            "payments": [
                {"kind": "cash", "amount": "96.00", "paid_on": "2025-04-09", "due_on": "2025-04-09"},
                {"kind": "cash", "amount": "54.00", "paid_on": "2025-04-14", "due_on": "2025-04-14"},
            ],
            "explanation": "Pay £96.00 on 9 April 2025, the most that fits under the Carer's Allowance earnings "
            "limit of £196.00 that week, and the other £54.00 on 14 April 2025.",
        },
    ]
    for s in res.suggestions:
        assert not any(v.status == "over" for v in recheck(CA, CA_LEDGER, s, CA_PROPOSAL).verdicts)


def test_vouchers_count_for_carers_allowance_so_no_switch_to_them():
    res = check(CA, RULES, CA_LEDGER, [CA_PROPOSAL], ["cash", "voucher"])
    assert "switch_kind" not in by_kind(res)


def test_empty_preferences_allow_only_the_proposed_kind():
    res = check(CA, RULES, CA_LEDGER, [CA_PROPOSAL], [])
    assert {s.kind for s in res.suggestions} == {"split", "defer", "reduce"}
    assert all(p.kind == "cash" for s in res.suggestions for p in s.payments)


def test_a_kind_missing_from_preferences_is_ruled_out():
    res = check(CA, RULES, CA_LEDGER, [CA_PROPOSAL], [{"kind": "training", "note": "a course"}, {"kind": "voucher"}])
    assert [s.kind for s in res.suggestions] == ["switch_kind"]
    assert res.suggestions[0].payments[0].kind == "training"
    res = check(CA, RULES, CA_LEDGER, [CA_PROPOSAL], ["cash", "training"], kinds_ruled_out=["training"])
    assert "switch_kind" not in by_kind(res)


def test_never_switches_to_declined_or_certificate():
    res = check(CA, RULES, CA_LEDGER, [CA_PROPOSAL], ["declined", "certificate", "cash"])
    assert all(p.kind == "cash" for s in res.suggestions for p in s.payments)


def test_never_before_today_or_the_proposed_date():
    res = check(CA, RULES, CA_LEDGER, [CA_PROPOSAL], ["cash", "training"], today=date(2025, 4, 11))
    assert res.suggestions
    for s in res.suggestions:
        assert all(p.paid_on >= date(2025, 4, 11) for p in s.payments)
    switch = by_kind(res)["switch_kind"]
    assert switch.payments[0].paid_on == date(2025, 4, 11) and "on 11 April 2025" in switch.explanation


def test_no_suggestions_when_nothing_is_over():
    res = check(CA, RULES, CA_LEDGER, [ProposedPayment("cash", D("96.00"), WED)], ["cash", "training"])
    assert not res.suggestions and not res.blocked


def test_hours_breach_gets_no_money_suggestions():
    esa = [claim("ESA", permitted_work="higher")]
    ledger = Ledger(hours=(LedgerHours(MON, D("15.00")),))
    res = check(esa, RULES, ledger, [ProposedPayment("cash", D("20.00"), WED, hours=D("2"))], ["cash"])
    hours = next(v for v in res.verdicts if v.family == "ESA_PW_HOURS")
    assert (hours.total_before, hours.total_after, hours.status) == (D("15.00"), D("17"), "over")
    assert res.blocked and not res.suggestions


def test_already_over_and_not_counted_gets_no_suggestions():
    ledger = Ledger(payments=(pay("250.00", TUE),))
    res = check(
        CA, RULES, ledger, [ProposedPayment("training", D("50.00"), WED, benefit_value=D("50.00"))], ["training"]
    )
    ca = next(v for v in res.verdicts if v.family == "CA_EARN")
    assert ca.status == "over" and ca.total_after == ca.total_before and NOTE_ALREADY_OVER in ca.notes
    assert not res.suggestions


def test_esa_lower_limit_split_over_three_weeks():
    esa = [claim("ESA", permitted_work="lower")]
    prop = ProposedPayment("cash", D("50.00"), WED)
    res = check(esa, RULES, Ledger(), [prop], [])
    assert [s.kind for s in res.suggestions] == ["split"]
    split = res.suggestions[0]
    assert [(p.amount, p.paid_on) for p in split.payments] == [
        (D("16.67"), WED),
        (D("16.67"), date(2025, 4, 14)),
        (D("16.66"), date(2025, 4, 21)),
    ]
    assert "no week goes over the ESA permitted work lower limit of £20.00" in split.explanation


def test_lcw_bar_reaching_the_level_breaks_it_so_reduce_stops_a_penny_short():
    uc = [claim("UC", ap_start_day=1, lcw_pending=True, joint_claim=False, work_allowance=True, housing_element=False)]
    ledger = Ledger(payments=(pay("800.00", date(2025, 6, 2)),))
    prop = ProposedPayment("cash", D("100.00"), date(2025, 6, 10))
    res = check(uc, RULES, ledger, [prop], [])
    lcw = next(v for v in res.verdicts if v.family == "UC_LCW_BAR")
    assert lcw.status == "over" and lcw.severity == "block" and res.blocked  # a derived cliff edge blocks
    reduce = by_kind(res)["reduce"]
    assert [(p.amount, p.paid_on) for p in reduce.payments] == [
        (D("46.55"), date(2025, 6, 10)),
        (D("53.45"), date(2025, 7, 1)),
    ]
    assert by_kind(res)["defer"].payments[0].paid_on == date(2025, 7, 1)


def test_trading_allowance_defers_to_the_next_tax_year():
    ledger = Ledger(payments=(pay("950.00", date(2025, 5, 1)),))
    prop = ProposedPayment("cash", D("100.00"), date(2026, 3, 20))
    res = check([], RULES, ledger, [prop], [])
    kinds = by_kind(res)
    assert [(p.amount, p.paid_on) for p in kinds["defer"].payments] == [(D("100.00"), date(2026, 4, 6))]
    assert [(p.amount, p.paid_on) for p in kinds["split"].payments] == [
        (D("50.00"), date(2026, 3, 20)),
        (D("50.00"), date(2026, 4, 6)),
    ]
    assert "tax year" in kinds["defer"].explanation


def test_csp_split_uses_sunday_weeks():
    csp = [claim("CSP")]
    ledger = Ledger(payments=(pay("150.00", date(2025, 6, 2)),))  # Monday, in the week from Sunday 1 June
    res = check(csp, RULES, ledger, [ProposedPayment("cash", D("100.00"), date(2025, 6, 4))], [])
    assert by_kind(res)["defer"].payments[0].paid_on == date(2025, 6, 8)  # the next Sunday


def test_uc_and_carers_allowance_together_are_both_respected():
    claims = [claim("CA"), claim("UC", ap_start_day=10, lcw_pending=True, joint_claim=False, work_allowance=False)]
    ledger = Ledger(payments=(pay("780.00", date(2025, 6, 10)),))  # AP 10 June - 9 July, CA week 9-15 June
    prop = ProposedPayment("cash", D("150.00"), date(2025, 6, 18))
    res = check(claims, RULES, ledger, [prop], [])
    assert res.suggestions
    for s in res.suggestions:
        assert not any(v.status == "over" for v in recheck(claims, ledger, s, prop).verdicts), s


def test_two_proposed_payments_each_get_suggestions_that_respect_the_other():
    props = [ProposedPayment("cash", D("100.00"), WED), ProposedPayment("cash", D("150.00"), WED)]
    res = check(CA, RULES, Ledger(), props, [])
    assert {s.replaces for s in res.suggestions} == {0, 1}
    for s in res.suggestions:
        others = [p for n, p in enumerate(props) if n != s.replaces]
        after = recheck(CA, Ledger(), s, props[s.replaces], others)
        assert not any(v.status == "over" for v in after.verdicts), s
        assert sum(p.amount for p in s.payments) == props[s.replaces].amount


# --- properties --------------------------------------------------------------------------------

SCENARIOS = [
    [claim("CA")],
    [claim("CSP")],
    [claim("ESA", permitted_work="higher")],
    [claim("ESA", permitted_work="lower")],
    [claim("ESA", permitted_work="supported"), claim("CA")],
    [claim("UC", ap_start_day=31, lcw_pending=True, joint_claim=False, work_allowance=True, housing_element=False)],
    [claim("UC", ap_start_day=13, work_allowance=False, lcw_pending=False, joint_claim=False), claim("CA")],
    [claim("JSA"), claim("HB", disregard="couple")],
    [claim("PC", disregard="higher"), claim("PIP")],
    [],
]
KINDS = ["cash", "bank_transfer", "voucher", "training", "charity"]
BASE = date(2025, 5, 1)


@st.composite
def situations(draw):
    claims = draw(st.sampled_from(SCENARIOS))
    payments = tuple(
        LedgerPayment(
            draw(st.sampled_from(KINDS + ["certificate"])),
            D(draw(st.integers(0, 30000))) / 100,
            BASE + timedelta(days=draw(st.integers(0, 120))),
            status=draw(st.sampled_from(["draft", "approved", "paid", "paid", "cancelled"])),
        )
        for _ in range(draw(st.integers(0, 8)))
    )
    income = tuple(
        LedgerIncome(D(draw(st.integers(0, 10000))) / 100, BASE + timedelta(days=draw(st.integers(0, 120))))
        for _ in range(draw(st.integers(0, 2)))
    )
    on = BASE + timedelta(days=draw(st.integers(10, 90)))
    # some payments close to the proposed date, so that periods fill up
    near = tuple(
        LedgerPayment(
            draw(st.sampled_from(KINDS)),
            D(draw(st.integers(0, 20000))) / 100,
            on + timedelta(days=draw(st.integers(-6, 6))),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    ledger = Ledger(payments=payments + near, other_income=income)
    pence = draw(st.one_of(st.integers(1, 30000), st.integers(1, 150000)))
    prop = ProposedPayment(draw(st.sampled_from(KINDS)), D(pence) / 100, on)
    prefs = draw(st.lists(st.sampled_from(KINDS + ["certificate", "declined"]), unique=True, max_size=4))
    if draw(st.booleans()) and prop.kind not in prefs:
        prefs = [prop.kind] + prefs
    today = draw(st.one_of(st.none(), st.integers(-5, 10).map(lambda k: on + timedelta(days=k))))
    return claims, ledger, prop, prefs, today


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(situations())
def test_every_suggestion_rechecks_clean_and_conserves_the_amount(situation):
    claims, ledger, prop, prefs, today = situation
    res = check(claims, RULES, ledger, [prop], prefs, today=today)
    if not any(v.status == "over" for v in res.verdicts):
        assert not res.suggestions
    allowed = set(prefs) if prefs else {prop.kind}
    earliest = max(prop.paid_on, today) if today else prop.paid_on
    for s in res.suggestions:
        assert s.kind in ("split", "defer", "switch_kind", "reduce")
        assert sum(p.amount for p in s.payments) == prop.amount
        assert all(p.amount > 0 and p.amount == p.amount.quantize(D("0.01")) for p in s.payments)
        assert all(p.paid_on >= earliest for p in s.payments)
        assert all(p.kind in allowed and p.kind not in ("declined", "certificate") for p in s.payments)
        if s.kind == "switch_kind":
            assert s.payments[0].kind != prop.kind
        after = recheck(claims, ledger, s, prop)
        assert not any(v.status == "over" for v in after.verdicts), (s, after.verdicts)
        assert s.explanation and "£" in s.explanation


@settings(max_examples=100, deadline=None)
@given(situations())
def test_adding_a_payment_never_lowers_a_total(situation):
    claims, ledger, prop, _prefs, _today = situation
    res = check(claims, RULES, ledger, [prop], [])
    for v in res.verdicts:
        assert v.total_after >= v.total_before
    before = {v.family: v.total for v in position(claims, RULES, ledger, prop.paid_on)}
    grown = Ledger(payments=ledger.payments + (prop.as_ledger_payment(),), other_income=ledger.other_income)
    for v in position(claims, RULES, grown, prop.paid_on):
        assert v.total >= before[v.family]


def test_explanation_quotes_the_limit_in_force_on_the_suggested_date():
    """A suggestion dated after an uprating must quote the new figure, not the old one."""
    from datetime import date
    from decimal import Decimal

    from tracker.engine import core as engine
    from tracker.engine import pack

    rules = pack.load_default_pack()
    claims = [engine.Claim("CA", date(2024, 1, 1))]
    ledger = engine.Ledger()
    proposed = [engine.ProposedPayment("cash", Decimal("250.00"), date(2025, 4, 9))]
    result = check(claims, rules, ledger, proposed, ["cash"], today=date(2026, 11, 26))
    reduce = [s for s in result.suggestions if s.kind == "reduce"]
    assert reduce, result.suggestions
    first = reduce[0].payments[0]
    assert first.paid_on >= date(2026, 11, 26)
    assert first.amount == Decimal("204.00")
    assert "£204.00" in reduce[0].explanation and "£196.00" not in reduce[0].explanation
