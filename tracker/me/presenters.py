"""What the contributor's own pages say: dates, hours and money in words, each payment's story,
and the checks grouped by benefit. Reads what the views loaded; writes nothing."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from tracker.contributions.models import Contribution
from tracker.money import format_money
from tracker.payments.models import Payment
from tracker.rules import wording
from tracker.timeutil import day_text, span_text
from tracker.vocab import BENEFIT_INFO, BENEFIT_NAMES_INLINE, BENEFITS, KIND_LABELS_FOR_YOU, VERDICT_STATUS_WORDS

BENEFIT_HEADINGS = {"TAX": "Income tax: the £1,000 trading allowance"}
METHOD_WORDS = {
    "cash": "in cash",
    "voucher": "in vouchers",
    "bank transfer": "by bank transfer",
    "cheque": "by cheque",
    "training place": "as a training place",
    "charity donation": "as a donation to a charity",
}
KIND_METHODS = {
    "cash": "in cash",
    "bank_transfer": "by bank transfer",
    "voucher": "in vouchers",
    "training": "as training",
    "charity": "as a donation to a charity",
}


long_date = _d = day_text


def hours(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():f}"
    return f"{text} hour" if Decimal(value) == 1 else f"{text} hours"


def contribution_row(c: Contribution) -> dict:
    """One thing the contributor did, as a row of "What you did"."""
    name = c.activity.name if c.activity else None
    return {
        "worked_on": c.worked_on,
        "what": name or c.description or "Other work",
        "detail": c.description if name and c.description else None,
        "role": c.role,
        "hours": hours(c.hours),
        "preparation": hours(c.preparation_hours) if c.preparation_hours else None,
        "value": format_money(c.value_owed),
    }


# ---- a payment's story ---------------------------------------------------------------------


def _paid_how(p: Payment) -> str:
    method = (p.method or "").strip().lower()
    if method in METHOD_WORDS:
        return METHOD_WORDS[method]
    if method and not method.startswith("no money"):
        return f"by {method}"
    return KIND_METHODS.get(p.kind, "")


def _what(p: Payment) -> str:
    if p.kind == "charity" and p.charity_name:
        return f"Paid to a charity you chose: {p.charity_name}"
    return KIND_LABELS_FOR_YOU.get(p.kind, p.kind)


def _amount(p: Payment) -> str:
    if p.kind == "certificate":
        return "No money"
    if p.kind == "declined":
        return format_money(Decimal("0"))
    return format_money(p.amount)


def _offered(p: Payment) -> str | None:
    """What the person was offered, when that differs from what they took."""
    if p.kind == "declined":
        return (
            f"You were offered {format_money(p.amount_offered)} and chose not to take it." if p.amount_offered else None
        )
    if p.kind == "charity" and p.amount_offered and p.amount_offered != p.amount:
        return f"You were offered {format_money(p.amount_offered)}."
    if (
        p.amount_offered is not None
        and p.reversal_of_id is None
        and p.amount_offered > p.amount
        and p.kind != "certificate"
    ):
        return f"You were offered {format_money(p.amount_offered)} and chose to take less."
    return None


#: Said with an offer the person did not take in full (notional earnings, in plain words).
NOTIONAL_HINT = (
    "Money you were offered and did not take can still count as your earnings for some benefits, unless "
    "you took part as a service user. Your benefits page shows whether it counts; a benefits adviser can "
    "tell you more."
)


def _extra(p: Payment) -> list[str]:
    extra = []
    offered = _offered(p)
    if offered:
        extra += [offered, NOTIONAL_HINT]
    if p.kind == "training" and p.benefit_value is not None and p.benefit_value != p.amount:
        extra.append(f"The training is worth {format_money(p.benefit_value)}.")
    return extra


def _reason(p: Payment) -> list[str]:
    return [f"Reason given: {p.reason}"] if p.reason else []


def _correction_steps(p: Payment, original: Payment | None) -> list[str]:
    """The story of a correction (a reversal of an earlier payment)."""
    if original is not None:
        cancels = (
            f"This is a correction. It cancels out the payment of {format_money(original.amount)} "
            f"that reached you on {_d(original.paid_on)}, so the two together count as nothing."
        )
    else:
        cancels = "This is a correction. It cancels out an earlier payment, so the two together count as nothing."
    return [f"Recorded on {_d(p.created_at)}.", cancels, *_reason(p)]


def _paid_step(p: Payment) -> str:
    if p.kind == "certificate":
        return f"Certificate given on {_d(p.paid_on)}."
    if p.kind == "declined":
        return f"Closed on {_d(p.paid_on)}: you chose not to be paid."
    how = _paid_how(p)
    line = f"Paid on {_d(p.paid_on)}" + (f" {how}" if how else "")
    if p.reference:
        line += f" (reference {p.reference})"
    return line + "."


def _cancelled_steps(p: Payment) -> list[str]:
    when = f" on {_d(p.cancelled_at)}" if p.cancelled_at else ""
    return [
        f"Cancelled{when}. This payment will not be made, and it does not count towards any benefit limit.",
        *_reason(p),
    ]


def _status_steps(p: Payment) -> tuple[str, list[str], bool]:
    """The payment's status in words, what that status says happened, and whether it counts."""
    if p.status == "draft":
        return "Planned", [f"Waiting to be approved. Planned to reach you on {_d(p.paid_on)}."], True
    if p.status == "approved":
        return "Approved, not paid yet", [f"Planned to reach you on {_d(p.paid_on)}."], True
    if p.status == "paid":
        return "Paid", [_paid_step(p)], True
    return "Cancelled", _cancelled_steps(p), False


