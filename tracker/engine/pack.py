"""Rule packs: read and check rules written as dicts or as a YAML file.

A rule pack is a YAML document: either a list of rules, or a mapping with a ``rules`` list (and
any other keys, such as ``pack`` metadata, which are kept for people and ignored here). Each rule
is a mapping with the fields of ``engine.Rule``. Money figures, ``warn_at`` and ``taper_rate`` are
written as strings (``"196.00"``, ``"0.9"``) and read as ``Decimal``; a YAML float is refused,
because a float cannot hold money exactly.

``parse_rule`` checks every field and raises ``RuleError`` with a plain-English message per field.
``rule_to_dict`` turns a ``Rule`` back into plain data (strings, booleans, lists) that
``parse_rule`` reads back to an equal ``Rule``: suitable for a JSON column or an admin form.

Pure: PyYAML and the standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

import tracker.vocab as vocab
from tracker.engine import periods
from tracker.engine.core import AppliesWhen, Counts, Rule, Source
from tracker.vocab import AFFECTS, FIRST_YEAR, LAST_YEAR

DEFAULT_PACK = "uk-default.yaml"
#: The largest rule pack read, in bytes (the shipped UK pack is a few tens of kilobytes).
MAX_PACK_BYTES = 1024 * 1024

FIELDS = (
    "code",
    "family",
    "benefit",
    "title",
    "measure",
    "kind",
    "limit",
    "breach",
    "period",
    "week_start",
    "counts",
    "date_basis",
    "spread",
    "affects",
    "warn_at",
    "severity",
    "taper_rate",
    "applies_when",
    "effective_from",
    "effective_to",
    "next_uprating",
    "confidence",
    "source",
    "sources",
    "notes",
    "message",
)
REQUIRED = ("code", "benefit", "title", "measure", "kind", "effective_from", "confidence", "source")
COUNTS_FIELDS = ("kinds", "training_at_value", "expenses", "other_income", "partner")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


class RuleError(ValueError):
    """A rule (or a pack) that does not pass the checks. ``fields`` maps field names to messages."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = {k: list(v) for k, v in fields.items()}
        summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in self.fields.items())
        super().__init__(f"Invalid rule: {summary}" if summary else "Invalid rule.")


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)


# --- field readers -----------------------------------------------------------------------------


def _one_of(
    d: Mapping[str, Any], name: str, allowed: tuple[str, ...], errors: _Errors, default: str | None = None
) -> Any:
    value = d.get(name, default)
    if value is None:
        if default is None:
            errors.add(name, "This field is required.")
        return None
    if value not in allowed:
        errors.add(name, f"Unknown value {value!r}. Use one of: {', '.join(allowed)}.")
        return None
    return value


def _text(d: Mapping[str, Any], name: str, errors: _Errors, required: bool = False, default: str = "") -> str | None:
    value = d.get(name)
    if value is None:
        if required:
            errors.add(name, "This field is required.")
            return None
        return default
    if not isinstance(value, str):
        errors.add(name, f"Write this as text, not {type(value).__name__}.")
        return None
    value = value.strip()
    if required and not value:
        errors.add(name, "This field is required.")
        return None
    return value


def _decimal(
    value: object, name: str, errors: _Errors, places: int | None = 2, what: str = "a number"
) -> Decimal | None:
    """Read a Decimal from a string, Decimal or int. Floats are refused."""
    if isinstance(value, bool):
        errors.add(name, f'Write {what} as text, for example "196.00", not true or false.')
        return None
    if isinstance(value, float):
        errors.add(
            name,
            f'Write {what} in quotes, for example "196.00": a number without quotes is read as a '
            "float, which cannot hold money exactly.",
        )
        return None
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            errors.add(name, f"{value!r} is not a number.")
            return None
    else:
        errors.add(name, f'Write {what} as text, for example "196.00", not {type(value).__name__}.')
        return None
    if not d.is_finite():
        errors.add(name, "Use a real number.")
        return None
    if places is not None:
        exponent = d.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places and d != d.quantize(Decimal(1).scaleb(-places)):
            errors.add(name, f"Use at most {places} decimal places.")
            return None
    return d


