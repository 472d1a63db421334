"""Benefit codes and the claim attributes each one needs (the public contract's table).

Pure: used by forms, the API and the rules engine alike.
"""

from __future__ import annotations

from tracker.errors import ValidationFailed
from tracker.vocab import BENEFIT_INFO as BENEFITS  # also re-exported
from tracker.vocab import CLAIMABLE_CODES, WEEKDAYS, Attr, Benefit  # noqa: F401  (WEEKDAYS re-exported)

TRUE_WORDS = ("true", "yes", "y", "1", "on")
FALSE_WORDS = ("false", "no", "n", "0", "off")


class _Refused(Exception):
    """One attribute's value cannot be used; the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _whole_number(a: Attr, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if not (isinstance(value, str) and value.strip().isdigit()):
            raise _Refused(f"{a.label} must be a whole number.")
        value = int(value.strip())
    if (a.minimum is not None and value < a.minimum) or (a.maximum is not None and value > a.maximum):
        raise _Refused(f"{a.label} must be from {a.minimum} to {a.maximum}.")
    return value


def _yes_or_no(a: Attr, value: object) -> bool:
    if isinstance(value, str) and value.lower() in TRUE_WORDS:
        return True
    if isinstance(value, str) and value.lower() in FALSE_WORDS:
        return False
    if not isinstance(value, bool):
        raise _Refused(f"{a.label} must be true or false.")
    return value


def _one_of(a: Attr, value: object) -> str:
    if not isinstance(value, str) or value.lower() not in a.choices:
        raise _Refused(f"{a.label} must be one of: {', '.join(a.choices)}.")
    return value.lower()


def _attribute_value(a: Attr, value: object, answers: dict) -> object:
    """The attribute's value as stored: a blank one is its default (or refused when it is required,
    or when its answer decides which rule applies and the question is asked)."""
    if value is None or value == "":
        if a.decides_rule and a.asked_when(answers):
            raise _Refused(f"Answer this: {a.label.lower()}. It decides which benefit rule applies.")
        if a.decides_rule and a.kind == "bool":
            return False  # a question not asked (no work allowance, so housing costs do not change it)
        if a.required:
            raise _Refused(f"{a.label} is required.")
        return a.default
    if a.kind == "int":
        return _whole_number(a, value)
    if a.kind == "bool":
        return _yes_or_no(a, value)
    if a.kind == "choice":
        return _one_of(a, value)
    return value


def _claimable(benefit: str) -> Benefit:
    b = BENEFITS.get(benefit)
    if b is None or not b.claimable:
        raise ValidationFailed({"benefit": ["Choose a benefit from the list: " + ", ".join(CLAIMABLE_CODES) + "."]})
    return b


def normalise_attributes(benefit: str, attributes: dict | None, *, prefix: str = "attributes") -> dict:
    """Check a claim's attributes against the contract and fill in defaults.

    Raises ValidationFailed with per-field messages; unknown attributes are refused.
    """
    b = _claimable(benefit)
    attributes = dict(attributes or {})
    errors: dict[str, list[str]] = {}
    known = {a.name for a in b.attributes}
    for name in attributes:
        if name not in known:
            errors.setdefault(f"{prefix}.{name}", []).append(f"{b.name} has no attribute called {name!r}.")
    out: dict = {}
    for a in b.attributes:
        try:
            out[a.name] = _attribute_value(a, attributes.get(a.name), out)
        except _Refused as e:
            errors.setdefault(f"{prefix}.{a.name}", []).append(e.message)
    if errors:
        raise ValidationFailed(errors)
    return out
