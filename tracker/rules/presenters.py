"""Wording and table rows for the benefit-rule pages: a rule in plain words, the list grouped by
benefit, the revision diff, the rows of a rule pack's errors, and the rule checks' messages reworded
for the edit form's labels.

Plain functions of rules, revisions and messages: no queries, no request, no writes. The words of
codes shared with other pages (benefit names, rule statuses) come from ``tracker.vocab``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from tracker import vocab
from tracker.engine import pack, periods
from tracker.engine.core import Rule
from tracker.money import format_money
from tracker.people.models import PREFERENCE_LABELS
from tracker.rules.forms import CONFIDENCE_CHOICES, DATE_BASIS_CHOICES, EXPENSES_CHOICES, decimal_text
from tracker.rules.models import RuleRevision
from tracker.timeutil import day_text, when_text

# ---- plain words ------------------------------------------------------------------------------

FIELD_LABELS = {
    "code": "Code",
    "family": "Family (all versions of this rule)",
    "benefit": "Benefit",
    "title": "Title",
    "measure": "What it adds up",
    "kind": "Kind of rule",
    "limit": "Limit",
    "breach": "When it is broken",
    "period": "Period",
    "week_start": "Week starts on",
    "counts": "What counts",
    "counts.kinds": "Payment kinds that count",
    "counts.training_at_value": "Training counts at its declared value",
    "counts.expenses": "Reimbursed expenses",
    "counts.other_income": "Income declared from elsewhere counts",
    "counts.partner": "A partner's earnings count",
    "date_basis": "Count money by",
    "spread": "A payment for a period of work",
    "affects": "A week's earnings decide",
    "warn_at": "Warning level",
    "severity": "Severity",
    "taper_rate": "Taper rate",
    "applies_when": "Applies to",
    "applies_when.benefit": "Applies to people receiving",
    "applies_when.attributes": "Only when the claim says",
    "effective_from": "In force from",
    "effective_to": "In force until",
    "confidence": "How sure we are of the figure",
    "source": "Official source",
    "sources": "Other sources",
    "notes": "Notes for admins",
    "message": "Reminder added to every check",
    "reason": "Reason",
    "rule": "Rule",
    "pack": "The file",
}
CONFIDENCE_WORDS = {
    "confirmed": "Confirmed from legislation, an official text or CPAG",
    "secondary": "From a reputable secondary source",
    "derived": "Derived from a formula",
    "unconfirmed": "Figure not verified",
}
CHANGE_WORDS = {
    "loaded": "Loaded from a rule pack",
    "edited": "Edited",
    "confirmed": "Figure confirmed",
    "retired": "Retired",
}
SEVERITY_WORDS = {"block": "Blocks a payment", "warn": "Warns"}
#: A severity as one word, in the revision diff.
SEVERITY_SHORT = {"block": "Block", "warn": "Warn"}
KIND_WORDS = {
    "cliff": "A limit: going over it breaks the rule",
    "taper": "A taper: above the limit the benefit is reduced, but not lost",
    "info": "Information only: it never blocks a payment",
}
MEASURE_WORDS = {"earnings": "Earnings (money)", "hours": "Hours worked"}
BREACH_WORDS = {
    "above": "When the total is more than the limit (exactly at the limit is not over)",
    "at_or_above": "When the total reaches the limit",
}
DATE_BASIS_WORDS = dict(DATE_BASIS_CHOICES)
EXPENSES_WORDS = dict(EXPENSES_CHOICES)
CONFIDENCE_CHOICE_WORDS = dict(CONFIDENCE_CHOICES)
#: Stored values shown through a table of words in the revision diff.
VALUE_WORDS: dict[str, Mapping[str, str]] = {
    "severity": SEVERITY_SHORT,
    "confidence": CONFIDENCE_CHOICE_WORDS,
    "date_basis": DATE_BASIS_WORDS,
    "counts.expenses": EXPENSES_WORDS,
}

benefit_name = vocab.benefit_name


def figure_text(rule: Rule) -> str:
    """£196.00, 16 hours, or a plain sentence for a rule with no figure."""
    if rule.limit is None:
        return "No figure (information only)"
    if rule.measure == "hours":
        n = decimal_text(rule.limit)
        return f"{n} hour" if rule.limit == 1 else f"{n} hours"
    return format_money(rule.limit)


def taper_text(rule: Rule) -> str:
    if rule.taper_rate is None:
        return ""
    if rule.taper_rate == 1:
        return "Pound for pound: £1 less benefit for each £1 over the limit"
    pence = decimal_text(rule.taper_rate * 100)
    return f"{pence}p less benefit for each £1 over the limit"


def period_text(rule: Rule) -> str:
    try:
        name, n = periods.parse_period(rule.period)
    except periods.PeriodError:
        return rule.period
    day = (rule.week_start or "monday").capitalize()
    return {
        "week": f"Each week, starting on {day}",
        "uc_assessment_period": "Each Universal Credit assessment period (monthly, from the person's own start day)",
        "calendar_month": "Each calendar month",
        "tax_year": "Each tax year (6 April to 5 April)",
        "rolling_weeks": f"Blocks of {n} weeks from the start of the claim",
        "rolling_days": f"Blocks of {n} days from the start of the claim",
        "per_payment": "Each payment on its own",
        "none": "Each day on its own",
    }.get(name, rule.period)


def warn_text(rule: Rule) -> str:
    percent = decimal_text(rule.warn_at * 100)
    if rule.limit is None:
        return f"{percent}% of the limit"
    level = rule.limit * rule.warn_at
    if rule.measure == "hours":
        return f"{percent}% of the limit ({decimal_text(level.quantize(Decimal('0.01')))} hours)"
    return f"{percent}% of the limit ({format_money(level)})"


def kinds_text(kinds: Iterable[str]) -> str:
    order = {k: i for i, k in enumerate(vocab.PAYMENT_KINDS)}
    names = [PREFERENCE_LABELS.get(k, k) for k in sorted(kinds, key=lambda k: (order.get(k, len(order)), str(k)))]
    return ", ".join(names) if names else "None"


def attributes_text(attributes: dict) -> str:
    if not attributes:
        return ""
    parts = []
    for k, v in sorted(attributes.items()):
        if isinstance(v, bool):
            v = "yes" if v else "no"
        parts.append(f"{k.replace('_', ' ')}: {str(v).replace('_', ' ')}")
    return "; ".join(parts)


def severity_text(rule: Rule) -> str:
    return SEVERITY_WORDS[rule.effective_severity]


def notional_setting(payer: str | None) -> dict:
    """The organisation's payer kind and what it means for notional earnings, for the rules page."""
    from tracker.rules.wording import EXEMPTION_WORDS

    rows = [
        {
            "benefit": vocab.BENEFIT_NAMES[code],
            "exemptions": [EXEMPTION_WORDS[e] for e in basis.exemptions],
            "source": basis.source,
        }
        for code, basis in vocab.NOTIONAL_EARNINGS.items()
    ]
    return {"payer": vocab.PAYER_LABELS.get(payer or "", "Not set"), "charity": payer == "charity", "rows": rows}


