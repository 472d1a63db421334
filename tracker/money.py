"""Money and other exact decimals.

Money is ``Decimal`` from the form to the PDF. In the database it is an integer number of pence,
so values and SQL ``SUM()`` are exact on SQLite (which stores ``NUMERIC`` as a float) and on
PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount a payment may carry is tracker.vocab.MAX_AMOUNT; the services refuse more.


class MoneyError(ValueError):
    """A value that is not an exact amount of money."""


def to_decimal(value, places: int = 2) -> Decimal:
    """Turn a str, int or Decimal into a Decimal with at most ``places`` decimal places.

    Floats are refused: they cannot represent most amounts exactly.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("Give the amount as text, for example 150.00, not as a float.")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").removeprefix("£")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise MoneyError("Enter a number, for example 150.00.") from None
    else:
        raise MoneyError("Enter a number, for example 150.00.")
    if not d.is_finite():
        raise MoneyError("Enter a real number, for example 150.00.")
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise MoneyError(f"Use at most {places} decimal places.")
    if d.adjusted() > 15:
        raise MoneyError("That number is far too large.")
    return d.quantize(Decimal(1).scaleb(-places))


#: A real minus sign (U+2212), not a hyphen: screen readers say "minus" and it lines up in tables.
MINUS = "\u2212"


def format_money(value: Decimal | None, symbol: str = "£") -> str:
    """Money for people to read: "£1,250.00", "−£50.00" (a real minus sign)."""
    if value is None:
        return ""
    q = value.quantize(PENNY, rounding=ROUND_HALF_UP)
    sign = MINUS if q < 0 else ""
    return f"{sign}{symbol}{abs(q):,.2f}"


def money_str(value: Decimal | None) -> str | None:
    """The API form of money: a string with two decimals."""
    if value is None:
        return None
    return str(value.quantize(PENNY, rounding=ROUND_HALF_UP))


class ScaledDecimal(TypeDecorator):
    """A Decimal stored as an integer scaled by 10**places; refuses anything it cannot store exactly."""

    impl = sa.BigInteger
    cache_ok = True

    def __init__(self, places: int = 2):
        super().__init__()
        self.places = places
        self._factor = Decimal(10) ** places

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise MoneyError("Refusing to store a float as money.")
        d = value if isinstance(value, Decimal) else Decimal(value)
        scaled = d * self._factor
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{value} has more than {self.places} decimal places.")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        # Exact: the integer's digits with the decimal point moved (15000 -> Decimal("150.00")).
        return Decimal(int(value)).scaleb(-self.places)

    def coerce_compared_value(self, op, value):
        return self


def scaled_reader(places: int = 2):
    """A function turning stored integers into Decimals exactly as ``ScaledDecimal`` does, remembering
    each one: for reading hundreds of thousands of rows, where the same amounts come up again and
    again. Decimals are immutable, so sharing one is safe."""
    seen: dict[int, Decimal] = {}

    def read(value):
        if value is None:
            return None
        d = seen.get(value)
        if d is None:
            d = seen[value] = Decimal(int(value)).scaleb(-places)
        return d

    return read


def Money() -> ScaledDecimal:  # noqa: N802 - reads like a column type
    return ScaledDecimal(2)


def Hours() -> ScaledDecimal:  # noqa: N802
    return ScaledDecimal(2)


def sum_column(column):
    """``SUM(column)`` that keeps the column's Decimal type (SQL returns the raw integer)."""
    return sa.type_coerce(sa.func.coalesce(sa.func.sum(column), 0), column.type)


def decimal_field(
    data: Mapping,
    name: str,
    errors: dict,
    *,
    required: bool,
    maximum: Decimal,
    words: tuple[str, str, str],
    places: int = 2,
) -> Decimal | None:
    """A form or body field as a Decimal from 0 to ``maximum``; None when it is missing or unreadable.

    ``words`` are the messages put on ``errors[name]`` when it is missing (and required), negative
    or above the maximum."""
    missing, negative, too_much = words
    raw = data.get(name)
    if raw is None or raw == "":
        if required:
            errors[name] = [missing]
        return None
    try:
        value = to_decimal(raw, places)
    except MoneyError as e:
        errors[name] = [str(e)]
        return None
    if value < 0:
        errors[name] = [negative]
    elif value > maximum:
        errors[name] = [too_much]
    return value
