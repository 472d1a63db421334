"""The presenter: the engine returns codes and figures, tracker.rules.wording puts them into words."""

from datetime import date
from decimal import Decimal as D

import pytest

from tracker.engine import core, model, planner
from tracker.engine.pack import load_default_pack
from tracker.rules import wording

RULES = load_default_pack()
CA = [core.Claim("CA", date(2024, 1, 1))]
ON = date(2025, 4, 9)


def over_check(before: str):
    ledger = core.Ledger(payments=(core.LedgerPayment("cash", D(before), ON),))
    return core.check(CA, RULES, ledger, [core.ProposedPayment("cash", D("150.00"), ON)], ["cash", "training"])


def test_the_engine_gives_codes_and_the_presenter_words():
    already = over_check("200.00")
    ca = next(v for v in already.verdicts if v.benefit == "CA")
    assert ca.status == "over" and not ca.notes
    assert model.RemarkCode.ALREADY_OVER in {r.code for r in ca.remarks}
    ca = next(v for v in wording.check_result(already).verdicts if v.benefit == "CA")
    assert wording.NOTE_ALREADY_OVER in ca.notes

    result = over_check("100.00")
    assert result.suggestions and all(not s.explanation and s.basis for s in result.suggestions)
    worded = wording.check_result(result)
    assert all(s.explanation.startswith(("Pay ", "Give ")) for s in worded.suggestions)
    # the figures are untouched
    assert [s.payments for s in worded.suggestions] == [s.payments for s in result.suggestions]
    assert worded.to_dict()["verdicts"][0]["total_after"] == result.to_dict()["verdicts"][0]["total_after"]


@pytest.mark.parametrize(
    "remark,words",
    [
        (model.Remark(model.RemarkCode.UNCONFIRMED), wording.NOTE_UNCONFIRMED),
        (model.Remark(model.RemarkCode.DERIVED), wording.NOTE_DERIVED),
        (model.Remark(model.RemarkCode.ALREADY_OVER), wording.NOTE_ALREADY_OVER),
        (model.Remark(model.RemarkCode.RULE_MESSAGE, text="Report any change."), "Report any change."),
        (
            model.Remark(
                model.RemarkCode.TAPER_ESTIMATE,
                amount=D("14.58"),
                limit=D("684.00"),
                rate=D("0.55"),
                benefit="UC",
                period="uc_assessment_period",
            ),
            "About £14.58 less Universal Credit for this assessment period: 55p for each £1 above £684.00.",
        ),
        (
            model.Remark(model.RemarkCode.TAPER_UNKNOWN, limit=D("20.00"), benefit="HB", period="week"),
            "Earnings above £20.00 a week count as income and can reduce Housing Benefit; how much depends on the "
            "person's other circumstances.",
        ),
        (
            model.Remark(model.RemarkCode.EXPENSES, amount=D("15.00"), period="rolling_weeks:4"),
            "£15.00 of expenses in this 4-week period is counted because it is not marked as arising from "
            "service-user involvement (check easement: receipted expenses are ignored when the person took part as "
            "a service user).",
        ),
        (
            model.Remark(model.RemarkCode.PARTNER, amount=D("300.00"), period="uc_assessment_period"),
            "The partner's earnings are included: £300.00 in this assessment period (the household's earnings "
            "count for this benefit, not only the person's own).",
        ),
    ],
)
def test_every_remark_has_words(remark, words):
    assert wording.remark_text(remark) == words


def test_every_remark_code_is_worded():
    codes = set(model.RemarkCode)
    assert len(codes) == 14  # every code the engine can give (a new one needs words here and in wording)
    for code in codes:
        text = wording.remark_text(
            model.Remark(
                code,
                amount=D("1"),
                limit=D("2"),
                rate=D("1"),
                benefit="UC",
                period="week",
                text="work_allowance",
                day=date(2027, 4, 1),
            )
        )
        assert text and "{" not in text


def test_a_plan_is_worded_and_keeps_its_payments():
    sessions = [planner.Session(ON, D("150.00"))]
    plain = planner.plan(CA, RULES, core.Ledger(), sessions, ["cash"], ON)
    assert plain.outcome == planner.OUTCOME_CLEAN and not plain.message
    assert all(not p.title and not p.explanation and p.story.sessions for p in plain.proposals)
    worded = wording.plan(plain)
    assert worded.message == "One way to pay £150.00 that keeps every benefit rule within its limit."
    [proposal] = worded.proposals
    assert proposal.payments == plain.proposals[0].payments
    assert proposal.title == "Pay each session on the day"
    assert proposal.explanation == (
        "For the session on 9 April 2025 (£150.00): pay £150.00 in cash on 9 April 2025. "
        "With this plan no benefit rule goes over its limit."
    )


def test_period_nouns():
    assert [
        wording.period_noun(p)
        for p in (
            "week",
            "uc_assessment_period",
            "calendar_month",
            "tax_year",
            "rolling_weeks:5",
            "rolling_days:28",
            "per_payment",
            "none",
        )
    ] == ["week", "assessment period", "month", "tax year", "5-week period", "28-day period", "payment", "day"]