def helpers() -> dict:
    """The words and functions every rule page's template uses."""
    return {
        "benefit_name": benefit_name,
        "figure_text": figure_text,
        "taper_text": taper_text,
        "period_text": period_text,
        "warn_text": warn_text,
        "kinds_text": kinds_text,
        "attributes_text": attributes_text,
        "severity_text": severity_text,
        "when_text": when_text,
        "standing": standing,
        "FIELD_LABELS": FIELD_LABELS,
        "CONFIDENCE_WORDS": CONFIDENCE_WORDS,
        "CHANGE_WORDS": CHANGE_WORDS,
        "STATUS_WORDS": vocab.RULE_STATUS_WORDS,
        "KIND_WORDS": KIND_WORDS,
        "MEASURE_WORDS": MEASURE_WORDS,
        "BREACH_WORDS": BREACH_WORDS,
        "DATE_BASIS_WORDS": DATE_BASIS_WORDS,
        "EXPENSES_WORDS": EXPENSES_WORDS,
    }


# ---- the list -----------------------------------------------------------------------------------


def standing(row: RuleRevision, rule: Rule, today: date) -> str:
    """Where a version stands on ``today``: "In force today", "Starts on 6 April 2027",
    "Ended on 5 April 2026", or the stored status (retired, replaced) when it is not in use."""
    if row.status != "active":
        return vocab.RULE_STATUS_WORDS.get(row.status, row.status)
    if rule.effective_from > today:
        return f"Starts on {day_text(rule.effective_from)}"
    if rule.effective_to is not None and rule.effective_to < today:
        return f"Ended on {day_text(rule.effective_to)}"
    return "In force today"


