"""The one redaction of benefit information, for whoever may not see which benefits a person gets.

Benefit information is special-category data: admins, coordinators and the person themself may see
it; finance may not (DESIGN.md: for finance, ``rule``, ``benefit``, ``family``, ``title`` and
``source`` are neutral or null everywhere). Every place a verdict, a suggestion, a rule code, a
risk flag or an audit detail reaches someone goes through here: the API (answers and error bodies),
the pages, the audit page and documents.

Finance still gets what it needs to decide: each rule is described neutrally from its period and
kind ("a weekly earnings limit that stops a benefit", "a monthly earnings limit above which a
benefit is reduced"), with the period, totals, limit and headroom. The trading allowance is income
tax, not a benefit, and keeps its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from tracker.vocab import BENEFIT_INFO_ROLES, BENEFIT_NAMES, BENEFIT_NAMES_INLINE, TAX

#: The title anyone without the right to see benefit information reads instead of a rule's title.
NEUTRAL_TITLE = "A benefit rule"
#: A rule's title inside a sentence (a suggestion's explanation), for the same readers.
NEUTRAL_LIMIT = "the benefit limit"
#: The fields of a verdict or a flag that name the rule, the benefit or where the rule comes from.
NAMED_FIELDS = ("rule", "family", "benefit", "title", "source")
#: Roles that see benefit information (a contributor sees only their own person, which access checks).
SEES_BENEFITS = (*BENEFIT_INFO_ROLES, "contributor")


def sees_benefits(role: str | None) -> bool:
    """Whether this role may read benefit names (finance may not)."""
    return role in SEES_BENEFITS


def hides_for(user: Any) -> bool:
    """Whether what reaches this user must be redacted."""
    return not sees_benefits(getattr(user, "role", None))


# --- a neutral description of a rule -------------------------------------------------------------


def _period_word(period: Mapping | None) -> str:
    """The rule's period as an adjective, from the period a verdict covers."""
    try:
        start = date.fromisoformat(str((period or {})["start"]))
        end = date.fromisoformat(str((period or {})["end"]))
    except (KeyError, ValueError):
        return ""
    days = (end - start).days + 1
    if days == 1:
        return "per-payment"
    if days == 7:
        return "weekly"
    if 28 <= days <= 31:
        return "monthly"
    if days in (365, 366):
        return "yearly"
    return f"{days}-day"


def _kind(v: Mapping) -> str:
    if v.get("status") in ("info", "unknown") or v.get("level") == "manual":
        return str(v.get("status") or v.get("level"))
    if v.get("estimated_reduction") is not None:
        return "taper"
    return "cliff"


def describe(v: Mapping) -> str:
    """A rule in neutral words, from a verdict's (or a flag's) period, measure and kind."""
    kind = _kind(v)
    if kind == "unknown":
        return "A benefit claim that no rule covers on this date: not checked"
    if kind == "manual":
        return "A concern raised by a coordinator"
    if kind == "info":
        return "Information about a benefit, with no limit"
    word = _period_word(v.get("period") or {"start": v.get("period_start"), "end": v.get("period_end")})
    what = "hours limit" if v.get("measure") == "hours" else "earnings limit"
    text = f"A {word} {what}" if word else f"An {what}"
    if kind == "taper":
        return f"{text} above which a benefit is reduced"
    return f"{text} that stops a benefit"


# --- verdicts, checks, flags ---------------------------------------------------------------------


def is_tax(v: Mapping) -> bool:
    """The trading allowance is tax, not a benefit: it keeps its name."""
    return v.get("benefit") == TAX


def verdict(v: Mapping) -> dict:
    """One verdict (the engine's JSON) with the rule and the benefit left out."""
    if is_tax(v):
        return {**v, "benefit": None}  # the field is always null for finance; the tax rule keeps its name
    out = {**v, "rule": None, "family": None, "benefit": None, "title": NEUTRAL_TITLE, "source": None}
    if "notes" in v:
        out["notes"] = []
    if v.get("notional"):
        # the amounts only: which exemptions a benefit allows, and its regulation, name the benefit
        out["notional"] = {**v["notional"], "exemptions": None, "considered": None, "source": None}
    out["description"] = describe(v)
    return out


