"""The rule pack: the default pack loads and is sound; parse_rule explains every mistake."""

import copy
from datetime import date
from decimal import Decimal as D

import pytest
import yaml

from tracker.engine.core import Rule
from tracker.engine.pack import RuleError, default_pack_path, load_default_pack, load_pack, parse_rule, rule_to_dict
from tracker.vocab import BENEFITS

RULES = load_default_pack()


def good(**changes):
    d = {
        "code": "CA_EARN_2099",
        "family": "CA_EARN",
        "benefit": "CA",
        "title": "Carer's Allowance earnings limit",
        "measure": "earnings",
        "kind": "cliff",
        "limit": "196.00",
        "period": "week",
        "week_start": "monday",
        "counts": {
            "kinds": ["cash", "voucher"],
            "training_at_value": False,
            "expenses": "unless_service_user",
            "other_income": True,
        },
        "warn_at": "0.9",
        "severity": "block",
        "effective_from": "2099-04-06",
        "confidence": "confirmed",
        "source": "https://example.org/ca",
        "sources": [{"title": "Example", "url": "https://example.org/ca"}],
    }
    d.update(changes)
    return {k: v for k, v in d.items() if v is not ...}


def errors_of(d):
    with pytest.raises(RuleError) as exc:
        parse_rule(d)
    return exc.value.fields


# --- the default pack --------------------------------------------------------------------------


def test_default_pack_loads():
    assert default_pack_path().name == "uk-default.yaml" and default_pack_path().is_file()
    assert len(RULES) >= 30
    assert all(isinstance(r, Rule) for r in RULES)
    assert load_pack(default_pack_path()) == RULES
    assert load_pack(str(default_pack_path())) == RULES
    assert load_pack(default_pack_path().read_text()) == RULES


def test_every_rule_has_a_source_and_a_confidence():
    for r in RULES:
        assert r.source.startswith(("http://", "https://")), r.code
        assert r.sources and all(s.url.startswith(("http://", "https://")) and s.title for s in r.sources), r.code
        assert r.confidence in ("confirmed", "secondary", "derived", "unconfirmed"), r.code
        assert r.benefit in BENEFITS


def test_no_unconfirmed_rule_blocks_and_no_taper_or_info_rule_blocks():
    for r in RULES:
        if r.confidence == "unconfirmed" or r.kind in ("taper", "info"):
            assert r.severity == "warn", r.code
        assert r.effective_severity in ("warn", "block")


def test_cliff_edges_block_when_confirmed_secondary_or_derived():
    """Issue 11: a derived or secondary figure still blocks a cliff edge (ESA permitted work in
    2026/27, the UC LCW earnings level); only an unconfirmed figure is held back to a warning."""
    for r in RULES:
        if r.benefit in ("UC", "ESA", "CA", "CSP", "JSA") and r.kind == "cliff":
            expected = "warn" if r.confidence == "unconfirmed" else "block"
            assert r.severity == expected == r.effective_severity, r.code


UC_REG_55 = "https://www.legislation.gov.uk/uksi/2013/376/regulation/55"
DWP_VOUCHERS = "https://www.gov.scot/publications/guidance-paying-participant-expenses-compensating-time/pages/12/"


