"""The rule and risk pages' presenters (plain functions, no app needed) and pages.parse_id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tracker import vocab
from tracker.pages import parse_id
from tracker.risks import presenters as risk_words
from tracker.rules import presenters as rule_words


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12", 12),
        (" 7 ", 7),
        (3, 3),
        (None, None),
        ("", None),
        ("0", None),
        ("-1", None),
        ("1.5", None),
        ("abc", None),
        (str(vocab.MAX_ID), vocab.MAX_ID),
        (str(vocab.MAX_ID + 1), None),
        ("1" * 20, None),
    ],
)
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected


FORM_FIELDS = (
    "csrf_token",
    "revision",
    "title",
    "limit",
    "warn_at",
    "effective_from",
    "effective_to",
    "counts_kinds",
    "source",
)


def test_rule_messages_are_renamed_and_reworded_for_the_edit_form():
    out = rule_words.form_errors(
        FORM_FIELDS,
        {
            "counts.kinds": ["Unknown payment kind."],
            "warn_at": ["warn_at must be more than 0.", "warn_at must be at most 1."],
            "title": ["This field is required."],
            "kind": ["An information rule cannot block."],
            "measure": ["An information rule cannot block."],
            "revision": ["Stale."],
            "rule": ["Nothing was changed."],
        },
    )
    assert out["counts_kinds"] == ["Unknown payment kind."]
    assert out["warn_at"] == [rule_words.WARN_AT_MESSAGE]  # said once, for the percentage box
    assert out["title"] == ["Enter a title."]
    # fields not on the form go to the summary, led by their label (not "rule" or a hidden field)
    assert out[""] == [
        "Kind of rule: An information rule cannot block.",
        "What it adds up: An information rule cannot block.",
        "Stale.",
        "Nothing was changed.",
    ]


def test_rule_values_in_words():
    assert rule_words.value_text("limit", "196.00") == "196.00"
    assert rule_words.value_text("notes", "") == "(none)"
    assert rule_words.value_text("counts.other_income", True) == "Yes"
    assert rule_words.value_text("warn_at", "0.9") == "90%"
    assert rule_words.value_text("effective_from", "2025-04-07") == "7 April 2025"
    assert rule_words.value_text("effective_from", "2025-02-30") == "2025-02-30"
    assert rule_words.value_text("severity", "block") == "Block"
    assert rule_words.value_text("benefit", "TAX") == vocab.benefit_name("TAX")
    assert rule_words.value_text("sources", [{"title": "Act", "url": "https://x"}]) == "Act (https://x)"
    assert rule_words.value_text("family", ["A", "B"]) == "A, B"


def test_the_one_benefit_name_is_used_by_both_areas():
    assert rule_words.benefit_name("TAX") == risk_words.benefit_name("TAX") == "Income tax (trading allowance)"


def test_risk_figures_in_words():
    assert risk_words.headroom_text("earnings", None) == "No limit"
    assert risk_words.headroom_text("earnings", Decimal("-5.5")) == "None: £5.50 over"
    assert risk_words.headroom_text("hours", Decimal(1)) == "1 hour"
    assert risk_words.percent_text(Decimal("-0.125")) == "13% over the limit"
    assert risk_words.status_word("near") == vocab.VERDICT_STATUS_WORDS["near"]


def test_the_plan_message_names_each_payment():
    one = risk_words.plan_recorded("Sam", [(Decimal("46.00"), "voucher", date(2025, 6, 11))])
    assert one.startswith("Recorded 1 draft payment for Sam from the plan: £46.00 vouchers on 11 June 2025.")
    assert "approve it before it is paid" in one
    two = risk_words.plan_recorded(
        "Sam", [(Decimal(1), "cash", date(2025, 6, 11)), (Decimal(2), "bank_transfer", date(2025, 6, 16))]
    )
    assert "2 draft payments" in two and "£2.00 bank transfer on 16 June 2025" in two and "they are paid" in two
