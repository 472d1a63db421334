"""Copying named attributes of an object into a dict, for snapshots, JSON bodies and page rows,
and making values ready for JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def pick(obj: object, names: Iterable[str]) -> dict:
    """``{name: obj.name}`` for each name, in the order given."""
    return {name: getattr(obj, name) for name in names}


def plain(value: Any, decimal: Callable[[Decimal], Any] = str) -> Any:
    """A value ready for JSON: Decimals through ``decimal``, dates as ISO text, dict keys as text,
    and lists, tuples and dicts walked."""
    if isinstance(value, Decimal):
        return decimal(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v, decimal) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, decimal) for v in value]
    return value