def _reversed_steps(reversal: Payment) -> list[str]:
    return [
        f"Corrected on {_d(reversal.created_at)}. A matching correction of "
        f"{format_money(reversal.amount)} cancels it out in our records, so it no longer counts "
        f"towards any benefit limit.",
        *_reason(reversal),
    ]


def _life(p: Payment, reversal: Payment | None) -> tuple[str, list[str], bool]:
    """What happened to a payment (not a correction): its status, its steps, and whether it counts."""
    steps = [f"Recorded on {_d(p.created_at)}."]
    if p.approved_at:
        steps.append(f"Approved on {_d(p.approved_at)}.")
    status, more, counts = _status_steps(p)
    steps += more
    if reversal is not None:
        status, counts = "Paid, then corrected", False
        steps += _reversed_steps(reversal)
    return status, steps, counts


def payment_story(p: Payment, reversal: Payment | None, original: Payment | None) -> dict:
    """One payment in plain words: what it was, its status, and what happened to it when."""
    if p.reversal_of_id:
        status, steps, counts = "Correction", _correction_steps(p, original), True
    else:
        status, steps, counts = _life(p, reversal)
    return {
        "id": p.id,
        "what": _what(p),
        "amount": _amount(p),
        "status": status,
        "steps": steps,
        "extra": _extra(p),
        "paid_on": p.paid_on,
        "counts": counts,
        "kind": p.kind,
    }


# ---- where you stand -----------------------------------------------------------------------


def _figure(measure: str, value: Decimal | None) -> str | None:
    if value is None:
        return None
    return hours(value) if measure == "hours" else format_money(value)


def _room(v) -> tuple[str | None, str | None]:
    """(headroom, over_by) in words; neither for a taper or a rule without a limit."""
    if v.headroom is None or v.is_taper:
        return None, None
    if v.headroom < 0:
        return None, _figure(v.measure, -v.headroom)
    return _figure(v.measure, v.headroom), None


def verdict_view(v) -> dict:
    """One verdict in plain words for the contributor."""
    headroom, over_by = _room(v)
    return {
        "title": v.title,
        "benefit": v.benefit,
        "period": f"{_d(v.period_start)} to {_d(v.period_end)}",
        "period_start": v.period_start,
        "period_end": v.period_end,
        "measure": v.measure,
        "total": None if v.unknown else _figure(v.measure, v.total_after),
        "limit": _figure(v.measure, v.limit),
        "headroom": headroom,
        "over_by": over_by,
        "status": v.status,
        "status_word": VERDICT_STATUS_WORDS.get(v.status, v.status),
        "effect": v.effect,
        "effect_word": wording.verdict_effect_text(v),
        "unverified": v.confidence == "unconfirmed",
        "derived": v.confidence == "derived",
        "is_taper": v.is_taper,
        "reduction": format_money(v.estimated_reduction) if v.is_taper and v.estimated_reduction else None,
        "notes": list(v.notes),
        "source": v.source if (v.source or "").startswith(("https://", "http://")) else None,
        "folded": folded(v),
    }


def benefit_heading(code: str) -> str:
    if code in BENEFIT_HEADINGS:
        return BENEFIT_HEADINGS[code]
    return BENEFIT_INFO[code].name if code in BENEFIT_INFO else code


def group_verdicts(verdicts) -> list[dict]:
    """The verdicts grouped by benefit, in the vocabulary's order of benefits."""
    groups: OrderedDict = OrderedDict()
    order = {code: i for i, code in enumerate(BENEFITS)}
    for v in sorted(verdicts, key=lambda v: (order.get(v.benefit, 99), v.title)):
        if v.benefit not in groups:
            groups[v.benefit] = {"code": v.benefit, "name": benefit_heading(v.benefit), "verdicts": []}
        groups[v.benefit]["verdicts"].append(verdict_view(v))
    return list(groups.values())


def categories(held: dict[str, int], table: tuple[tuple[str, str, str], ...]) -> list[dict]:
    """What we hold about you: each part of the data, in words, with how many rows are held."""
    return [
        {"key": key, "title": title, "description": description, "count": held.get(key, 0)}
        for key, title, description in table
    ]


