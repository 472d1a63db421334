"""What a verdict costs the person: one class (``vocab.EFFECTS``) worked out from the verdict's
status and the kind of its rule, so that pages, the API, notifications and PDFs all say the same.

* ``stops``: a cliff-edge rule is over (for an earnings limit, strictly above it), so the benefit
  stops for the period (for the trading allowance, which is tax: it no longer covers the income);
* ``reduces``: a taper rule's total is above its threshold and the estimated reduction is above
  zero (or unknown, when the rule has no rate);
* ``unknown``: not checked (a claim no rule covers on the date);
* ``near``: at or above the rule's warning point but not over (also a taper total above its
  threshold by so little that the reduction rounds to nothing);
* ``within``: within the limit;
* ``info``: an information-only rule (PIP, ADP).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import tracker.vocab as vocab


def classify(status: str, *, is_taper: bool, estimated_reduction: Decimal | None) -> str:
    """The effect code of a verdict with this status, for a taper rule or not."""
    if status == "unknown":
        return "unknown"
    if is_taper and status in ("info", "over"):  # a taper above its threshold reports a reduction
        if estimated_reduction is None or estimated_reduction > 0:
            return "reduces"
        return "near"
    effect = {"over": "stops", "near": "near", "ok": "within", "info": "info"}.get(status, "unknown")
    assert effect in vocab.EFFECTS
    return effect


def rank(effect: str) -> int:
    """Where the effect comes in the order, worst (0) first; an unknown code comes last."""
    return vocab.EFFECT_RANK.get(effect, len(vocab.EFFECTS))


def of_json(v: Mapping[str, Any]) -> str:
    """The effect of a verdict as JSON (``Verdict.to_dict``): its own, or, for a check stored before
    verdicts carried one, worked out from its status the same way."""
    effect = v.get("effect")
    if effect in vocab.EFFECT_RANK:
        return str(effect)
    raw = v.get("estimated_reduction")
    try:
        reduction = None if raw is None else Decimal(str(raw))
    except ArithmeticError:
        reduction = None
    return classify(str(v.get("status")), is_taper="estimated_reduction" in v, estimated_reduction=reduction)
