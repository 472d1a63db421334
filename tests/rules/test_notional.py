"""Notional earnings in the engine (issue 11 item 4): money offered and declined, reduced, given to a
charity, or replaced by training or a certificate counts where no exemption is established."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from tracker.engine import core, notional, planner
from tracker.engine.core import Claim, Counts, Ledger, LedgerPayment, ProposedPayment, Rule
from tracker.engine.model import RemarkCode
from tracker.engine.pack import load_default_pack
from tracker.rules import wording

RULES = load_default_pack()
WED = date(2026, 11, 4)  # a Wednesday: CA's week is 2 to 8 November 2026, limit £204
CA = [Claim("CA", date(2020, 1, 1))]
UC = [Claim("UC", date(2025, 1, 10), None, {"work_allowance": True, "housing_element": False, "lcw_pending": True})]
UC_DAY = date(2026, 11, 12)


def verdict(claims, proposed, family, payer="public_body", ledger=()):
    result = core.check(claims, RULES, Ledger(payments=tuple(ledger), payer=payer), proposed, today=date(2026, 11, 1))
    found = [v for v in result.verdicts if v.family == family]
    assert len(found) == 1, [v.family for v in result.verdicts]
    return found[0]


def declined(offered="250.00", context="unknown", on=WED, kind="declined"):
    return ProposedPayment(kind, D("0.00"), on, offered=D(offered), service_user_context=context)


@pytest.mark.parametrize("context", ["no", "unknown"])
def test_a_decline_counts_the_amount_offered_without_the_service_user_exemption(context):
    v = verdict(CA, [declined(context=context)], "CA_EARN")
    assert (v.measure, v.status, v.total_after) == ("notional_earnings", "over", D("250.00"))
    assert (v.notional_counted, v.notional_exempt, v.exemptions) == (D("250.00"), 0, ())
    assert v.exemptions_considered == ("service_user",)
    assert v.notional_source.startswith("https://www.legislation.gov.uk/uksi/1996/2745")
    remark = [r for r in v.remarks if r.code == RemarkCode.NOTIONAL_COUNTED][0]
    assert remark.text == f"service_user_{context}" and remark.amount == D("250.00")


def test_a_decline_as_a_service_user_is_exempt_and_says_which_exemption():
    v = verdict(CA, [declined(context="yes")], "CA_EARN", payer="company")
    assert (v.measure, v.status, v.total_after) == ("earnings", "ok", D("0.00"))
    assert (v.notional_counted, v.notional_exempt, v.exemptions) == (0, D("250.00"), ("service_user",))
    assert [r.text for r in v.remarks if r.code == RemarkCode.NOTIONAL_EXEMPT] == ["service_user"]
    words = wording.verdict(v).notes
    assert any("does not count for Carer's Allowance: the person took part as a service user" in n for n in words)


def test_a_charity_payer_is_exempt_for_uc_only():
    uc = verdict(UC, [declined("900.00", "no", UC_DAY)], "UC_LCW_BAR", payer="charity")
    assert (uc.status, uc.total_after, uc.exemptions) == ("ok", D("0.00"), ("charity",))
    assert uc.exemptions_considered == ("service_user", "charity")
    ca = verdict(CA, [declined(context="no")], "CA_EARN", payer="charity")
    assert (ca.measure, ca.status, ca.exemptions) == ("notional_earnings", "over", ())


@pytest.mark.parametrize("payer", ["company", "public_body", None])
def test_a_company_or_public_body_or_unstated_payer_gets_no_uc_exemption(payer):
    v = verdict(UC, [declined("900.00", "unknown", UC_DAY)], "UC_LCW_BAR", payer=payer)
    assert (v.measure, v.status, v.total_after) == ("notional_earnings", "over", D("900.00"))
    remark = [r for r in v.remarks if r.code == RemarkCode.NOTIONAL_COUNTED][0]
    assert remark.text == f"payer_{payer or 'unknown'},service_user_unknown"
    note = wording.remark_text(remark)
    assert "nobody has recorded whether the work is service-user involvement" in note
    assert ("has not said whether it is a charity" in note) == (payer is None)


def test_training_instead_of_money_counts_the_money_offered():
    training = ProposedPayment(
        "training", D("150.00"), WED, benefit_value=D("150.00"), offered=D("250.00"), service_user_context="no"
    )
    v = verdict(CA, [training], "CA_EARN")
    assert (v.measure, v.total_after, v.notional_counted) == ("notional_earnings", D("250.00"), D("250.00"))
    # a rule that counts training at its value counts the value and the rest of the offer, not both in full
    rule = Rule(
        code="T",
        benefit="CA",
        title="test",
        limit=D("204.00"),
        counts=Counts(training_at_value=True),
        effective_from=date(2020, 1, 1),
        confidence="confirmed",
    )
    result = core.check(CA, [rule], Ledger(payer="company"), [training])
    assert result.verdicts[0].total_after == D("250.00") and result.verdicts[0].notional_counted == D("100.00")


def test_a_certificate_instead_of_money_counts_the_money_offered():
    v = verdict(CA, [declined(kind="certificate", context="no")], "CA_EARN")
    assert (v.measure, v.status, v.total_after) == ("notional_earnings", "over", D("250.00"))


def test_a_reduced_payment_or_a_part_to_charity_counts_what_was_not_taken():
    reduced = ProposedPayment("cash", D("100.00"), WED, offered=D("250.00"))
    v = verdict(CA, [reduced], "CA_EARN")
    assert (v.total_after, v.notional_counted) == (D("250.00"), D("150.00"))
    to_charity = ProposedPayment("charity", D("100.00"), WED, offered=D("250.00"))
    assert verdict(CA, [to_charity], "CA_EARN").total_after == D("250.00")
    whole = ProposedPayment("cash", D("100.00"), WED, offered=D("100.00"))
    v = verdict(CA, [whole], "CA_EARN")
    assert (v.measure, v.total_after, v.notional_counted) == ("earnings", D("100.00"), 0)


def test_a_decline_with_no_amount_offered_is_not_judged():
    v = verdict(CA, [ProposedPayment("declined", D("0.00"), WED)], "CA_EARN")
    assert (v.measure, v.total_after, v.notional_counted, v.notional_exempt) == ("earnings", 0, 0, 0)


def test_a_recorded_decline_counts_in_the_ledger_and_a_reversal_nets_it_out():
    old = LedgerPayment("declined", D("0.00"), date(2026, 11, 3), offered=D("150.00"), service_user_context="no")
    v = verdict(CA, [ProposedPayment("cash", D("100.00"), WED)], "CA_EARN", ledger=[old])
    assert (v.total_before, v.total_after, v.measure) == (D("150.00"), D("250.00"), "notional_earnings")
    back = LedgerPayment("declined", D("0.00"), date(2026, 11, 3), offered=D("-150.00"), service_user_context="no")
    v = verdict(CA, [ProposedPayment("cash", D("100.00"), WED)], "CA_EARN", ledger=[old, back])
    assert (v.total_after, v.measure) == (D("100.00"), "earnings")
    on = core.position(CA, RULES, Ledger(payments=(old,), payer="company"), WED)
    assert [v.total_after for v in on if v.family == "CA_EARN"] == [D("150.00")]


def test_hours_and_benefits_without_notional_earnings_are_unchanged():
    pc = [Claim("PC", date(2020, 1, 1), None, {"disregard": "single"})]
    result = core.check(pc, RULES, Ledger(payer="company"), [declined(context="no")])
    assert all(v.notional_counted == 0 and v.notional_exempt == 0 for v in result.verdicts)
    assert notional.basis(next(r for r in RULES if r.measure == "hours")) is None


def test_the_inputs_are_checked():
    with pytest.raises(ValueError, match="payer"):
        Ledger(payer="business")
    with pytest.raises(TypeError):
        ProposedPayment("declined", D("0.00"), WED, offered=250.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="service_user_context"):
        LedgerPayment("declined", D("0.00"), WED, offered=D("1.00"), service_user_context="maybe")


# ---- the planner --------------------------------------------------------------------------------


def _plan(amount, context="unknown", payer="public_body", claims=CA):
    sessions = [planner.Session(WED, D(amount), service_user_context=context)]
    return wording.plan(planner.plan(claims, RULES, Ledger(payer=payer), sessions, ["declined"], WED))


def test_the_planner_no_longer_says_nothing_counts_for_a_decline_without_an_exemption():
    result = _plan("100.00")
    proposal = result.proposals[0]
    assert proposal.key == "no_money" and result.clean  # £100 offered is within the £204 limit
    assert "nothing counts" not in proposal.explanation
    assert (
        "DWP may still treat the money offered as earnings for Carer's Allowance (notional earnings), unless the "
        "service-user exemption applies" in proposal.explanation
    )
    over = _plan("250.00")
    assert not over.clean
    assert "DWP may treat the money offered as earnings (notional earnings)" in over.message
    assert "adds nothing" not in over.message


def test_the_planner_says_which_exemption_keeps_a_decline_out():
    result = _plan("250.00", context="yes")
    assert result.clean
    assert "The money offered does not count for Carer's Allowance: the person took part as a service user." in (
        result.proposals[0].explanation
    )


def test_the_planner_still_says_nothing_counts_where_no_benefit_has_notional_earnings():
    pc = [Claim("PC", date(2020, 1, 1), None, {"disregard": "single"})]
    assert "so nothing counts towards" in _plan("100.00", claims=pc).proposals[0].explanation


def test_no_suggestion_moves_money_away_from_an_offer_that_still_counts():
    """Splitting, deferring or switching the £100 taken would leave the £150 not taken where it is:
    a payment with an offer above it gets no suggestions (each would be re-checked without it)."""
    reduced = ProposedPayment("cash", D("100.00"), WED, offered=D("250.00"))
    result = core.check(CA, RULES, Ledger(payer="company"), [reduced], ["cash", "voucher"], today=date(2026, 11, 1))
    assert result.blocked and result.suggestions == ()
    plain = ProposedPayment("cash", D("250.00"), WED)
    assert core.check(
        CA, RULES, Ledger(payer="company"), [plain], ["cash", "voucher"], today=date(2026, 11, 1)
    ).suggestions