def _date(d: Mapping[str, Any], name: str, errors: _Errors, required: bool = True) -> date | None:
    value = d.get(name)
    if value is None:
        if required:
            errors.add(name, "This field is required.")
        return None
    if isinstance(value, datetime):
        errors.add(name, "Give a date (YYYY-MM-DD) without a time.")
        return None
    day = _as_date(value)
    if day is None:
        errors.add(name, f"{value!r} is not a date: write it as YYYY-MM-DD.")
    elif not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors.add(name, f"Give a date between {FIRST_YEAR} and {LAST_YEAR}.")
        return None
    return day


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _bool(value: object, name: str, errors: _Errors, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        errors.add(name, "Use true or false.")
        return default
    return value


def _counts(value: object, errors: _Errors) -> Counts | None:
    if value is None:
        return Counts()
    if not isinstance(value, Mapping):
        errors.add(
            "counts", "Give counts as a mapping with kinds, training_at_value, expenses, other_income and partner."
        )
        return None
    ok = True
    for key in value:
        if key not in COUNTS_FIELDS:
            errors.add(f"counts.{key}", f"Unknown field. Use: {', '.join(COUNTS_FIELDS)}.")
            ok = False
    kinds = value.get("kinds", ["cash", "bank_transfer", "voucher", "charity"])
    if isinstance(kinds, str) or not isinstance(kinds, (list, tuple, set, frozenset)):
        errors.add("counts.kinds", "Give a list of payment kinds.")
        ok = False
        kinds = []
    for k in kinds:
        if k not in vocab.PAYMENT_KINDS:
            errors.add("counts.kinds", f"Unknown payment kind {k!r}. Use: {', '.join(vocab.PAYMENT_KINDS)}.")
            ok = False
    training = _bool(value.get("training_at_value"), "counts.training_at_value", errors, False)
    other = _bool(value.get("other_income"), "counts.other_income", errors, True)
    partner = _bool(value.get("partner"), "counts.partner", errors, False)
    expenses = value.get("expenses", "unless_service_user")
    if expenses not in vocab.EXPENSE_MODES:
        errors.add("counts.expenses", f"Unknown value {expenses!r}. Use one of: {', '.join(vocab.EXPENSE_MODES)}.")
        ok = False
    if not ok or any(errors.fields.get(f"counts.{name}") for name in ("training_at_value", "other_income", "partner")):
        return None
    return Counts(frozenset(kinds), training, expenses, other, partner)


def _applies_when(value: object, benefit: str | None, errors: _Errors) -> AppliesWhen | None:
    if value is None:
        return AppliesWhen(benefit) if benefit else None
    if not isinstance(value, Mapping):
        errors.add("applies_when", "Give applies_when as a mapping: {benefit: CODE, attributes: {...}}.")
        return None
    for key in value:
        if key not in ("benefit", "attributes"):
            errors.add(f"applies_when.{key}", "Unknown field. Use benefit and attributes.")
    aw_benefit = value.get("benefit", benefit)
    if aw_benefit not in vocab.BENEFITS:
        errors.add("applies_when.benefit", f"Unknown benefit {aw_benefit!r}. Use one of: {', '.join(vocab.BENEFITS)}.")
        return None
    attrs = value.get("attributes") or {}
    if not isinstance(attrs, Mapping):
        errors.add("applies_when.attributes", "Give attributes as a mapping of name to value.")
        return None
    for k, v in attrs.items():
        if not isinstance(k, str) or not isinstance(v, (str, bool, int)) or isinstance(v, float):
            errors.add("applies_when.attributes", f"Attribute {k!r} must be text, true/false or a whole number.")
            return None
    if any(k.startswith("applies_when.") for k in errors.fields):
        return None
    return AppliesWhen(aw_benefit, attrs)


def _sources(value: object, errors: _Errors) -> tuple[Source, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        errors.add("sources", "Give a list of {title, url}.")
        return None
    out = []
    for n, s in enumerate(value):
        if isinstance(s, Source):
            out.append(s)
            continue
        if not isinstance(s, Mapping) or set(s) - {"title", "url"} or not s.get("url"):
            errors.add("sources", f"Source {n + 1} must be {{title, url}} with a url.")
            return None
        url = s["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            errors.add("sources", f"Source {n + 1}: the url must start with http:// or https://.")
            return None
        out.append(Source(str(s.get("title") or url), url))
    return tuple(out)


# --- parse_rule --------------------------------------------------------------------------------


def _code(d: Mapping[str, Any], errors: _Errors) -> tuple[str | None, str | None]:
    """The rule's code and family (the family defaults to the code)."""
    code = _text(d, "code", errors, required=True)
    if code and not CODE_RE.match(code):
        errors.add("code", "Use capital letters, digits and underscores, starting with a letter (e.g. CA_EARN_2025).")
    family = _text(d, "family", errors) or code
    if family and not CODE_RE.match(family):
        errors.add("family", "Use capital letters, digits and underscores, starting with a letter.")
    return code, family


def _choices(d: Mapping[str, Any], errors: _Errors) -> dict[str, Any]:
    """The fields besides the benefit that take one of a fixed set of codes."""
    return {
        "measure": _one_of(d, "measure", vocab.MEASURES, errors),
        "kind": _one_of(d, "kind", vocab.RULE_KINDS, errors),
        "breach": _one_of(d, "breach", vocab.BREACHES, errors, default="above"),
        "date_basis": _one_of(d, "date_basis", vocab.DATE_BASES, errors, default="received"),
        "affects": _one_of(d, "affects", AFFECTS, errors, default="period"),
        "severity": _one_of(d, "severity", vocab.SEVERITIES, errors, default="warn"),
        "confidence": _one_of(d, "confidence", vocab.CONFIDENCES, errors),
    }


def _limit(d: Mapping[str, Any], kind: str | None, errors: _Errors) -> Decimal | None:
    if d.get("limit") is None:
        if kind in ("cliff", "taper"):
            errors.add("limit", f"A {kind} rule needs a limit.")
        return None
    limit = _decimal(d["limit"], "limit", errors, places=2, what="the limit")
    if limit is not None and limit < 0:
        errors.add("limit", "The limit cannot be negative.")
        return None
    return None if limit is None else limit.quantize(Decimal("0.01"))


def _period(d: Mapping[str, Any], errors: _Errors) -> tuple[Any, Any]:
    """The period and the default week start, each checked by ``periods``."""
    period = d.get("period", "week")
    try:
        periods.parse_period(period)
    except periods.PeriodError as exc:
        errors.add("period", str(exc))
        period = None
    week_start = d.get("week_start", "monday")
    try:
        periods.weekday_number(week_start)
        week_start = week_start.lower()
    except periods.PeriodError as exc:
        errors.add("week_start", str(exc))
    return period, week_start


def _fractions(d: Mapping[str, Any], kind: str | None, errors: _Errors) -> tuple[Decimal | None, Decimal | None]:
    """``warn_at`` (default 0.9) and ``taper_rate``: fractions from just above 0 to 1."""
    warn_at: Decimal | None = Decimal("0.9")
    if d.get("warn_at") is not None:
        warn_at = _decimal(d["warn_at"], "warn_at", errors, places=None, what="warn_at")
        if warn_at is not None and not (0 < warn_at <= 1):
            errors.add("warn_at", 'warn_at is a fraction of the limit: more than 0 and at most 1 (e.g. "0.9").')
    taper_rate = None
    if d.get("taper_rate") is not None:
        taper_rate = _decimal(d["taper_rate"], "taper_rate", errors, places=None, what="the taper rate")
        if taper_rate is not None and not (0 < taper_rate <= 1):
            errors.add("taper_rate", "The taper rate is the share of each £1 lost: more than 0 and at most 1.")
        if kind is not None and kind != "taper":
            errors.add("taper_rate", "Only a taper rule has a taper rate.")
    return warn_at, taper_rate


def _dates(d: Mapping[str, Any], errors: _Errors) -> tuple[date | None, date | None]:
    effective_from = _date(d, "effective_from", errors)
    effective_to = _date(d, "effective_to", errors, required=False)
    if effective_from and effective_to and effective_to < effective_from:
        errors.add("effective_to", "effective_to is before effective_from.")
    return effective_from, effective_to


def _source(d: Mapping[str, Any], errors: _Errors) -> str | None:
    source = _text(d, "source", errors, required=True)
    if source and not source.startswith(("http://", "https://")):
        errors.add("source", "Give the address of the official text, starting with http:// or https://.")
    return source


def _check_combinations(c: Mapping[str, Any], errors: _Errors) -> None:
    """Fields that are fine alone but not together."""
    severity, kind = c["severity"], c["kind"]
    if severity == "block" and c["confidence"] == "unconfirmed":
        errors.add("severity", "An unconfirmed figure cannot block a payment: use warn until an admin confirms it.")
    if severity == "block" and kind in ("taper", "info"):
        errors.add("severity", f"A {kind} rule never blocks a payment: use warn.")
    if c["measure"] == "hours" and kind == "taper":
        errors.add("kind", "An hours rule is a cliff or info rule, not a taper.")


def _check_affects(c: Mapping[str, Any], period: Any, errors: _Errors) -> None:
    if c["affects"] == "following_week" and period != "week":
        errors.add("affects", "Only a weekly rule (period: week) can affect the following week.")


def _fields(d: Mapping[str, Any], errors: _Errors) -> dict[str, Any]:
    """Every field of the rule read and checked, with the problems in ``errors``."""
    for key in d:
        if key not in FIELDS:
            errors.add(str(key), "Unknown field.")
    code, family = _code(d, errors)
    benefit = _one_of(d, "benefit", vocab.BENEFITS, errors)
    title = _text(d, "title", errors, required=True)
    c = _choices(d, errors)
    kind = c["kind"]
    limit = _limit(d, kind, errors)
    period, week_start = _period(d, errors)
    warn_at, taper_rate = _fractions(d, kind, errors)
    counts = _counts(d.get("counts"), errors)
    applies_when = _applies_when(d.get("applies_when"), benefit, errors)
    if benefit == "TAX" and applies_when is not None and applies_when.benefit != "TAX":
        errors.add("applies_when.benefit", "A TAX rule applies to everyone: use benefit TAX.")
    if counts is not None and counts.partner and benefit not in vocab.HOUSEHOLD_BENEFITS:
        errors.add(
            "counts.partner",
            "Only a household benefit counts a partner's earnings: " + ", ".join(vocab.HOUSEHOLD_BENEFITS) + ".",
        )
    effective_from, effective_to = _dates(d, errors)
    next_uprating = _date(d, "next_uprating", errors, required=False)
    if effective_from and next_uprating and next_uprating <= effective_from:
        errors.add("next_uprating", "next_uprating must be after effective_from.")
    fields = dict(
        c,
        code=code,
        family=family,
        benefit=benefit,
        title=title,
        limit=limit,
        period=period,
        week_start=week_start,
        counts=counts,
        spread=_bool(d.get("spread"), "spread", errors, False),
        warn_at=warn_at,
        taper_rate=taper_rate,
        applies_when=applies_when,
        effective_from=effective_from,
        effective_to=effective_to,
        next_uprating=next_uprating,
        source=_source(d, errors),
        sources=_sources(d.get("sources"), errors),
        notes=_text(d, "notes", errors),
        message=_text(d, "message", errors),
    )
    _check_combinations(c, errors)
    _check_affects(c, period, errors)
    return fields


def parse_rule(d: Mapping[str, Any] | Rule) -> Rule:
    """Check a rule written as plain data and build a ``Rule``; raise ``RuleError`` when it is wrong."""
    if isinstance(d, Rule):
        return d
    if not isinstance(d, Mapping):
        raise RuleError({"rule": ["A rule must be a mapping of field names to values."]})
    errors = _Errors()
    fields = _fields(d, errors)
    if errors:
        raise RuleError(errors.fields)
    return Rule(**fields)


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """Plain data (JSON- and YAML-safe) that ``parse_rule`` reads back to an equal rule."""
    applies_when = rule.applies_when
    assert applies_when is not None  # always set once the rule is built
    return {
        "code": rule.code,
        "family": rule.family,
        "benefit": rule.benefit,
        "title": rule.title,
        "measure": rule.measure,
        "kind": rule.kind,
        "limit": None if rule.limit is None else str(rule.limit),
        "breach": rule.breach,
        "period": rule.period,
        "week_start": rule.week_start,
        "counts": {
            "kinds": sorted(rule.counts.kinds, key=vocab.PAYMENT_KINDS.index),
            "training_at_value": rule.counts.training_at_value,
            "expenses": rule.counts.expenses,
            "other_income": rule.counts.other_income,
            "partner": rule.counts.partner,
        },
        "date_basis": rule.date_basis,
        "spread": rule.spread,
        "affects": rule.affects,
        "warn_at": str(rule.warn_at),
        "severity": rule.severity,
        "taper_rate": None if rule.taper_rate is None else str(rule.taper_rate),
        "applies_when": {"benefit": applies_when.benefit, "attributes": applies_when.attributes_dict()},
        "effective_from": rule.effective_from.isoformat(),
        "effective_to": None if rule.effective_to is None else rule.effective_to.isoformat(),
        "confidence": rule.confidence,
        "source": rule.source,
        "sources": [{"title": s.title, "url": s.url} for s in rule.sources],
        "notes": rule.notes,
        "message": rule.message,
    } | ({"next_uprating": rule.next_uprating.isoformat()} if rule.next_uprating else {})


# --- packs -------------------------------------------------------------------------------------


def default_pack_path() -> Path:
    """The default UK rule pack shipped beside this module."""
    return Path(__file__).resolve().with_name(DEFAULT_PACK)


def _is_file(text: str) -> bool:
    try:
        return bool(text) and Path(text).is_file()
    except (OSError, ValueError):
        return False


def _read(path_or_text: str | bytes | Path) -> str:
    if isinstance(path_or_text, Path):
        return path_or_text.read_text(encoding="utf-8")
    if isinstance(path_or_text, bytes):
        return path_or_text.decode("utf-8")
    if not isinstance(path_or_text, str):
        raise TypeError("Give a path or the YAML text of a rule pack.")
    candidate = path_or_text.strip()
    if "\n" not in candidate and (candidate.endswith((".yaml", ".yml")) or _is_file(candidate)):
        return Path(candidate).read_text(encoding="utf-8")
    return path_or_text


def check_pack(rules: list[Rule]) -> None:
    """Pack-level checks: unique codes, and no two versions of a family in force on the same day."""
    errors = _Errors()
    seen: dict[str, int] = {}
    for n, r in enumerate(rules):
        if r.code in seen:
            errors.add(f"rules[{n}].code", f"{r.code} is also used by rules[{seen[r.code]}].")
        else:
            seen[r.code] = n
    by_family: dict[str, list[Rule]] = {}
    for r in rules:
        by_family.setdefault(r.family, []).append(r)
    for family, versions in by_family.items():
        versions = sorted(versions, key=lambda r: r.effective_from)
        for a, b in zip(versions, versions[1:]):
            if a.effective_to is None or a.effective_to >= b.effective_from:
                errors.add(
                    f"family {family}",
                    f"{a.code} and {b.code} are both in force on {b.effective_from.isoformat()}: "
                    f"end {a.code} the day before.",
                )
        if len({(v.benefit, v.measure) for v in versions}) > 1:
            errors.add(f"family {family}", "All versions of a family need the same benefit and measure.")
        if len({(v.date_basis, v.spread, v.affects) for v in versions}) > 1:
            errors.add(f"family {family}", "All versions of a family need the same date_basis, spread and affects.")
    if errors:
        raise RuleError(errors.fields)


def load_pack(path_or_text: str | bytes | Path) -> list[Rule]:
    """Read a YAML rule pack (a path, or the YAML text itself) into checked ``Rule`` objects."""
    return parse_pack(_read(path_or_text))


def _refuse_unsafe_yaml(text: str) -> None:
    """Refuse a pack over MAX_PACK_BYTES, or one using anchors, aliases or merge keys, before it is
    loaded: an alias bomb is found by scanning tokens, which never expands anything."""
    if len(text.encode("utf-8", errors="replace")) > MAX_PACK_BYTES:
        raise RuleError({"pack": [f"A rule pack can be at most {MAX_PACK_BYTES // 1024} KB."]})
    try:
        tokens = list(yaml.scan(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return  # not YAML at all: yaml.safe_load says where
    for token in tokens:
        if isinstance(token, yaml.AnchorToken | yaml.AliasToken) or (
            isinstance(token, yaml.ScalarToken) and token.plain and token.value == "<<"
        ):
            raise RuleError({"pack": ["A rule pack cannot use YAML anchors, aliases (& and *) or merge keys (<<)."]})


def parse_pack(text: str) -> list[Rule]:
    """Parse the YAML text of a rule pack. Never reads a file: use this for uploaded text."""
    _refuse_unsafe_yaml(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError({"pack": [f"Not valid YAML: {exc}"]}) from None
    except (ValueError, ArithmeticError, RecursionError) as exc:
        # e.g. a YAML date such as 2025-02-30, or nesting too deep to read
        message = f"The file could not be read ({type(exc).__name__}): check dates and numbers."
        raise RuleError({"pack": [message]}) from None
    if isinstance(data, Mapping):
        data = data.get("rules")
    if not isinstance(data, list):
        raise RuleError({"pack": ["A rule pack is a list of rules, or a mapping with a 'rules' list."]})
    rules: list[Rule] = []
    errors = _Errors()
    for n, item in enumerate(data):
        try:
            rules.append(parse_rule(item))
        except (ValueError, ArithmeticError, RecursionError, TypeError) as exc:
            if not isinstance(exc, RuleError):
                exc = RuleError({"rule": [f"This rule could not be read ({type(exc).__name__})."]})
            label = item.get("code") if isinstance(item, Mapping) else None
            prefix = f"rules[{n}]" + (f" ({label})" if label else "")
            for name, messages in exc.fields.items():
                for m in messages:
                    errors.add(f"{prefix}.{name}", m)
    if errors:
        raise RuleError(errors.fields)
    check_pack(rules)
    return rules


def load_default_pack() -> list[Rule]:
    return load_pack(default_pack_path())