def summary(row: RuleRevision, rule: Rule, today: date) -> dict:
    """What the list shows for one rule."""
    return {
        "code": rule.code,
        "title": rule.title,
        "benefit": rule.benefit,
        "figure": figure_text(rule),
        "taper": taper_text(rule),
        "period": period_text(rule),
        "effective_from": rule.effective_from,
        "effective_to": rule.effective_to,
        "confidence": rule.confidence,
        "confidence_words": CONFIDENCE_WORDS[rule.confidence],
        "severity": severity_text(rule),
        "status": standing(row, rule, today),
        "revision": row.revision,
    }


def grouped(pairs: Iterable[tuple[RuleRevision, Rule]], today: date) -> list[tuple[str, str, list[dict]]]:
    """[(benefit code, benefit name, [summary])] in the order of vocab.BENEFITS."""
    by_benefit: dict[str, list[dict]] = {}
    for row, rule in pairs:
        by_benefit.setdefault(rule.benefit, []).append(summary(row, rule, today))
    out = []
    for code in vocab.BENEFITS + tuple(sorted(set(by_benefit) - set(vocab.BENEFITS))):
        items = by_benefit.get(code)
        if items:
            items.sort(key=lambda s: (s["title"], s["effective_from"], s["code"]))
            out.append((code, benefit_name(code), items))
    return out


# ---- the revision diff ----------------------------------------------------------------------------


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _sources_text(value: Iterable) -> str:
    return "; ".join(f"{s.get('title')} ({s.get('url')})" if isinstance(s, dict) else str(s) for s in value)


def _day_text(value: object) -> str:
    try:
        d = date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return day_text(d)


def _percent_text(value: object) -> str:
    try:
        return f"{decimal_text(Decimal(str(value)) * 100)}%"
    except ArithmeticError:
        return str(value)


def _keyed_text(key: str, value: object) -> str | None:
    """A value whose wording depends on its field, or None when the field has none of its own."""
    if key == "counts.kinds":
        return kinds_text(value)  # type: ignore[arg-type]
    if key == "sources":
        return _sources_text(value)  # type: ignore[arg-type]
    if key == "applies_when.attributes" and isinstance(value, dict):
        return attributes_text(value)
    if key in ("effective_from", "effective_to"):
        return _day_text(value)
    if key == "warn_at":
        return _percent_text(value)
    if key in VALUE_WORDS:
        return VALUE_WORDS[key].get(value, str(value))  # type: ignore[call-overload]
    if key in ("benefit", "applies_when.benefit"):
        return benefit_name(value)  # type: ignore[arg-type]
    return None


def value_text(key: str, value: object) -> str:
    """One stored field value in plain words (for the revision diff)."""
    if _is_empty(value):
        return "(none)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if key == "limit":
        return str(value)
    text = _keyed_text(key, value)
    if text is not None:
        return text
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _flat(definition: dict | None) -> dict:
    out = {}
    for k, v in (definition or {}).items():
        if k in ("counts", "applies_when") and isinstance(v, dict):
            for kk, vv in v.items():
                out[f"{k}.{kk}"] = vv
        else:
            out[k] = v
    return out


def diff(before: dict | None, after: dict | None) -> list[dict]:
    """Field-by-field changes between two stored definitions: [{field, label, before, after}]."""
    a, b = _flat(before), _flat(after)
    order = list(pack.FIELDS)
    keys = sorted(
        set(a) | set(b), key=lambda k: (order.index(k.split(".")[0]) if k.split(".")[0] in order else len(order), k)
    )
    out = []
    for k in keys:
        if a.get(k) != b.get(k):
            out.append(
                {
                    "field": k,
                    "label": FIELD_LABELS.get(k, k),
                    "before": value_text(k, a.get(k)),
                    "after": value_text(k, b.get(k)),
                }
            )
    return out


def history(revisions: list[RuleRevision]) -> list[tuple[RuleRevision, list[dict] | None]]:
    """Each revision, newest first, with what it changed from the one before (None for the first)."""
    out = []
    for i, rev in enumerate(revisions):
        previous = revisions[i + 1] if i + 1 < len(revisions) else None
        out.append((rev, diff(previous.definition, rev.definition) if previous else None))
    return out


# ---- rule-pack errors -----------------------------------------------------------------------------

