"""The risk scan and the cold dashboard work out everyone's position set-wise
(``checks.positions``: one read for everyone, payments that can only count in the tax year added up
in SQL). That must give exactly the verdicts of the per-person path (``checks.position``), on
generated ledgers with reversals (also of training at a benefit value), due dates, worked dates,
covered periods, planned and cancelled payments, expenses, other income and a partner's earnings, on days either side
of the tax year's turn and of the periods' edges."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from random import Random

import pytest
import sqlalchemy as sa

from tests.builders import claim, expense, other_income, partner_earning, payment, person
from tracker.engine import core as engine
from tracker.extensions import db
from tracker.people.models import BenefitClaim
from tracker.rules import checks

CLAIMS = [
    [{"benefit": "CA"}],
    [{"benefit": "CSP"}],
    [{"benefit": "JSA"}],
    [
        {
            "benefit": "UC",
            "attributes": {
                "ap_start_day": 17,
                "work_allowance": True,
                "lcw_pending": False,
                "housing_element": False,
                "joint_claim": True,
            },
        }
    ],
    [
        {
            "benefit": "UC",
            "attributes": {
                "ap_start_day": 31,
                "work_allowance": False,
                "lcw_pending": False,
                "housing_element": False,
                "joint_claim": False,
            },
        }
    ],
    [{"benefit": "ESA", "attributes": {"permitted_work": "lower"}}],
    [
        {"benefit": "CA"},
        {
            "benefit": "UC",
            "attributes": {
                "ap_start_day": 3,
                "work_allowance": True,
                "lcw_pending": False,
                "housing_element": False,
                "joint_claim": True,
            },
        },
    ],
    [{"benefit": "HB", "attributes": {"disregard": "single"}}],
    [{"benefit": "HB", "attributes": {"disregard": "couple"}}],
]
KINDS = ("cash", "bank_transfer", "voucher", "training", "charity", "certificate", "declined")
DAYS = [date(2025, 4, 5), date(2025, 4, 6), date(2025, 4, 7), date(2025, 6, 11), date(2025, 11, 30), date(2026, 1, 31)]


def _one_payment(rng: Random, pid: int, day: date):
    kind = rng.choice(KINDS)
    amount = Decimal(0) if kind in ("certificate", "declined") else Decimal(rng.randrange(100, 40000)) / 100
    extra: dict = {}
    if kind == "training" and rng.random() < 0.7:
        extra["benefit_value"] = Decimal(rng.randrange(1000, 30000)) / 100
    if rng.random() < 0.3:
        extra["due_on"] = day + timedelta(days=rng.randrange(-20, 40))
    if rng.random() < 0.3:
        extra["worked_on"] = day - timedelta(days=rng.randrange(0, 60))
    if rng.random() < 0.1:
        extra["covers_from"] = day - timedelta(days=rng.randrange(7, 90))
        extra["covers_to"] = day - timedelta(days=rng.randrange(0, 6))
    status = rng.choices(("paid", "approved", "draft", "cancelled"), (80, 8, 8, 4))[0]
    return payment(pid, amount, day, kind=kind, status=status, **extra), kind


def _reverse(rng: Random, original) -> None:
    payment(
        original.person_id,
        -original.amount,
        original.paid_on,
        kind=original.kind,
        status=rng.choice(("paid", "paid", "draft")),
        reversal_of=original,
        benefit_value=-original.benefit_value if original.benefit_value is not None else None,
        due_on=original.due_on,
        worked_on=original.worked_on,
        covers_from=original.covers_from,
        covers_to=original.covers_to,
    )


def _generate(seed: int, people: int) -> None:
    rng = Random(seed)
    first = date(2024, 3, 1)
    for n in range(people):
        who = person(f"Person {n}", claims=[{"start_on": date(2024, 1, 1), **c} for c in CLAIMS[n % len(CLAIMS)]])
        day = first + timedelta(days=rng.randrange(0, 6))
        while day < date(2026, 5, 1):
            row, kind = _one_payment(rng, who.id, day)
            if row.status == "paid" and kind != "declined" and rng.random() < 0.12:
                _reverse(rng, row)
            if rng.random() < 0.05:
                expense(who, Decimal(rng.randrange(100, 5000)) / 100, day, day + timedelta(days=rng.randrange(0, 30)))
            if rng.random() < 0.04:
                other_income(who, Decimal(rng.randrange(1000, 20000)) / 100, day)
            if rng.random() < 0.06:
                partner_earning(who, Decimal(rng.randrange(1000, 40000)) / 100, day)
            day += timedelta(days=rng.randrange(1, 12))
    db.session.flush()
    claim(1, "PIP")


def _same(on: date) -> int:
    every = checks.positions(sa.select(BenefitClaim.person_id), on)
    assert every
    for pid, verdicts in every.items():
        alone = checks.position(pid, on)
        assert [v.to_dict() for v in verdicts] == [v.to_dict() for v in alone], (pid, on)
    return sum(1 for vs in every.values() for v in vs if v.status in ("near", "over"))


@pytest.mark.parametrize("seed", [1, 2])
def test_set_wise_positions_equal_the_per_person_ones(app, rules, seed):
    with app.app_context():
        _generate(seed, people=24)
        db.session.commit()
        troubled = [_same(on) for on in DAYS]
    assert any(troubled)  # the data puts some people near or over a limit: the test compares real verdicts


def test_set_wise_positions_equal_the_per_person_ones_on_the_demo_data(app, rules):
    from tracker import demo

    with app.app_context():
        demo.seed(people=30, months=14, today=date(2025, 6, 11))
        db.session.commit()
        for on in (date(2025, 6, 11), date(2025, 4, 6), date(2025, 4, 5)):
            _same(on)


def test_the_reach_holds_every_period_containing_the_day(app, rules):
    """``engine.position_reach`` bounds every period (of any rule, for any claim) containing the day."""
    from tracker.engine import periods
    from tracker.rules import service

    with app.app_context():
        every = service.engine_rules() if hasattr(service, "engine_rules") else checks._rules()[0]
    for on in DAYS:
        near, year = engine.position_reach(every, on)
        assert year == (date(on.year if on >= date(on.year, 4, 6) else on.year - 1, 4, 6), year[1])
        for rule in every:
            if rule.period == "tax_year":
                continue
            for day in range(1, 32):
                attrs = {"ap_start_day": day, "week_start": "sunday"}
                start, end = periods.window(rule.period, on, attrs, rule.week_start, date(2024, 1, day % 28 + 1))
                assert near[0] <= start and end <= near[1], (rule.code, on, start, end, near)