def test_figures_from_the_reference():
    by = {r.code: r for r in RULES}
    expected = {
        "UC_WA_HOUSING_2024": "404.00",
        "UC_WA_HOUSING_2025": "411.00",
        "UC_WA_HOUSING_2026": "427.00",
        "UC_WA_NOHOUSING_2024": "673.00",
        "UC_WA_NOHOUSING_2025": "684.00",
        "UC_WA_NOHOUSING_2026": "710.00",
        "UC_LCW_BAR_2024": "793.18",  # 16 x £11.44 x 52 / 12 = £793.1733...: £793.17 is below it
        "UC_LCW_BAR_2025": "846.56",
        "UC_LCW_BAR_2026": "881.23",
        "ESA_PW_LOWER": "20.00",
        "ESA_PW_HIGHER_2024": "183.50",
        "ESA_PW_HIGHER_2025": "195.50",
        "ESA_PW_HIGHER_2026": "203.50",
        "ESA_PW_HOURS": "16.00",
        "CA_EARN_2024": "151.00",
        "CA_EARN_2025": "196.00",
        "CA_EARN_2026": "204.00",
        "CSP_EARN_2024": "151.00",
        "CSP_EARN_2025": "196.00",
        "CSP_EARN_2026": "204.00",
        "JSA_DISREGARD": "5.00",
        "JSA_HOURS": "16.00",
        "HB_DISREGARD_SINGLE": "5.00",
        "HB_DISREGARD_COUPLE": "10.00",
        "HB_DISREGARD_HIGHER": "20.00",
        "HB_DISREGARD_LONE_PARENT": "25.00",
        "PC_DISREGARD_SINGLE": "5.00",
        "PC_DISREGARD_COUPLE": "10.00",
        "PC_DISREGARD_HIGHER": "20.00",
        "TAX_TRADING_ALLOWANCE": "1000.00",
    }
    for code, limit in expected.items():
        assert by[code].limit == D(limit), code
    assert by["UC_WA_HOUSING_2025"].taper_rate == D("0.55")
    assert by["UC_NO_WA"].taper_rate == D("0.55") and by["UC_NO_WA"].limit == 0
    assert by["JSA_DISREGARD"].taper_rate == 1
    assert by["CA_EARN_2025"].effective_from == date(2025, 4, 7)
    assert by["CSP_EARN_2025"].effective_from == date(2025, 4, 6) and by["CSP_EARN_2025"].week_start == "sunday"
    assert by["UC_WA_HOUSING_2026"].effective_from == date(2026, 4, 13)
    assert by["ESA_PW_HIGHER_2026"].confidence == "derived" and by["ESA_PW_HIGHER_2026"].severity == "block"
    assert by["UC_SURPLUS_2026"].confidence == "unconfirmed"
    tax = by["TAX_TRADING_ALLOWANCE"]
    assert tax.counts.training_at_value and "voucher" in tax.counts.kinds and tax.counts.expenses == "never"
    assert tax.period == "tax_year" and tax.severity == "warn" and tax.breach == "above"
    for r in RULES:
        assert "certificate" not in r.counts.kinds and "declined" not in r.counts.kinds
        if r.benefit == "UC":  # issue 11 item 8: the DWP guidance, cited on the rule
            assert r.counts.kinds == {"cash", "bank_transfer", "charity"} and r.counts.expenses == "never", r.code
            assert {s.url for s in r.sources} >= {UC_REG_55, DWP_VOUCHERS}, r.code
            assert not r.counts.training_at_value
        elif r.benefit != "TAX":
            assert not r.counts.training_at_value and "training" not in r.counts.kinds
            assert r.counts.expenses == "unless_service_user"
            assert {"cash", "bank_transfer", "voucher", "charity"} <= r.counts.kinds


def test_families_do_not_overlap():
    by_family = {}
    for r in RULES:
        by_family.setdefault(r.family, []).append(r)
    for versions in by_family.values():
        versions.sort(key=lambda r: r.effective_from)
        for a, b in zip(versions, versions[1:]):
            assert a.effective_to is not None and (b.effective_from - a.effective_to).days == 1, (a.code, b.code)


def test_round_trip_through_rule_to_dict():
    for r in RULES:
        d = rule_to_dict(r)
        assert parse_rule(d) == r
        # and through YAML text, as an admin export would
        assert parse_rule(yaml.safe_load(yaml.safe_dump(d))) == r
    assert load_pack(yaml.safe_dump({"rules": [rule_to_dict(r) for r in RULES]})) == RULES


def test_rule_to_dict_is_plain_data():
    d = rule_to_dict(next(r for r in RULES if r.code == "CA_EARN_2025"))
    assert d["limit"] == "196.00" and d["warn_at"] == "0.9" and d["effective_from"] == "2025-04-07"
    assert d["effective_to"] == "2026-04-05" and d["counts"]["kinds"] == ["cash", "bank_transfer", "voucher", "charity"]
    import json

    json.dumps(d)


# --- parse_rule errors -------------------------------------------------------------------------


def test_good_rule_parses():
    r = parse_rule(good())
    assert r.limit == D("196.00") and r.effective_from == date(2099, 4, 6) and r.family == "CA_EARN"
    assert r.applies_when.benefit == "CA"


def test_yaml_float_limit_is_rejected_with_a_clear_message():
    text = """
- code: CA_EARN_2099
  benefit: CA
  title: Carer's Allowance earnings limit
  measure: earnings
  kind: cliff
  limit: 196.00
  effective_from: 2099-04-06
  confidence: confirmed
  source: https://example.org/ca
"""
    with pytest.raises(RuleError) as exc:
        load_pack(text)
    ((key, messages),) = exc.value.fields.items()
    assert key == "rules[0] (CA_EARN_2099).limit"
    assert "quotes" in messages[0] and "float" in messages[0]
    assert "limit" in errors_of(good(limit=196.0))
    assert "warn_at" in errors_of(good(warn_at=0.9))