_LOAD_KEY = re.compile(r"^rules\[(\d+)\](?: \((.*)\))?\.(.+)$")


def _load_place(key: str) -> tuple[str, str]:
    """Where in the pack an error's key points: (which rule, which field)."""
    m = _LOAD_KEY.match(key)
    if m:
        n, label, field = m.groups()
        where = f"Rule {int(n) + 1}" + (f" ({label})" if label else "")
        field_label = FIELD_LABELS.get(field, field)
        if field_label != field:
            field_label = f"{field_label} ({field})"
        return where, field_label
    if key.startswith("family "):
        return f"Versions of {key.split(' ', 1)[1]}", "effective_from, effective_to"
    return "The whole file", FIELD_LABELS.get(key, key)


def load_errors(fields: Mapping[str, list[str]]) -> list[dict]:
    """ValidationFailed fields from a pack as rows: [{where, field, message}]."""
    out = []
    for key, messages in fields.items():
        where, field_label = _load_place(key)
        for message in messages:
            out.append({"where": where, "field": field_label, "message": message})
    return out


def load_failed(filename: str, count: int) -> str:
    return f"{filename} has {count} {'error' if count == 1 else 'errors'}, listed below. Nothing was loaded."


def load_unreadable(filename: str, error: Exception) -> str:
    return f"{filename} could not be read as a rule pack ({error or type(error).__name__}). Nothing was loaded."


def loaded(filename: str, counts: Mapping[str, int]) -> str:
    return (
        f"{filename} has been loaded: {counts['added']} added, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged."
    )


# ---- the edit form's messages ---------------------------------------------------------------------

# Rule-check messages written for rule-pack authors, reworded for the form's labels.
FORM_MESSAGES = {
    (
        "effective_to",
        "effective_to is before effective_from.",
    ): "The date in “In force until” must be on or after the date in “In force from”.",
    ("title", "This field is required."): "Enter a title.",
    ("source", "This field is required."): "Enter the address of the official source.",
    ("effective_from", "This field is required."): "Enter the date the rule starts",
}
WARN_AT_MESSAGE = "The percentage must be more than 0 and at most 100."
#: Fields of the form that never show a message of their own.
_UNSHOWN = ("csrf_token", "revision")


def form_name(key: str) -> str:
    """A rule field's name on the edit form: what the rule counts is flattened (counts.kinds is counts_kinds)."""
    return key.replace(".", "_", 1) if key.startswith("counts.") else key


def _reworded(name: str, messages: Iterable[str]) -> list[str]:
    # warn_at messages are about the stored fraction, so they are reworded for the percentage box.
    if name == "warn_at":
        return [WARN_AT_MESSAGE]
    return [FORM_MESSAGES.get((name, m), m) for m in messages]


def form_errors(field_names: Iterable[str], fields: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """A ValidationFailed's (or a RuleError's) per-field messages, reworded for the edit form.

    Keys become the form's field names ("counts.kinds" -> "counts_kinds"); a message for no field
    shown on the form goes under "" (the error summary), led by the field's label. No message is
    listed twice. Put the result on the form with ``pages.put_errors``.
    """
    shown = set(field_names) - set(_UNSHOWN)
    out: dict[str, list[str]] = {}
    for key, messages in fields.items():
        name = form_name(key)
        reworded = _reworded(name, messages)
        if name not in shown:
            label = FIELD_LABELS.get(key)
            name = ""
            reworded = [f"{label}: {m}" if label and key not in ("rule", "pack") else m for m in reworded]
        into = out.setdefault(name, [])
        into.extend(m for m in dict.fromkeys(reworded) if m not in into)
    return out


def clash_messages(code: str, messages: Iterable[str]) -> dict[str, list[str]]:
    """The pack check's "in force on" messages for an edited rule, as form messages: the edit
    would put two versions of the rule's family in force on one day."""
    out: dict[str, list[str]] = {}
    for m in messages:
        if "in force on" not in m:
            continue
        name = "effective_to" if m.startswith(f"{code} and ") else "effective_from"
        out.setdefault(name, []).append(
            m.replace("are both in force on", "would both be in force on")
            + " Change the dates so that the versions do not overlap."
        )
    return out


def edited_meanwhile(revision: int) -> str:
    return (
        f"Someone else changed this rule while you were editing it (it is now revision {revision}). "
        "Check the rule's page for what they changed; save again to replace it with what is below."
    )
