"""What-if checks and positions for one person, from the database through the pure engine.

This is where the engine's results leave it for the rest of the tracker: every result is put into
words here (``tracker.rules.wording``), so callers read ``Verdict.notes`` and
``Suggestion.explanation`` as sentences.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import lru_cache

import holidays
from flask import current_app

from tracker.engine import core as engine
from tracker.engine import effects
from tracker.rules import ledger, wording
from tracker.rules import service as rules_service

NOTICE = (
    "This check is a safeguard, not benefits advice. Figures marked as not verified need "
    "checking. For advice, speak to an independent benefits adviser, such as Citizens Advice "
    "or a local welfare rights service."
)


def with_effects(check: dict | None) -> dict | None:
    """A stored check (``payment.check_snapshot``) whose verdicts each say their ``effect``: a check
    recorded before verdicts carried one gets it worked out from its status, as the engine does."""
    if check is None or "verdicts" not in check:
        return check
    return {**check, "verdicts": [{**v, "effect": effects.of_json(v)} for v in check.get("verdicts") or []]}


def _rules():
    pairs = rules_service.active_rules()
    return [rule for _, rule in pairs], {rule.code: row.revision for row, rule in pairs}


def check(
    person_id: int,
    proposed: list[engine.ProposedPayment],
    *,
    today: date | None = None,
    exclude_payment_id: int | None = None,
) -> tuple[engine.CheckResult, dict]:
    """Run the engine for proposed payments. Returns the result and {rule code: revision}."""
    rules, revisions = _rules()
    dates = [p.paid_on for p in proposed] or [today or date.today()]
    claims = ledger.claims_for(person_id)
    result = engine.check(
        claims,
        rules,
        ledger.ledger_for(
            person_id,
            (min(dates), max(dates)),
            exclude_payment_id=exclude_payment_id,
            hours=_hours_matter(claims, rules),
        ),
        proposed,
        ledger.preferences_for(person_id),
        today=today,
        pay_days=_pay_days_from(proposed, today),
    )
    return wording.check_result(result), revisions


@lru_cache(maxsize=16)
def _bank_holidays(region: str, first_year: int, last_year: int) -> frozenset[date]:
    """The bank holidays of a part of the UK (ENG: England and Wales, SCT, WLS, NIR) in these years,
    from the maintained calendar of the ``holidays`` library (no list kept by hand)."""
    return frozenset(holidays.country_holidays("GB", subdiv=region, years=range(first_year, last_year + 1)))


def pay_days(dates: list[date]) -> engine.PayDays:
    """When a suggested bank transfer can arrive, for suggestions from these dates: the bank
    holidays from the first date's year to two years after the last (suggestions look two periods
    ahead at most), and the organisation's lead time (PAYMENT_LEAD_DAYS working days)."""
    cfg = current_app.config
    region = str(cfg.get("BANK_HOLIDAYS_REGION") or "ENG")
    lead = int(cfg.get("PAYMENT_LEAD_DAYS", 3))
    closed = _bank_holidays(region, min(dates).year, max(dates).year + 2)
    return engine.PayDays(closed=closed, lead_days=lead)


def _pay_days_from(proposed: list[engine.ProposedPayment], today: date | None) -> engine.PayDays:
    return pay_days([p.paid_on for p in proposed] + [today or date.today()])


def _hours_matter(claims, rules) -> bool:
    """Only an hours rule for a benefit the person claims needs the hours worked."""
    benefits = {c.benefit for c in claims}
    return any(r.measure == "hours" and r.applies_when.benefit in benefits for r in rules)


def position(person_id: int, on: date) -> list[engine.Verdict]:
    rules, _ = _rules()
    claims = ledger.claims_for(person_id)
    led = ledger.ledger_for(person_id, on, hours=_hours_matter(claims, rules))
    return wording.verdicts(engine.position(claims, rules, led, on))


def position_and_paid(person_id: int, on: date) -> tuple[list[engine.Verdict], dict[tuple, Decimal]]:
    """The position on a day, and each verdict's total counting paid payments only (keyed by
    rule, benefit and period), so a page can say how much of a total is only planned."""
    rules, _ = _rules()
    claims = ledger.claims_for(person_id)
    led = ledger.ledger_for(person_id, on, hours=_hours_matter(claims, rules))
    paid_only = replace(led, payments=tuple(p for p in led.payments if p.status == "paid"))
    paid = {
        (v.rule, v.benefit, v.period_start, v.period_end): v.total_after
        for v in engine.position(claims, rules, paid_only, on)
    }
    return wording.verdicts(engine.position(claims, rules, led, on)), paid


