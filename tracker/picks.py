"""Copying named attributes of an object into a dict, for snapshots, JSON bodies and page rows."""

from __future__ import annotations

from collections.abc import Iterable


def pick(obj: object, names: Iterable[str]) -> dict:
    """``{name: obj.name}`` for each name, in the order given."""
    return {name: getattr(obj, name) for name in names}
