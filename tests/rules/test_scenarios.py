"""Scenarios an adviser can write: every shipped scenario file runs against the shipped pack, the
runner tells a wrong expectation from a right one, and ``flask rules test FILE`` reports PASS/FAIL."""

from pathlib import Path

import pytest

from tracker.engine.pack import load_default_pack
from tracker.rules import scenarios

HERE = Path(__file__).resolve().parent / "scenarios"
FILES = sorted(HERE.glob("*.yaml"))
RULES = load_default_pack()

ONE = """
scenarios:
  - name: CA a penny over
    source: https://carersuk.org/
    today: 2026-11-02
    claims: [{benefit: CA, start_on: 2024-01-01}]
    proposed: [{amount: "AMOUNT", kind: cash, paid_on: 2026-11-04}]
    expect: [{family: CA_EARN, status: over, total_after: "204.01", limit: "204.00"}]
    blocked: true
"""


def test_at_least_sixty_scenarios_each_with_a_source():
    cases = [s for f in FILES for s in scenarios.parse(f)]
    assert len(cases) >= 60
    assert all(s.source.startswith(("http://", "https://")) for s in cases)
    assert len({s.name for s in cases}) == len(cases)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_scenario_holds_against_the_shipped_pack(path):
    outcomes = scenarios.run(scenarios.parse(path), RULES)
    failed = [line for line in scenarios.report_lines(o for o in outcomes if o.label == "FAIL")]
    assert not failed, "\n".join(failed)


def test_a_known_defect_still_fails_so_its_marker_is_removed_once_fixed():
    # The shipped files may have no known defect left (each is fixed in turn): the marker's meaning
    # is checked on a scenario made to fail, and every shipped one must still fail.
    outcomes = [o for f in FILES for o in scenarios.run(scenarios.parse(f), RULES) if o.scenario.known_defect]
    fixed = [o.scenario.name for o in outcomes if o.passed]
    assert not fixed, f"fixed now: remove known_defect from {fixed}"
    marked = ONE.replace("AMOUNT", "204.00").replace("    today:", '    known_defect: "made to fail"\n    today:')
    (known,) = scenarios.run(scenarios.parse(marked), RULES)
    assert known.label == "KNOWN" and not known.passed
    assert "(known defect: made to fail)" in scenarios.report_lines([known])[0]


def test_the_runner_fails_a_wrong_expectation_and_says_what_differs():
    (right,) = scenarios.run(scenarios.parse(ONE.replace("AMOUNT", "204.01")), RULES)
    (wrong,) = scenarios.run(scenarios.parse(ONE.replace("AMOUNT", "204.00")), RULES)
    assert right.label == "PASS"
    assert wrong.label == "FAIL"
    assert "family CA_EARN: status near (expected over), total_after 204.00 (expected 204.01)" in wrong.differences
    assert "blocked false (expected true)" in wrong.differences


def test_an_absent_expectation_fails_when_the_rule_gave_a_verdict():
    text = ONE.replace("AMOUNT", "204.01").replace(
        'status: over, total_after: "204.01", limit: "204.00"', "absent: true"
    )
    (outcome,) = scenarios.run(scenarios.parse(text), RULES)
    assert outcome.differences == ("family CA_EARN: expected no verdict, got 1",)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (ONE.replace('"AMOUNT"', "204.01"), "in quotes"),
        (ONE.replace("    source: https://carersuk.org/\n", ""), "needs a name and a source"),
        (
            ONE.replace('amount: "AMOUNT"', 'amount: "1.00"').replace("expect:", "x: &a 1\n    y: *a\n    expect:"),
            "anchors",
        ),
        (ONE.replace("2026-11-04", "2026-02-30"), "YAML"),
        (ONE.replace("AMOUNT", "1.00").replace("family: CA_EARN,", "family: CA_EARN, colour: red,"), "unknown keys"),
        ("just text", "list of scenarios"),
        ("scenarios: [{name: x, source: y, blocked: true}]\n" + "#" * (1024 * 1024), "1024 KB"),
    ],
)
def test_a_bad_file_is_refused_with_a_reason(text, problem):
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.parse(text)
    assert problem in str(caught.value)


def test_flask_rules_test_prints_pass_or_fail_and_exits_1_on_failure(app, rules, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(ONE.replace("AMOUNT", "204.01"), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(ONE.replace("AMOUNT", "204.00"), encoding="utf-8")
    runner = app.test_cli_runner()
    passed = runner.invoke(args=["rules", "test", str(good)])
    assert passed.exit_code == 0, passed.output
    assert "PASS CA a penny over" in passed.output
    assert "1 scenarios: 1 passed, 0 failed, 0 known defects." in passed.output
    failed = runner.invoke(args=["rules", "test", str(bad)])
    assert failed.exit_code == 1
    assert "FAIL CA a penny over" in failed.output
    assert "status near (expected over)" in failed.output


def test_flask_rules_test_runs_a_shipped_file_against_the_loaded_pack(app, rules):
    result = app.test_cli_runner().invoke(args=["rules", "test", str(HERE / "carers-allowance.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS ") == len(scenarios.parse(HERE / "carers-allowance.yaml"))


def test_flask_rules_test_without_a_loaded_pack_reports_unknown_verdicts_as_failures(app, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(ONE.replace("AMOUNT", "204.01"), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["rules", "test", str(good)])
    assert result.exit_code == 1
    assert "family CA_EARN: no verdict" in result.output


def test_flask_rules_test_refuses_an_unreadable_file(app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("just text", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["rules", "test", str(bad)])
    assert result.exit_code == 2
    assert "list of scenarios" in result.output


def test_the_documented_example_passes():
    doc = (HERE.parents[2] / "docs" / "rules-engine.md").read_text(encoding="utf-8")
    example = doc[doc.index("## Scenarios") :].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert [o.label for o in scenarios.run(scenarios.parse(example), RULES)] == ["PASS"]
