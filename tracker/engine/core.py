"""The benefit-rules engine: plain data in, verdicts and suggestions out.

Given a person's benefit claims, the rules (every version of every rule family), and their ledger
(payments, expenses, other income, hours), the engine works out, for each rule that applies to the
person, the period that contains a date, the total that counts in that period, the limit, the
headroom and a status. ``check()`` does the same with proposed payments added ("what if") and, when
a rule would be broken, proposes alternatives, each re-checked with the engine before it is offered.

Money and hours are ``decimal.Decimal`` everywhere: every public constructor and function refuses a
``float`` with ``TypeError``. Output amounts are quantized to the penny with ``ROUND_HALF_UP``.

Results carry codes and numbers (``Verdict.remarks``, ``Suggestion.basis``); the sentences people
read are made from them by ``tracker.rules.wording``. This module is the engine's front: the data
lives in ``model``, the evaluation in ``evaluate`` and the suggestion search in ``suggest``, and
callers reach all of it as ``engine.X``. It imports neither Flask nor SQLAlchemy. See
``docs/rules-engine.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from tracker.engine import periods
from tracker.engine.evaluate import RuleSet, _check_rules, _Context, _verdict
from tracker.engine.model import (
    PENNY,
    ZERO,
    AppliesWhen,
    CheckResult,
    Claim,
    Counts,
    Ledger,
    LedgerExpense,
    LedgerHours,
    LedgerIncome,
    LedgerPartner,
    LedgerPayment,
    LimitFigure,
    ProposedPayment,
    Remark,
    Rule,
    Source,
    SuggestedPayment,
    Suggestion,
    SuggestionBasis,
    Verdict,
    _choice,
    _date,
    money_str,
)
from tracker.engine.suggest import LOOKAHEAD_PERIODS, PayDays, _Suggester
from tracker.vocab import BENEFIT_NAMES_INLINE as BENEFIT_NAMES
from tracker.vocab import PAYMENT_KINDS

__all__ = [
    "BENEFIT_NAMES",
    "LOOKAHEAD_PERIODS",
    "PayDays",
    "PENNY",
    "ZERO",
    "AppliesWhen",
    "CheckResult",
    "Claim",
    "Counts",
    "Ledger",
    "LedgerExpense",
    "LedgerHours",
    "LedgerIncome",
    "LedgerPartner",
    "LedgerPayment",
    "LimitFigure",
    "ProposedPayment",
    "Remark",
    "Rule",
    "Source",
    "SuggestedPayment",
    "Suggestion",
    "SuggestionBasis",
    "Verdict",
    "check",
    "money_str",
    "position",
    "position_many",
    "position_reach",
    "preference_kinds",
    "rules_in_force",
]

# --- public functions --------------------------------------------------------------------------


def rules_in_force(rules: Iterable[Rule], on: date) -> list[Rule]:
    """The rules whose effective range (inclusive) contains ``on``."""
    _date(on, "on")
    return [r for r in _check_rules(rules) if r.in_force(on)]


def position(
    claims: Iterable[Claim],
    rules: Iterable[Rule],
    ledger: Ledger,
    on: date,
    kinds_ruled_out: Iterable[str] | None = None,
) -> list[Verdict]:
    """Where the person stands on ``on``: one verdict per applicable rule family.

    ``kinds_ruled_out`` is accepted for symmetry with ``check`` and does not change the
    verdicts (a position reports the ledger as it is).
    """
    _date(on, "on")
    return _position(_Context(claims, rules, ledger), on)


def _position(ctx: _Context, on: date) -> list[Verdict]:
    return [_verdict(ev, what_if=False) for ev in ctx.evaluate_on(on)] + ctx.uncovered([(on, on)])


def position_many(
    people: Mapping[Any, tuple[Iterable[Claim], Ledger]], rules: Iterable[Rule], on: date
) -> dict[Any, list[Verdict]]:
    """``position`` for many people (``{key: (claims, ledger)}``) with the same rules: the rules
    are checked and grouped by family once, not once a person. The verdicts are ``position``'s."""
    _date(on, "on")
    ruleset = RuleSet(rules)
    out: dict[Any, list[Verdict]] = {}
    for key, (claims, ledger) in people.items():
        out[key] = _position(_Context(claims, ruleset, ledger), on)
    return out