# ---- the answer first ----------------------------------------------------------------------

#: How much a verdict matters to the person, for choosing the one each benefit's answer is about.
_RANK = {"over": 4, "unknown": 3, "near": 2, "ok": 1}


def reduces(v) -> bool:
    """A taper rule (Universal Credit) whose earnings are above what it allows: the benefit goes down."""
    return bool(v.is_taper and v.headroom is not None and v.headroom < 0)


def _rank(v) -> int:
    return 4 if reduces(v) else _RANK.get(v.status, 0)


def folded(v) -> bool:
    """Shown folded away, under the answer: a figure not verified yet, or a rule only for information."""
    return v.confidence == "unconfirmed" or _rank(v) == 0


def answer_verdict(verdicts):
    """The verdict a benefit's answer is about: the one that matters most among those not folded
    away (the closest to its limit when several matter as much); an unverified one only when
    nothing else was checked; None when every rule is only for information."""
    checked = [v for v in verdicts if _rank(v) > 0]
    shown = [v for v in checked if not folded(v)] or checked
    if not shown:
        return None
    return max(shown, key=lambda v: (_rank(v), -(v.headroom if v.headroom is not None else 0)))


def _limit_words(v) -> str:
    figure = _figure(v.measure, v.limit)
    if v.benefit == "TAX":
        return f"the {figure} trading allowance"
    if v.measure == "hours":
        return f"the limit of {figure}"
    return f"the {figure} limit"


def _clause(v) -> str:
    """What the verdict means for the person, in the second person."""
    if reduces(v):
        excess = _figure(v.measure, -v.headroom)
        about = f" by about {format_money(v.estimated_reduction)}" if v.estimated_reduction else ""
        return (
            f"you are {excess} over the {_figure(v.measure, v.limit)} you can have before it is reduced, "
            f"so it is likely to go down{about}"
        )
    if v.is_taper:
        return f"you have {_figure(v.measure, v.headroom)} left before it is reduced"
    if v.status == "over":
        over = _figure(v.measure, -v.headroom) if v.headroom is not None else None
        return f"you are {over} over {_limit_words(v)}" if over else f"you are over {_limit_words(v)}"
    if v.status == "near":
        return f"you are close to {_limit_words(v)}, with {_figure(v.measure, v.headroom)} left"
    return f"you have {_figure(v.measure, v.headroom)} left before {_limit_words(v)}"


def _planned(v, paid_totals: dict) -> Decimal | None:
    """How much of the verdict's total is planned (approved or draft, not paid yet)."""
    if v.measure == "hours":
        return None
    paid = paid_totals.get(paid_key(v))
    if paid is None or v.total_after - paid <= 0:
        return None
    return Decimal(v.total_after - paid)


def paid_key(v) -> tuple:
    """The key that matches a verdict with the same rule's verdict on paid payments only."""
    return (v.rule, v.benefit, v.period_start, v.period_end)


def span_words(v) -> str:
    return f"for {span_text(v.period_start, v.period_end)}"


def answer_sentence(code: str, verdicts, paid_totals: dict) -> dict:
    """One plain sentence about one benefit, in the second person: "Your Universal Credit: for
    5 November to 4 December 2026, you have £635.00 left before it is reduced." Planned payments
    (approved or draft) count in the total, and the sentence says how much of it is planned."""
    name = f"Your {BENEFIT_NAMES_INLINE.get(code, code)}"
    v = answer_verdict(verdicts)
    if v is None:
        return {
            "code": code,
            "status": "info",
            "text": f"{name}: for information only; payments are not checked against it.",
        }
    if v.status == "unknown":
        text = (
            f"{name}: not checked, because no benefit rule covers your claim on this date; "
            "ask the person who runs your group before you are paid."
        )
        return {"code": code, "status": "unknown", "text": text}
    planned = _planned(v, paid_totals)
    if planned is not None:
        paid = _figure(v.measure, v.total_after - planned)
        lead = (
            f"{span_words(v)}, {paid} paid and {format_money(planned)} planned: "
            f"together {_figure(v.measure, v.total_after)}, so {_clause(v)}"
        )
    else:
        lead = f"{span_words(v)}, {_clause(v)}"
    unverified = " (this figure is not verified yet)" if v.confidence == "unconfirmed" else ""
    status = "over" if reduces(v) else v.status
    return {"code": code, "status": status, "text": f"{name}: {lead}{unverified}."}


def answers(verdicts, paid_totals: dict) -> list[dict]:
    """One answer per benefit, in the vocabulary's order of benefits (the trading allowance last)."""
    order = {code: i for i, code in enumerate(BENEFITS)}
    by_code: OrderedDict = OrderedDict()
    for v in sorted(verdicts, key=lambda v: (v.benefit == "TAX", order.get(v.benefit, 99))):
        by_code.setdefault(v.benefit, []).append(v)
    return [answer_sentence(code, vs, paid_totals) for code, vs in by_code.items()]
