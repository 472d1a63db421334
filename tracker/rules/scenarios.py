"""Scenarios an adviser can write: a person's claims and ledger, a proposed payment, and the
verdicts the law expects, run through the engine against a set of rules.

A scenario file is YAML (at most 1 MB, no anchors or aliases), a list of scenarios or a mapping
with a ``scenarios`` list. Each scenario names its ``source`` (the regulation or GOV.UK page
that justifies the expectation). The format is described in ``docs/rules-engine.md``
("Scenarios"). Nothing here touches Flask or the database: ``flask rules test FILE`` passes the
loaded pack in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

import tracker.vocab as vocab
from tracker.engine import core
from tracker.engine.model import money_str
from tracker.engine.pack import RuleError, _date, _decimal, _Errors, _refuse_unsafe_yaml


class ScenarioError(ValueError):
    """A scenario file that cannot be read; ``problems`` says where and why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


#: What an expectation may name, and how a verdict answers it.
_MATCH_KEYS = ("rule", "family", "benefit")
_COMPARED = (
    "status",
    "severity",
    "total_after",
    "total_before",
    "limit",
    "stale",
    "date_basis",
    "measure",
    "exemption",
)


@dataclass(frozen=True)
class Scenario:
    name: str
    source: str
    today: date | None
    claims: tuple[core.Claim, ...]
    ledger: core.Ledger
    proposed: tuple[core.ProposedPayment, ...]
    expect: tuple[Mapping[str, Any], ...]
    blocked: bool | None = None
    known_defect: str = ""


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    differences: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return not self.differences

    @property
    def label(self) -> str:
        """PASS, FAIL, or KNOWN (fails, as a recorded defect of the engine says it will)."""
        if self.passed:
            return "PASS"
        return "KNOWN" if self.scenario.known_defect else "FAIL"


# --- reading -----------------------------------------------------------------------------------


def _text_of(path_or_text: str | Path) -> str:
    if isinstance(path_or_text, Path):
        return path_or_text.read_text(encoding="utf-8")
    return path_or_text


def parse(path_or_text: str | Path) -> list[Scenario]:
    """Read a scenario file (a ``Path``, or its YAML text)."""
    text = _text_of(path_or_text)
    try:
        _refuse_unsafe_yaml(text)
        data = yaml.safe_load(text)
    except RuleError as exc:
        raise ScenarioError(
            [m.replace("rule pack", "scenario file") for ms in exc.fields.values() for m in ms]
        ) from None
    except (yaml.YAMLError, ValueError, ArithmeticError, RecursionError) as exc:
        raise ScenarioError([f"Not a readable YAML file ({type(exc).__name__})."]) from None
    if isinstance(data, Mapping):
        data = data.get("scenarios")
    if not isinstance(data, list) or not data:
        raise ScenarioError(["A scenario file is a list of scenarios, or a mapping with a 'scenarios' list."])
    out: list[Scenario] = []
    problems: list[str] = []
    for n, item in enumerate(data):
        try:
            out.append(_scenario(item))
        except (ScenarioError, TypeError, ValueError) as exc:
            label = item.get("name") if isinstance(item, Mapping) else None
            problems.append(f"scenarios[{n}]" + (f" ({label})" if label else "") + f": {exc}")
    if problems:
        raise ScenarioError(problems)
    return out


def _refuse(errors: _Errors) -> None:
    if errors:
        raise ScenarioError([f"{k}: {' '.join(v)}" for k, v in errors.fields.items()])


def _opt_day(d: Mapping[str, Any], name: str) -> date | None:
    errors = _Errors()
    day = _date(d, name, errors, required=False)
    _refuse(errors)
    return day


def _day(d: Mapping[str, Any], name: str) -> date:
    errors = _Errors()
    day = _date(d, name, errors)
    _refuse(errors)
    assert day is not None  # required: a missing date is an error above
    return day


def _opt_amount(d: Mapping[str, Any], name: str) -> Decimal | None:
    return None if d.get(name) is None else _amount(d, name)


def _amount(d: Mapping[str, Any], name: str) -> Decimal:
    if d.get(name) is None:
        raise ScenarioError([f"{name}: This field is required."])
    errors = _Errors()
    value = _decimal(d.get(name), name, errors, what="an amount")
    _refuse(errors)
    assert value is not None  # a value that could not be read is an error above
    return value


def _items(d: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = d.get(name) or []
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ScenarioError([f"{name}: give a list of mappings."])
    return value


def _payment_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": p.get("kind", "cash"),
        "amount": _amount(p, "amount"),
        "paid_on": _day(p, "paid_on"),
        "worked_on": _opt_day(p, "worked_on"),
        "benefit_value": _opt_amount(p, "benefit_value"),
        "due_on": _opt_day(p, "due_on"),
        "covers_from": _opt_day(p, "covers_from"),
        "covers_to": _opt_day(p, "covers_to"),
        "offered": _opt_amount(p, "offered"),
        "service_user_context": str(p.get("service_user_context", "unknown")),
    }


def _claim(c: Mapping[str, Any]) -> core.Claim:
    attrs = c.get("attributes") or {}
    return core.Claim(str(c.get("benefit")), _day(c, "start_on"), _opt_day(c, "end_on"), attrs)