def position_reach(rules: Iterable[Rule], on: date) -> tuple[tuple[date, date], tuple[date, date] | None]:
    """Which days ``position(..., on)`` can count a payment on, for anyone under these rules:
    ``(near, tax_year)``. ``near`` spans every period containing ``on`` of the rules measured over
    anything but a tax year (it may depend on the person's claims: a bound); ``tax_year`` is the
    tax year containing ``on`` when some rule is measured over it, else None. A payment whose dates
    all fall in the tax year and outside ``near`` counts only in that tax year's totals, so such
    payments may be added up before the engine sees them (``tracker.rules.ledger``)."""
    near = (on, on)
    year = None
    for rule in _check_rules(rules):
        if periods.parse_period(rule.period)[0] == "tax_year":
            year = periods.window(rule.period, on)
            continue
        start, end = periods.reach(rule.period, on)
        near = (min(near[0], start), max(near[1], end))
    return near, year


def preference_kinds(preferences: Iterable[str | Mapping[str, object]] | None) -> list[str]:
    """The person's kinds of payment, most preferred first, each once (from kinds or ``{kind, note}``)."""
    kinds: list[str] = []
    for item in preferences or ():
        kind = _choice(item.get("kind") if isinstance(item, Mapping) else item, PAYMENT_KINDS, "preference kind")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def _offer_not_taken(proposed: Iterable[ProposedPayment]) -> bool:
    """Some payment takes less than was offered. Moving or switching the money taken does not move
    the offer (notional earnings), so such a check makes no suggestions."""
    return any(p.offered is not None and abs(p.offered) > abs(p.amount) for p in proposed)


def check(
    claims: Iterable[Claim],
    rules: Iterable[Rule],
    ledger: Ledger,
    proposed: Iterable[ProposedPayment],
    preferences: Iterable[str | Mapping[str, object]] = (),
    today: date | None = None,
    kinds_ruled_out: Iterable[str] | None = None,
    pay_days: PayDays | None = None,
) -> CheckResult:
    """What if these payments were made? Verdicts for every period they touch, and suggestions.

    ``preferences`` is the person's ordered list of kinds (or of ``{kind, note}`` mappings), most
    preferred first. A kind not in a non-empty list is ruled out; with an empty list only the
    proposed kind may be used. ``kinds_ruled_out`` adds more. Suggestions never use a date before
    ``today`` (when given) or before the proposed date, and look no further than the next two
    periods. A bank transfer they suggest arrives on a working day of ``pay_days`` (weekends and
    the bank holidays it is given are skipped) no sooner than its lead time after ``today``.
    """
    proposed = list(proposed)
    for p in proposed:
        if not isinstance(p, ProposedPayment):
            raise TypeError(f"proposed must hold ProposedPayment objects, not {type(p).__name__}.")
    _date(today, "today", optional=True)
    prefs = preference_kinds(preferences)
    ruled_out: set[str] = set()
    for k in kinds_ruled_out or ():
        ruled_out.add(_choice(k, PAYMENT_KINDS, "kinds_ruled_out"))
    ctx = _Context(claims, rules, ledger)
    pays = [p.as_ledger_payment(id=("proposed", n)) for n, p in enumerate(proposed)]
    hours = [LedgerHours(p.worked_on or p.paid_on, p.hours) for p in proposed if p.hours is not None]
    evals = ctx.evaluate(pays, hours)
    verdicts = tuple(_verdict(ev) for ev in evals) + tuple(ctx.uncovered((p.paid_on, p.work_date) for p in pays))
    suggestions: list[Suggestion] = []
    if any(v.status == "over" for v in verdicts) and not _offer_not_taken(proposed):
        suggestions = _Suggester(ctx, proposed, pays, hours, evals, prefs, ruled_out, today, pay_days).run()
    return CheckResult(verdicts=verdicts, suggestions=tuple(suggestions))