def verdicts(vs: Iterable[Mapping] | None) -> list[dict]:
    return [verdict(v) for v in vs or []]


def scrub(text: str, named: Iterable[Mapping] | None = None) -> str:
    """Free text the tracker wrote (a suggestion's explanation) without rule titles or benefit names.

    ``named`` are the verdicts the text may mention: their titles become "the benefit limit"."""
    titles = sorted({str(v["title"]) for v in named or [] if v.get("title") and not is_tax(v)}, key=len, reverse=True)
    for title in titles:
        text = text.replace(f"the {title}", NEUTRAL_LIMIT).replace(title, NEUTRAL_LIMIT)
    names = {n for code, n in [*BENEFIT_NAMES.items(), *BENEFIT_NAMES_INLINE.items()] if code != TAX}
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "a benefit")
    return text


def _rules_used(rows: Iterable[Mapping], named: list[Mapping]) -> list[dict]:
    """Only the trading allowance's rule code stays; a benefit rule's code names the benefit."""
    tax_codes = {v.get("rule") for v in named if is_tax(v)}
    return [dict(r) for r in rows if r.get("code") in tax_codes]


def check(body: Mapping | None) -> dict | None:
    """A check (or a stored check) with every verdict, suggestion and rule code made neutral."""
    if body is None:
        return None
    named = list(body.get("verdicts") or [])
    out = dict(body)
    if "verdicts" in body:
        out["verdicts"] = verdicts(named)
    if "suggestions" in body:
        out["suggestions"] = [
            {**s, "explanation": scrub(str(s.get("explanation") or ""), named)} for s in body.get("suggestions") or []
        ]
    if "rules_used" in body:
        out["rules_used"] = _rules_used(body.get("rules_used") or [], named)
    return out


def check_for(user: Any, body: Mapping | None) -> dict | None:
    """The check as this user may see it."""
    if body is None or not hides_for(user):
        return dict(body) if body is not None else None
    return check(body)


def flag(d: Mapping) -> dict:
    """A risk flag's JSON with the rule and the benefit left out."""
    if is_tax(d):
        return {**d, "benefit": None}
    return {
        **d,
        "rule": None,
        "family": None,
        "benefit": None,
        "title": NEUTRAL_TITLE,
        "source": None,
        "description": describe(d),
    }


# --- audit details -------------------------------------------------------------------------------


def tax_codes() -> frozenset[str]:
    """The codes of the rules in force for the trading allowance (tax), which keep their names."""
    from tracker.rules import service as rules_service

    return frozenset(
        rule.code for _, rule in rules_service.active_rules() if getattr(rule.applies_when, "benefit", None) == TAX
    )


def _detail_dict(d: Mapping, tax_codes: frozenset[str]) -> dict:
    if is_tax(d) or (d.get("rule") in tax_codes and "benefit" not in d):
        return {**d, "benefit": None} if "benefit" in d else dict(d)
    out = {k: detail(v, tax_codes) for k, v in d.items()}
    for key in NAMED_FIELDS:
        if key in out:
            out[key] = None
    if "code" in out and "revision" in out:  # a rules_used entry
        out["code"] = None
    if "notes" in out and isinstance(out["notes"], list):
        out["notes"] = []
    if "explanation" in out:
        out["explanation"] = scrub(str(out["explanation"] or ""), d.get("verdicts"))
    return out


def detail(data: Any, tax_codes: frozenset[str] = frozenset()) -> Any:
    """An audit event's before or after (or any stored JSON) without benefit names or rule codes.

    ``tax_codes`` are the trading allowance's rule codes, which keep their names."""
    if isinstance(data, Mapping):
        return _detail_dict(data, tax_codes)
    if isinstance(data, list):
        return [detail(v, tax_codes) for v in data]
    if isinstance(data, str):
        return scrub(data)
    return data