def _ledger(d: Mapping[str, Any], payer: object = None) -> core.Ledger:
    return core.Ledger(
        payer=None if payer is None else str(payer),
        payments=tuple(core.LedgerPayment(**_payment_fields(p)) for p in _items(d, "payments")),
        other_income=tuple(
            core.LedgerIncome(_amount(i, "amount"), _day(i, "received_on")) for i in _items(d, "other_income")
        ),
        hours=tuple(core.LedgerHours(_day(h, "worked_on"), _amount(h, "hours")) for h in _items(d, "hours")),
        partner=tuple(core.LedgerPartner(_amount(i, "amount"), _day(i, "received_on")) for i in _items(d, "partner")),
        expenses=tuple(
            core.LedgerExpense(
                _amount(e, "amount"),
                _day(e, "incurred_on"),
                _day(e, "paid_on"),
                e.get("service_user_context", "unknown"),
            )
            for e in _items(d, "expenses")
        ),
    )


def _expectation(e: Mapping[str, Any]) -> Mapping[str, Any]:
    if not any(e.get(k) for k in _MATCH_KEYS):
        raise ScenarioError(["expect: each expectation names a rule, family or benefit."])
    unknown = set(e) - {*_MATCH_KEYS, *_COMPARED, "benefit_week", "period_start", "absent"}
    if unknown:
        raise ScenarioError([f"expect: unknown keys {', '.join(sorted(unknown))}."])
    out = dict(e)
    if "exemption" in out and out["exemption"] not in (None, "none", *vocab.NOTIONAL_EXEMPTIONS):
        raise ScenarioError([f"expect: exemption is none or one of {', '.join(vocab.NOTIONAL_EXEMPTIONS)}."])
    for key in ("total_after", "total_before", "limit"):
        if out.get(key) is not None:
            out[key] = money_str(_amount(e, key))
    for key in ("benefit_week", "period_start"):
        if out.get(key) is not None:
            out[key] = _opt_day(e, key)
    return out


def _scenario(d: object) -> Scenario:
    if not isinstance(d, Mapping):
        raise ScenarioError(["a scenario is a mapping."])
    name, source = str(d.get("name") or "").strip(), str(d.get("source") or "").strip()
    if not name or not source:
        raise ScenarioError(["every scenario needs a name and a source."])
    proposed = tuple(
        core.ProposedPayment(**_payment_fields(p), hours=_opt_amount(p, "hours")) for p in _items(d, "proposed")
    )
    expect = tuple(_expectation(e) for e in _items(d, "expect"))
    blocked = d.get("blocked")
    if blocked is not None and not isinstance(blocked, bool):
        raise ScenarioError(["blocked: use true or false."])
    if not expect and blocked is None:
        raise ScenarioError(["a scenario expects verdicts (expect) or an answer to blocked."])
    return Scenario(
        name=name,
        source=source,
        today=_opt_day(d, "today"),
        claims=tuple(_claim(c) for c in _items(d, "claims")),
        ledger=_ledger(d.get("ledger") or {}, d.get("payer")),
        proposed=proposed,
        expect=expect,
        blocked=blocked,
        known_defect=str(d.get("known_defect") or ""),
    )


# --- running -----------------------------------------------------------------------------------


def _answer(v: core.Verdict, key: str) -> Any:
    if key in ("total_after", "total_before", "limit"):
        return money_str(getattr(v, key))
    if key == "exemption":  # the exemption from notional earnings that applied, or none
        return ",".join(v.exemptions) or "none"
    return getattr(v, key)


def _candidates(verdicts: Sequence[core.Verdict], e: Mapping[str, Any]) -> list[core.Verdict]:
    out = [v for v in verdicts if all(e.get(k) in (None, getattr(v, k)) for k in _MATCH_KEYS)]
    if e.get("benefit_week") is not None:
        out = [v for v in out if v.benefit_week_start == e["benefit_week"]]
    if e.get("period_start") is not None:
        out = [v for v in out if v.period_start == e["period_start"]]
    return out


def _describe(e: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {e[k]}" for k in (*_MATCH_KEYS, "benefit_week", "period_start") if e.get(k))


def _differences(verdicts: Sequence[core.Verdict], e: Mapping[str, Any]) -> list[str]:
    found = _candidates(verdicts, e)
    what = _describe(e)
    if e.get("absent"):
        return [f"{what}: expected no verdict, got {len(found)}"] if found else []
    if not found:
        return [f"{what}: no verdict"]
    misses = []
    for v in found:
        miss = [f"{k} {_answer(v, k)} (expected {e[k]})" for k in _COMPARED if k in e and _answer(v, k) != e[k]]
        if not miss:
            return []
        misses.append(miss)
    return [f"{what}: " + ", ".join(misses[0])]


def run_one(scenario: Scenario, rules: Iterable[core.Rule]) -> Outcome:
    result = core.check(scenario.claims, rules, scenario.ledger, scenario.proposed, today=scenario.today)
    diffs: list[str] = []
    for e in scenario.expect:
        diffs.extend(_differences(result.verdicts, e))
    if scenario.blocked is not None and result.blocked != scenario.blocked:
        diffs.append(f"blocked {str(result.blocked).lower()} (expected {str(scenario.blocked).lower()})")
    return Outcome(scenario, tuple(diffs))


def run(scenarios: Iterable[Scenario], rules: Iterable[core.Rule]) -> list[Outcome]:
    """Each scenario checked by the engine against ``rules``."""
    rules = list(rules)
    return [run_one(s, rules) for s in scenarios]


def report_lines(outcomes: Iterable[Outcome]) -> list[str]:
    """One line per scenario (PASS, FAIL or KNOWN), then each difference indented."""
    lines = []
    for o in outcomes:
        suffix = f" (known defect: {o.scenario.known_defect})" if o.scenario.known_defect and not o.passed else ""
        lines.append(f"{o.label} {o.scenario.name}{suffix}")
        lines.extend(f"    {d}" for d in o.differences)
    return lines
