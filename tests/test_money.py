from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import payment, person
from tracker.extensions import db
from tracker.money import MoneyError, format_money, money_str, to_decimal
from tracker.payments.models import Payment

MAY_1 = date(2025, 5, 1)


def test_three_tenths_sum_exactly_in_sql(ctx, make_person):
    """On SQLite a NUMERIC SUM is floating point (0.30000000000000004); pence are exact."""
    pid = make_person()
    for _ in range(3):
        payment(pid, Decimal("0.10"), MAY_1, status="draft")
    db.session.commit()
    total = db.session.scalar(sa.select(sa.func.sum(Payment.amount)).where(Payment.person_id == pid))
    assert total == Decimal("0.30")
    assert isinstance(total, Decimal)
    # And the raw column really holds integer pence.
    raw = db.session.execute(sa.text("SELECT SUM(amount) FROM payment")).scalar()
    assert int(raw) == 30


def test_large_amounts_round_trip_exactly(ctx, make_person):
    pid = make_person()
    big = Decimal("123456789012.34")
    payment(pid, big, MAY_1, status="draft")
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(sa.select(Payment.amount)) == big


def test_float_is_refused_by_the_column(ctx, make_person):
    pid = make_person()
    with pytest.raises(sa.exc.StatementError):
        payment(pid, 0.1, MAY_1, status="draft")
    db.session.rollback()


def test_three_decimal_places_are_refused_by_the_column(ctx, make_person):
    pid = make_person()
    with pytest.raises(sa.exc.StatementError):
        payment(pid, Decimal("1.005"), MAY_1, status="draft")
    db.session.rollback()


@pytest.mark.parametrize("bad", [0.1, True, "abc", "1.005", "NaN", "Infinity", None, [1]])
def test_to_decimal_refuses_inexact_input(bad):
    with pytest.raises(MoneyError):
        to_decimal(bad)


@pytest.mark.parametrize("text, expected", [("150", "150.00"), ("£1,234.5", "1234.50"), (" 0.1 ", "0.10"), (7, "7.00")])
def test_to_decimal_parses(text, expected):
    assert to_decimal(text) == Decimal(expected)


def test_formatting():
    assert format_money(Decimal("1234.5")) == "£1,234.50"
    assert format_money(Decimal("-3")) == "−£3.00"
    assert money_str(Decimal("150")) == "150.00"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=15))
def test_sums_of_pence_are_exact(app, pence):
    """Whatever amounts are stored, the SQL sum equals the exact Decimal sum."""
    with app.app_context():
        pid = person("Sum Test", consent=False).id
        amounts = [Decimal(p) / 100 for p in pence]
        for a in amounts:
            payment(pid, a, MAY_1, status="draft")
        total = db.session.scalar(sa.select(sa.func.sum(Payment.amount)).where(Payment.person_id == pid))
        db.session.rollback()
    assert total == sum(amounts)


@pytest.mark.parametrize("huge", ["1e9999", "9" * 3000, "-1e400"])
def test_huge_numbers_are_a_clear_error(huge):
    with pytest.raises(MoneyError, match="too large"):
        to_decimal(huge)
