"""Whose money makes up each verdict's total: this organisation's, and each other source's.

The engine stays the judge of every total; this reads the same other-income rows it counts (by the
date received, within the verdict's period, for a rule that counts other income) and names them.
What is left of the total is this organisation's (its payments and the expenses it repays).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from tracker.extensions import db
from tracker.money import format_money, money_str, to_decimal
from tracker.payments.models import OtherIncome
from tracker.rules import service as rules_service
from tracker.vocab import MONEY_MEASURES as EARNINGS_MEASURES

ZERO = Decimal("0.00")


def _income(person_id: int, start: date, end: date) -> list[tuple[str, date, Decimal]]:
    c = OtherIncome.__table__.c
    return [
        (r.source, r.received_on, r.amount)
        for r in db.session.execute(
            sa.select(c.source, c.received_on, c.amount).where(
                c.person_id == person_id, c.received_on.between(start, end)
            )
        )
    ]


def _counting_rules() -> set[str]:
    return {rule.code for _, rule in rules_service.active_rules() if rule.counts.other_income}


def breakdown(total: Decimal, income: Iterable[tuple[str, date, Decimal]], start: date, end: date) -> list[dict]:
    """[{name, amount}] for the period: this organisation first, then other sources by name."""
    others: dict[str, Decimal] = {}
    for source, received_on, amount in income:
        if start <= received_on <= end:
            others[source] = others.get(source, ZERO) + amount
    own = total - sum(others.values(), ZERO)
    rows = [(str(current_app.config["ORGANISATION_NAME"]), own)] + sorted(others.items())
    return [{"name": name, "amount": money_str(amount)} for name, amount in rows if amount != 0]


def add_sources(person_id: int, verdicts: list[dict]) -> list[dict]:
    """Each earnings verdict (the engine's JSON) gains ``sources``; others an empty list."""
    periods = [
        (date.fromisoformat(v["period"]["start"]), date.fromisoformat(v["period"]["end"]))
        for v in verdicts
        if v.get("measure") in EARNINGS_MEASURES
    ]
    if not periods:
        for v in verdicts:
            v["sources"] = []
        return verdicts
    income = _income(person_id, min(s for s, _ in periods), max(e for _, e in periods))
    counting = _counting_rules()
    for v in verdicts:
        if v.get("measure") not in EARNINGS_MEASURES or v.get("total_after") is None:
            v["sources"] = []
            continue
        start, end = date.fromisoformat(v["period"]["start"]), date.fromisoformat(v["period"]["end"])
        counted = income if v.get("rule") in counting else []
        v["sources"] = breakdown(to_decimal(v["total_after"]), counted, start, end)
    return verdicts


def in_words(sources: Iterable[Mapping]) -> list[str]:
    """ "£120.00 of this came from Northfield Council", for each source other than this organisation,
    when the total is not all this organisation's."""
    rows = list(sources)
    own = str(current_app.config["ORGANISATION_NAME"])
    if not any(r["name"] != own for r in rows):
        return []
    return [f"{format_money(to_decimal(r['amount']))} of this came from {r['name']}." for r in rows]


def words_for(person_id: int, verdicts: Iterable) -> dict[tuple[str, date, date], list[str]]:
    """For the contributor's own page: each engine verdict's sources in plain words, keyed by
    (title, period start, period end); empty when all the money is this organisation's."""
    verdicts = list(verdicts)
    dicts = add_sources(person_id, [v.to_dict() for v in verdicts])
    return {
        (v.title, v.period_start, v.period_end): in_words(d["sources"]) for v, d in zip(verdicts, dicts, strict=True)
    }
