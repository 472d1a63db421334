"""Benefit codes and the claim attributes each one needs (the public contract's table).

Pure: used by forms, the API and the rules engine alike.
"""

from __future__ import annotations

from tracker.errors import ValidationFailed

from tracker.vocab import BENEFIT_INFO as BENEFITS  # noqa: F401  (re-exported)
from tracker.vocab import CLAIMABLE_CODES, WEEKDAYS, Attr, Benefit  # noqa: F401


def normalise_attributes(benefit: str, attributes: dict | None, *, prefix: str = "attributes") -> dict:
    """Check a claim's attributes against the contract and fill in defaults.

    Raises ValidationFailed with per-field messages; unknown attributes are refused.
    """
    b = BENEFITS.get(benefit)
    if b is None or not b.claimable:
        raise ValidationFailed({"benefit": [
            "Choose a benefit from the list: " + ", ".join(CLAIMABLE_CODES) + "."]})
    attributes = dict(attributes or {})
    errors: dict[str, list[str]] = {}
    out: dict = {}
    known = {a.name for a in b.attributes}
    for name in attributes:
        if name not in known:
            errors.setdefault(f"{prefix}.{name}", []).append(
                f"{b.name} has no attribute called {name!r}.")
    for a in b.attributes:
        key = f"{prefix}.{a.name}"
        value = attributes.get(a.name)
        if value is None or value == "":
            if a.required:
                errors.setdefault(key, []).append(f"{a.label} is required.")
                continue
            out[a.name] = a.default
            continue
        if a.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, str) and value.strip().isdigit():
                    value = int(value.strip())
                else:
                    errors.setdefault(key, []).append(f"{a.label} must be a whole number.")
                    continue
            if (a.minimum is not None and value < a.minimum) or (a.maximum is not None and value > a.maximum):
                errors.setdefault(key, []).append(
                    f"{a.label} must be from {a.minimum} to {a.maximum}.")
                continue
        elif a.kind == "bool":
            if isinstance(value, str) and value.lower() in ("true", "yes", "y", "1", "on"):
                value = True
            elif isinstance(value, str) and value.lower() in ("false", "no", "n", "0", "off"):
                value = False
            if not isinstance(value, bool):
                errors.setdefault(key, []).append(f"{a.label} must be true or false.")
                continue
        elif a.kind == "choice":
            if not isinstance(value, str) or value.lower() not in a.choices:
                errors.setdefault(key, []).append(
                    f"{a.label} must be one of: {', '.join(a.choices)}.")
                continue
            value = value.lower()
        out[a.name] = value
    if errors:
        raise ValidationFailed(errors)
    return out