@pytest.mark.parametrize(
    "changes,field,fragment",
    [
        ({"colour": "red"}, "colour", "Unknown field"),
        ({"code": ...}, "code", "required"),
        ({"code": "ca earn"}, "code", "capital letters"),
        ({"benefit": "XYZ"}, "benefit", "Unknown value"),
        ({"measure": "pounds"}, "measure", "Unknown value"),
        ({"kind": "wall"}, "kind", "Unknown value"),
        ({"limit": "196.001"}, "limit", "2 decimal places"),
        ({"limit": "-1.00"}, "limit", "negative"),
        ({"limit": "lots"}, "limit", "not a number"),
        ({"limit": ...}, "limit", "needs a limit"),
        ({"limit": True}, "limit", "not true or false"),
        ({"period": "fortnight"}, "period", "Unknown period"),
        ({"period": "rolling_weeks:0"}, "period", "from 1 to 52"),
        ({"week_start": "someday"}, "week_start", "Unknown week start"),
        ({"counts": {"kinds": ["cash", "gold"]}}, "counts.kinds", "Unknown payment kind"),
        ({"counts": {"kinds": "cash"}}, "counts.kinds", "list"),
        ({"counts": {"expenses": "sometimes"}}, "counts.expenses", "Unknown value"),
        ({"counts": {"colour": 1}}, "counts.colour", "Unknown field"),
        ({"counts": {"other_income": "yes"}}, "counts.other_income", "true or false"),
        ({"warn_at": "0"}, "warn_at", "more than 0"),
        ({"warn_at": "1.5"}, "warn_at", "at most 1"),
        ({"severity": "panic"}, "severity", "Unknown value"),
        ({"confidence": "unconfirmed"}, "severity", "unconfirmed"),
        ({"kind": "taper", "severity": "block"}, "severity", "never blocks"),
        ({"taper_rate": "0.55"}, "taper_rate", "Only a taper rule"),
        ({"kind": "taper", "severity": "warn", "taper_rate": "1.5"}, "taper_rate", "at most 1"),
        ({"effective_from": "2099-13-01"}, "effective_from", "not a date"),
        ({"effective_to": "2099-04-05"}, "effective_to", "before effective_from"),
        ({"effective_from": ...}, "effective_from", "required"),
        ({"source": ...}, "source", "required"),
        ({"source": "carers uk"}, "source", "http"),
        ({"sources": [{"title": "x"}]}, "sources", "url"),
        ({"applies_when": {"benefit": "NOPE"}}, "applies_when.benefit", "Unknown benefit"),
        ({"applies_when": {"benefit": "CA", "attributes": {"x": 1.5}}}, "applies_when.attributes", "must be"),
        ({"measure": "hours", "kind": "taper", "severity": "warn"}, "kind", "hours rule"),
        ({"breach": "below"}, "breach", "Unknown value"),
        ({"date_basis": "paid"}, "date_basis", "Unknown value"),
    ],
)
def test_parse_rule_errors(changes, field, fragment):
    fields = errors_of(good(**changes))
    assert field in fields, fields
    assert any(fragment in m for m in fields[field]), fields[field]


def test_several_errors_are_reported_together():
    fields = errors_of(good(limit="-1", period="fortnight", benefit="XYZ"))
    assert {"limit", "period", "benefit"} <= set(fields)
    assert "limit" in str(RuleError(fields))


def test_info_rule_needs_no_limit_and_tax_must_apply_to_everyone():
    r = parse_rule(good(kind="info", limit=..., severity="warn", period="none"))
    assert r.limit is None
    assert "applies_when.benefit" in errors_of(good(benefit="TAX", applies_when={"benefit": "CA"}))


def test_pack_level_checks():
    a = good()
    b = good(code="CA_EARN_2100", effective_from="2100-01-01")
    with pytest.raises(RuleError) as exc:
        load_pack(yaml.safe_dump({"rules": [a, b]}))
    assert any("both in force" in m for ms in exc.value.fields.values() for m in ms)
    with pytest.raises(RuleError) as exc:
        load_pack(yaml.safe_dump([a, copy.deepcopy(a)]))  # a shallow copy would be dumped as an alias
    assert any("also used" in m for ms in exc.value.fields.values() for m in ms)
    a_closed = good(effective_to="2099-12-31")
    assert len(load_pack(yaml.safe_dump([a_closed, b]))) == 2
    with pytest.raises(RuleError):
        load_pack("rules: 3")
    with pytest.raises(RuleError):
        load_pack("rules: [: bad")
    with pytest.raises(RuleError):
        parse_rule(["not", "a", "mapping"])


def test_a_pack_may_not_use_anchors_aliases_or_merge_keys_or_be_over_a_megabyte():
    from tracker.engine import pack

    for text in ("x: &a 1\ny: *a\n", "rules:\n  - <<: {code: X}\n", "rules: []\n#" + "x" * pack.MAX_PACK_BYTES):
        with pytest.raises(pack.RuleError) as caught:
            pack.parse_pack(text)
        assert "anchors" in str(caught.value.fields) or "at most" in str(caught.value.fields)
    assert pack.load_default_pack()  # the shipped pack uses none