def check_json(result: engine.CheckResult, revisions: dict) -> dict:
    body = result.to_dict()
    used = sorted({v["rule"] for v in body["verdicts"] if v["rule"]})  # an unknown verdict used no rule
    body["rules_used"] = [{"code": code, "revision": revisions.get(code)} for code in used]
    body["blocked"] = result.blocked
    body["notice"] = NOTICE
    return body


def positions(person_filter, on: date) -> dict[int, list[engine.Verdict]]:
    """Positions for many people at once (the risk scan and the dashboard): a constant number of
    queries whatever the number of people."""
    rules, _ = _rules()
    people = ledger.bulk_for(person_filter, on, reach=engine.position_reach(rules, on))
    return {pid: wording.verdicts(verdicts) for pid, verdicts in engine.position_many(people, rules, on).items()}


def check_many(
    proposed: dict[int, engine.ProposedPayment],
    preferences: dict[int, list[str]],
    on: date,
    *,
    today: date | None = None,
) -> dict[int, tuple[engine.CheckResult, dict]]:
    """What-if checks for many people at once, one proposed payment each (the owed queue): a
    constant number of queries whatever the number of people. Returns {person id: (result, revisions)}."""
    if not proposed:
        return {}
    rules, revisions = _rules()
    ledgers = ledger.bulk_for(list(proposed), on)
    days = _pay_days_from(list(proposed.values()), today)
    out = {}
    for pid, p in proposed.items():
        claims, ledger_ = ledgers.get(pid, ([], engine.Ledger(payer=ledger.payer())))
        result = engine.check(claims, rules, ledger_, [p], preferences.get(pid, []), today=today, pay_days=days)
        out[pid] = wording.check_result(result), revisions
    return out


def check_moves(
    proposals: list[tuple[int, int, engine.ProposedPayment]], on: date, *, today: date | None = None
) -> dict[int, tuple[engine.CheckResult, dict]]:
    """Checks for many existing payments moved to ``on`` (paying a run), in a constant number of
    queries: ``proposals`` are (payment id, person id, the payment as proposed on ``on``).

    Each gives what ``check(person_id, [proposed], exclude_payment_id=payment id)`` would give when
    the payments are checked one after another in this order: a payment that passes counts in its
    person's ledger on its new date for the ones after it; one that is blocked stays where it was.
    Returns {payment id: (result, {rule code: revision})}.
    """
    rules, revisions = _rules()
    people = sorted({person_id for _, person_id, _ in proposals})
    data = ledger.bulk_for(people, on)
    preferences = ledger.bulk_preferences(people)
    days = _pay_days_from([p for _, _, p in proposals], today)
    out: dict[int, tuple[engine.CheckResult, dict]] = {}
    for payment_id, person_id, proposed in proposals:
        claims, ledger_ = data.get(person_id, ([], engine.Ledger(payer=ledger.payer())))
        others = tuple(p for p in ledger_.payments if p.id != payment_id)
        result = wording.check_result(
            engine.check(
                claims,
                rules,
                replace(ledger_, payments=others),
                [proposed],
                preferences.get(person_id, []),
                today=today,
                pay_days=days,
            )
        )
        out[payment_id] = (result, revisions)
        if not result.blocked:
            moved = engine.LedgerPayment.from_trusted(
                proposed.kind,
                proposed.amount,
                proposed.paid_on,
                proposed.worked_on,
                proposed.benefit_value,
                "paid",
                payment_id,
                proposed.due_on,
                proposed.covers_from,
                proposed.covers_to,
                proposed.offered,
                proposed.service_user_context,
            )
            data[person_id] = (claims, replace(ledger_, payments=(*others, moved)))
    return out


def check_series(
    person_id: int, proposed: list[engine.ProposedPayment], *, today: date | None = None
) -> list[tuple[engine.CheckResult, dict]]:
    """Checks for one person's payments one after another, in the order given (an imported file's
    rows, oldest first), reading the claims, rules and ledger once: each payment is checked against
    the ledger and the payments before it. Returns one (result, {rule code: revision}) per payment."""
    if not proposed:
        return []
    rules, revisions = _rules()
    claims = ledger.claims_for(person_id)
    dates = [p.paid_on for p in proposed]
    ledger_ = ledger.ledger_for(person_id, (min(dates), max(dates)), hours=_hours_matter(claims, rules))
    preferences = ledger.preferences_for(person_id)
    days = _pay_days_from(proposed, today)
    out = []
    for p in proposed:
        result = wording.check_result(
            engine.check(claims, rules, ledger_, [p], preferences, today=today, pay_days=days)
        )
        out.append((result, revisions))
        counted = p.as_ledger_payment()
        ledger_ = replace(ledger_, payments=(*ledger_.payments, counted))
    return out
