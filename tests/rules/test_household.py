"""Households (issue 11 item 5): a partner's earnings count only toward household rules.

UC joint claims (one work allowance, the taper on joint earnings), Housing Benefit and Pension
Credit for a couple count the partner's earnings; a person's own limits (CA, CSP, ESA, JSA) never do.
"""

from datetime import date
from decimal import Decimal as D

import pytest

from tracker.engine import core
from tracker.engine.core import Claim, Ledger, LedgerPartner, LedgerPayment, ProposedPayment
from tracker.engine.model import Counts, RemarkCode
from tracker.engine.pack import RuleError, load_default_pack, parse_rule, rule_to_dict
from tracker.rules import wording

RULES = load_default_pack()
UC = {"ap_start_day": 1, "work_allowance": True, "housing_element": False, "lcw_pending": False}
JUNE = date(2025, 6, 4)  # in the UC assessment period 1 to 30 June 2025; a Wednesday
PARTNER = (LedgerPartner(D("500.00"), date(2025, 6, 2)),)


def find(verdicts, family):
    [v] = [v for v in verdicts if v.family == family]
    return v


def at(claims, family, partner=PARTNER, payments=(), on=JUNE):
    ledger = Ledger(payments=tuple(payments), partner=tuple(partner))
    return find(wording.verdicts(core.position(claims, RULES, ledger, on)), family)


def test_a_joint_uc_claim_counts_the_partners_pay_toward_the_work_allowance_and_taper():
    mine = LedgerPayment("cash", D("300.00"), date(2025, 6, 10))
    v = at([Claim("UC", date(2024, 1, 1), None, {**UC, "joint_claim": True})], "UC_WA_NOHOUSING", payments=[mine])
    assert v.total_after == D("800.00")  # £300 of the person's + £500 of the partner's
    assert v.limit == D("684.00")
    assert v.estimated_reduction == D("63.80")  # 55p of each £1 of the £116 above the one allowance
    assert any("partner's earnings are included: £500.00" in n for n in v.notes)


def test_a_single_uc_claim_does_not_count_a_partners_pay():
    mine = LedgerPayment("cash", D("300.00"), date(2025, 6, 10))
    v = at([Claim("UC", date(2024, 1, 1), None, {**UC, "joint_claim": False})], "UC_WA_NOHOUSING", payments=[mine])
    assert v.total_after == D("300.00")
    assert not any("partner" in n for n in v.notes)
    assert all(r.code != RemarkCode.PARTNER for r in v.remarks)


def test_a_joint_uc_claim_without_a_work_allowance_tapers_joint_earnings():
    attrs = {"ap_start_day": 1, "work_allowance": False, "lcw_pending": False, "joint_claim": True}
    v = at([Claim("UC", date(2024, 1, 1), None, attrs)], "UC_NO_WA")
    assert v.total_after == D("500.00") and v.estimated_reduction == D("275.00")


def test_the_lcw_earnings_bar_is_the_persons_own():
    attrs = {**UC, "lcw_pending": True, "joint_claim": True}
    v = at([Claim("UC", date(2024, 1, 1), None, attrs)], "UC_LCW_BAR", partner=[LedgerPartner(D("900.00"), JUNE)])
    assert v.total_after == 0 and v.status == "ok"


@pytest.mark.parametrize(
    "benefit,attrs,family",
    [
        ("CA", {}, "CA_EARN"),
        ("CSP", {}, "CSP_EARN"),
        ("ESA", {"permitted_work": "lower"}, "ESA_PW_LOWER"),
        ("JSA", {}, "JSA_DISREGARD"),
    ],
)
def test_a_persons_own_limits_never_count_a_partners_pay(benefit, attrs, family):
    partner = [LedgerPartner(D("1000.00"), d) for d in (date(2025, 6, 1), JUNE, date(2025, 6, 8))]
    v = at([Claim(benefit, date(2024, 1, 1), None, attrs)], family, partner=partner)
    assert v.total_after == 0 and v.status == "ok"


def test_a_couples_housing_benefit_and_pension_credit_count_the_partners_pay():
    week = [LedgerPartner(D("9.50"), JUNE)]  # warns from 90% of the £10 couple disregard
    hb = at([Claim("HB", date(2024, 1, 1), None, {"disregard": "couple"})], "HB_DISREGARD_COUPLE", partner=week)
    pc = at([Claim("PC", date(2024, 1, 1), None, {"disregard": "couple"})], "PC_DISREGARD_COUPLE", partner=week)
    for v in (hb, pc):
        assert v.total_after == D("9.50") and v.status == "near"
        assert any("partner's earnings are included" in n for n in v.notes)
    single = at([Claim("HB", date(2024, 1, 1), None, {"disregard": "single"})], "HB_DISREGARD_SINGLE", partner=week)
    assert single.total_after == 0


def test_a_proposed_payment_is_checked_against_the_households_earnings():
    claims = [Claim("HB", date(2024, 1, 1), None, {"disregard": "couple"})]
    ledger = Ledger(partner=(LedgerPartner(D("9.00"), JUNE),))
    res = core.check(claims, RULES, ledger, [ProposedPayment("cash", D("5.00"), JUNE)])
    v = find(res.verdicts, "HB_DISREGARD_COUPLE")
    assert (v.total_before, v.total_after) == (D("9.00"), D("14.00"))
    assert v.estimated_reduction is None or v.total_after > v.limit


def test_the_pack_flags_exactly_the_household_families():
    counting = {r.family for r in RULES if r.counts.partner}
    assert counting == {"UC_WA_HOUSING", "UC_WA_NOHOUSING", "UC_NO_WA", "HB_DISREGARD_COUPLE", "PC_DISREGARD_COUPLE"}


def test_counts_partner_defaults_to_false_and_round_trips():
    assert Counts().partner is False
    rule = next(r for r in RULES if r.family == "UC_NO_WA")
    d = rule_to_dict(rule)
    assert d["counts"]["partner"] is True
    assert parse_rule(d).counts.partner is True
    d["counts"] = {**d["counts"], "partner": False}
    assert parse_rule(d).counts.partner is False


def test_a_persons_own_limit_may_not_count_a_partner():
    d = rule_to_dict(next(r for r in RULES if r.family == "CA_EARN"))
    d["counts"] = {**d["counts"], "partner": True}
    with pytest.raises(RuleError) as e:
        parse_rule(d)
    assert "counts.partner" in e.value.fields
    d["counts"]["partner"] = "yes"
    with pytest.raises(RuleError):
        parse_rule(d)


def test_the_ledger_refuses_anything_else_as_partner_earnings():
    with pytest.raises(TypeError):
        Ledger(partner=(LedgerPayment("cash", D("1.00"), JUNE),))
    with pytest.raises(TypeError):
        Ledger(other_income=PARTNER)  # never the person's own income
    with pytest.raises(TypeError):
        Ledger(partner=(core.LedgerIncome(D("1.00"), JUNE),))
    with pytest.raises((TypeError, ValueError)):
        LedgerPartner(1.5, JUNE)  # type: ignore[arg-type]
