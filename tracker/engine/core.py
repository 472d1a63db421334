"""The benefit-rules engine: plain data in, verdicts and suggestions out.

Given a person's benefit claims, the rules (every version of every rule family), and their ledger
(payments, expenses, other income, hours), the engine works out, for each rule that applies to the
person, the period that contains a date, the total that counts in that period, the limit, the
headroom and a status. ``check()`` does the same with proposed payments added ("what if") and, when
a rule would be broken, proposes alternatives, each re-checked with the engine before it is offered.

Money and hours are ``decimal.Decimal`` everywhere: every public constructor and function refuses a
``float`` with ``TypeError``. Output amounts are quantized to the penny with ``ROUND_HALF_UP``.

This module imports neither Flask nor SQLAlchemy. See ``docs/rules-engine.md``.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from tracker.engine import periods

# --- vocabulary (plain data from tracker.vocab) --------------------------------------------------

from tracker.vocab import (  # re-exported: callers read them as engine.X
    BENEFITS,
    BREACHES,
    CLAIM_DEFAULTS,
    CONFIDENCES,
    DATE_BASES,
    EXPENSE_MODES,
    MEASURES,
    NON_MONEY_KINDS,
    PAYMENT_KINDS,
    PAYMENT_STATUSES,
    RULE_KINDS,
    SERVICE_USER_CONTEXTS,
    SEVERITIES,
)
from tracker.vocab import BENEFIT_NAMES as _NAMES

#: Engine wording keeps the lower-case "income tax" inside sentences.
BENEFIT_NAMES = {**_NAMES, "TAX": "income tax"}

PENNY = Decimal("0.01")
ZERO = Decimal("0")

#: How many periods ahead "defer", "split" and "reduce" look for room.
LOOKAHEAD_PERIODS = 13

NOTE_UNCONFIRMED = "Figure not verified: check it before relying on it."
NOTE_DERIVED = (
    "Figure worked out from a formula, not read from an official table: check it before relying on it."
)
NOTE_ALREADY_OVER = "This period was already over the limit before this payment."


# --- input checking ----------------------------------------------------------------------------


def _decimal(value, what: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{what} must be a decimal.Decimal, not a float: a float cannot hold money or hours exactly.")
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a decimal.Decimal, not {type(value).__name__}.")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number.")
    return value


def _money(value, what: str) -> Decimal:
    value = _decimal(value, what)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(PENNY):
        raise ValueError(f"{what} must be a whole number of pence (at most 2 decimal places).")
    return value


def _opt_money(value, what: str) -> Decimal | None:
    return None if value is None else _money(value, what)


def _date(value, what: str, optional: bool = False) -> date | None:
    if value is None and optional:
        return None
    if type(value) is not date:
        raise TypeError(f"{what} must be a datetime.date, not {type(value).__name__}.")
    return value


def _choice(value, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}.")
    return value


def money_str(value: Decimal | None) -> str | None:
    """A money (or hours) figure as a string with two decimals, rounded half up."""
    if value is None:
        return None
    return str(value.quantize(PENNY, rounding=ROUND_HALF_UP))


def _pounds(value: Decimal) -> str:
    q = value.quantize(PENNY, rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    return f"{sign}£{abs(q):,.2f}"


def _hours_text(value: Decimal) -> str:
    q = value.quantize(PENNY, rounding=ROUND_HALF_UP).normalize()
    text = f"{q:f}"
    return f"{text} hour" if q == 1 else f"{text} hours"


def _figure(measure: str, value: Decimal) -> str:
    return _hours_text(value) if measure == "hours" else _pounds(value)


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def _day_text(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """What a rule adds up.

    ``kinds``: payment kinds whose amount counts. ``training_at_value``: training counts at its
    declared benefit value. ``expenses``: ``never`` or ``unless_service_user`` (an expense counts
    unless its ``service_user_context`` is ``yes``; when it counts, the verdict says "check
    easement"). ``other_income``: declared income from elsewhere counts.
    """

    kinds: frozenset = frozenset({"cash", "bank_transfer", "voucher", "charity"})
    training_at_value: bool = False
    expenses: str = "unless_service_user"
    other_income: bool = True

    def __post_init__(self):
        kinds = frozenset(self.kinds)
        for k in kinds:
            _choice(k, PAYMENT_KINDS, "counts.kinds")
        object.__setattr__(self, "kinds", kinds)
        _choice(self.expenses, EXPENSE_MODES, "counts.expenses")
        if not isinstance(self.training_at_value, bool) or not isinstance(self.other_income, bool):
            raise TypeError("counts.training_at_value and counts.other_income must be true or false.")

    def counts_kind(self, kind: str) -> bool:
        return kind in self.kinds or (kind == "training" and self.training_at_value)


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class AppliesWhen:
    """The claim a rule needs: a benefit code and attribute values that must be equal.

    ``TAX`` applies to everyone and needs no claim.
    """

    benefit: str
    attributes: tuple = ()  # sorted (name, value) pairs, so the rule stays hashable

    def __post_init__(self):
        _choice(self.benefit, BENEFITS, "applies_when.benefit")
        attrs = self.attributes
        if isinstance(attrs, Mapping):
            attrs = attrs.items()
        object.__setattr__(self, "attributes", tuple(sorted((str(k), v) for k, v in attrs)))

    def attributes_dict(self) -> dict:
        return dict(self.attributes)

    def matches(self, claim_attributes: Mapping) -> bool:
        return all(claim_attributes.get(k) == v for k, v in self.attributes)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One version of a benefit rule. Versions of the same rule share a ``family``."""

    code: str
    family: str = ""
    benefit: str
    title: str
    measure: str = "earnings"
    kind: str = "cliff"
    limit: Decimal | None
    breach: str = "above"
    period: str = "week"
    week_start: str = "monday"
    counts: Counts = Counts()
    date_basis: str = "received"
    warn_at: Decimal = Decimal("0.9")
    severity: str = "warn"
    taper_rate: Decimal | None = None
    applies_when: AppliesWhen | None = None
    effective_from: date
    effective_to: date | None = None
    confidence: str = "unconfirmed"
    source: str = ""
    sources: tuple = ()
    notes: str = ""
    #: A plain-English sentence added to every verdict of this rule (e.g. a PIP reminder).
    message: str = ""

    def __post_init__(self):
        if not self.family:
            object.__setattr__(self, "family", self.code)
        if self.applies_when is None:
            object.__setattr__(self, "applies_when", AppliesWhen(self.benefit))
        elif isinstance(self.applies_when, Mapping):
            aw = self.applies_when
            object.__setattr__(
                self, "applies_when", AppliesWhen(aw.get("benefit", self.benefit), aw.get("attributes") or ())
            )
        object.__setattr__(
            self,
            "sources",
            tuple(s if isinstance(s, Source) else Source(s["title"], s["url"]) for s in self.sources),
        )
        _choice(self.benefit, BENEFITS, "benefit")
        _choice(self.measure, MEASURES, "measure")
        _choice(self.kind, RULE_KINDS, "kind")
        _choice(self.breach, BREACHES, "breach")
        _choice(self.date_basis, DATE_BASES, "date_basis")
        _choice(self.severity, SEVERITIES, "severity")
        _choice(self.confidence, CONFIDENCES, "confidence")
        periods.parse_period(self.period)
        periods.weekday_number(self.week_start)
        if self.limit is not None:
            _decimal(self.limit, "limit")
        elif self.kind != "info":
            raise ValueError("Only an info rule may have no limit.")
        _decimal(self.warn_at, "warn_at")
        if self.taper_rate is not None:
            _decimal(self.taper_rate, "taper_rate")
        _date(self.effective_from, "effective_from")
        _date(self.effective_to, "effective_to", optional=True)

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    @property
    def effective_severity(self) -> str:
        """``block`` only for a cliff rule whose figure is at least derived from a source."""
        if self.confidence == "unconfirmed" or self.kind in ("taper", "info"):
            return "warn"
        return self.severity


# --- claims and the ledger ---------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    benefit: str
    start_on: date
    end_on: date | None = None
    attributes: Mapping = field(default_factory=dict)

    def __post_init__(self):
        _choice(self.benefit, BENEFITS, "claim benefit")
        _date(self.start_on, "claim start_on")
        _date(self.end_on, "claim end_on", optional=True)
        if not isinstance(self.attributes, Mapping):
            raise TypeError("claim attributes must be a mapping.")

    def active_on(self, on: date) -> bool:
        return self.start_on <= on and (self.end_on is None or on <= self.end_on)

    def effective_attributes(self) -> dict:
        """The attributes with the contract defaults filled in."""
        attrs = dict(CLAIM_DEFAULTS.get(self.benefit, {}))
        attrs.update({k: v for k, v in self.attributes.items() if v is not None})
        if self.benefit == "UC" and attrs.get("ap_start_day") is None:
            # reg 21(1): the first assessment period starts on the first day of entitlement.
            attrs["ap_start_day"] = self.start_on.day
        return attrs


@dataclass(frozen=True)
class LedgerPayment:
    """A payment. A reversal has a negative amount (minus the original) and the same dates."""

    kind: str
    amount: Decimal
    paid_on: date
    worked_on: date | None = None
    benefit_value: Decimal | None = None
    status: str = "paid"
    id: object = None

    def __post_init__(self):
        _choice(self.kind, PAYMENT_KINDS, "payment kind")
        _money(self.amount, "payment amount")
        _opt_money(self.benefit_value, "payment benefit_value")
        _date(self.paid_on, "paid_on")
        _date(self.worked_on, "worked_on", optional=True)
        _choice(self.status, PAYMENT_STATUSES, "payment status")

    @property
    def work_date(self) -> date:
        return self.worked_on or self.paid_on

    @classmethod
    def from_trusted(cls, kind, amount, paid_on, worked_on, benefit_value, status, id=None) -> "LedgerPayment":
        """Build without re-checking each field: only for rows read from the database, whose column
        types already guarantee Decimal amounts, dates and known kinds and statuses."""
        obj = cls.__new__(cls)
        obj.__dict__.update(kind=kind, amount=amount, paid_on=paid_on, worked_on=worked_on,
                            benefit_value=benefit_value, status=status, id=id)
        return obj


@dataclass(frozen=True)
class LedgerExpense:
    amount: Decimal
    incurred_on: date
    paid_on: date
    service_user_context: str = "unknown"

    def __post_init__(self):
        _money(self.amount, "expense amount")
        _date(self.incurred_on, "incurred_on")
        _date(self.paid_on, "expense paid_on")
        _choice(self.service_user_context, SERVICE_USER_CONTEXTS, "service_user_context")


@dataclass(frozen=True)
class LedgerIncome:
    """Income the person declared from elsewhere."""

    amount: Decimal
    received_on: date

    def __post_init__(self):
        _money(self.amount, "other income amount")
        _date(self.received_on, "received_on")


@dataclass(frozen=True)
class LedgerHours:
    worked_on: date
    hours: Decimal

    def __post_init__(self):
        _date(self.worked_on, "worked_on")
        _decimal(self.hours, "hours")


@dataclass(frozen=True)
class Ledger:
    payments: tuple = ()
    expenses: tuple = ()
    other_income: tuple = ()
    hours: tuple = ()

    def __post_init__(self):
        for name, cls in (
            ("payments", LedgerPayment),
            ("expenses", LedgerExpense),
            ("other_income", LedgerIncome),
            ("hours", LedgerHours),
        ):
            items = tuple(getattr(self, name))
            for item in items:
                if not isinstance(item, cls):
                    raise TypeError(f"ledger {name} must hold {cls.__name__} objects, not {type(item).__name__}.")
            object.__setattr__(self, name, items)


@dataclass(frozen=True)
class ProposedPayment:
    """A payment being considered. ``hours``, if given, is work done on ``worked_on`` (or ``paid_on``)."""

    kind: str
    amount: Decimal
    paid_on: date
    worked_on: date | None = None
    benefit_value: Decimal | None = None
    hours: Decimal | None = None

    def __post_init__(self):
        _choice(self.kind, PAYMENT_KINDS, "proposed kind")
        _money(self.amount, "proposed amount")
        _date(self.paid_on, "proposed paid_on")
        _date(self.worked_on, "proposed worked_on", optional=True)
        _opt_money(self.benefit_value, "proposed benefit_value")
        if self.hours is not None:
            _decimal(self.hours, "proposed hours")

    def as_ledger_payment(self, id=None) -> LedgerPayment:
        return LedgerPayment(
            kind=self.kind,
            amount=self.amount,
            paid_on=self.paid_on,
            worked_on=self.worked_on,
            benefit_value=self.benefit_value,
            status="draft",
            id=id,
        )


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    rule: str
    family: str
    benefit: str
    title: str
    period_start: date
    period_end: date
    measure: str
    total_before: Decimal
    total_after: Decimal
    limit: Decimal | None
    headroom: Decimal | None
    status: str
    severity: str
    confidence: str
    source: str
    estimated_reduction: Decimal | None = None
    notes: tuple = ()
    is_taper: bool = False

    @property
    def total(self) -> Decimal:
        return self.total_after

    def to_dict(self, position: bool = False) -> dict:
        d = {
            "rule": self.rule,
            "family": self.family,
            "benefit": self.benefit,
            "title": self.title,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "measure": self.measure,
            "total_before": money_str(self.total_before),
            "total_after": money_str(self.total_after),
            "limit": money_str(self.limit),
            "headroom": money_str(self.headroom),
            "status": self.status,
            "severity": self.severity,
            "confidence": self.confidence,
            "source": self.source,
            "notes": list(self.notes),
        }
        if position:
            d["total"] = money_str(self.total_after)
        if self.is_taper:
            d["estimated_reduction"] = money_str(self.estimated_reduction)
        return d


@dataclass(frozen=True)
class SuggestedPayment:
    kind: str
    amount: Decimal
    paid_on: date

    def to_dict(self) -> dict:
        return {"kind": self.kind, "amount": money_str(self.amount), "paid_on": self.paid_on.isoformat()}


@dataclass(frozen=True)
class Suggestion:
    kind: str  # split | defer | switch_kind | reduce
    payments: tuple
    explanation: str
    #: Index, in the ``proposed`` list, of the payment this suggestion replaces (not in to_dict).
    replaces: int = 0

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "payments": [p.to_dict() for p in self.payments],
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class CheckResult:
    verdicts: tuple
    suggestions: tuple = ()

    @property
    def blocked(self) -> bool:
        return any(v.status == "over" and v.severity == "block" for v in self.verdicts)

    def to_dict(self) -> dict:
        return {
            "verdicts": [v.to_dict() for v in self.verdicts],
            "suggestions": [s.to_dict() for s in self.suggestions],
        }


# --- the ledger index --------------------------------------------------------------------------


class _Sorted:
    """Items sorted by a date, with the dates in a parallel list for bisect."""

    __slots__ = ("dates", "items")

    def __init__(self, items: Iterable, key):
        self.items = sorted(items, key=key)  # stable: equal dates keep the ledger's order
        self.dates = [key(i) for i in self.items]

    def between(self, start: date, end: date) -> list:
        return self.items[bisect_left(self.dates, start) : bisect_right(self.dates, end)]


class _Index:
    def __init__(self, ledger: Ledger):
        live = [p for p in ledger.payments if p.status != "cancelled"]
        self.payments = {
            "received": _Sorted(live, lambda p: p.paid_on),
            "worked": _Sorted(live, lambda p: p.work_date),
        }
        self.expenses = {
            "received": _Sorted(ledger.expenses, lambda e: e.paid_on),
            "worked": _Sorted(ledger.expenses, lambda e: e.incurred_on),
        }
        self.income = _Sorted(ledger.other_income, lambda i: i.received_on)
        self.hours = _Sorted(ledger.hours, lambda h: h.worked_on)


def _payment_value(counts: Counts, p: LedgerPayment) -> Decimal | None:
    """What a payment adds to a rule's total, or None when the rule does not count it."""
    if p.kind == "training" and counts.training_at_value:
        value = p.benefit_value if p.benefit_value is not None else p.amount
        if p.amount < 0 < value:  # a reversal nets out the training it reverses
            value = -value
        return value
    if p.kind in counts.kinds:
        return p.amount
    return None


def _basis_date(rule: Rule, p: LedgerPayment) -> date:
    return p.work_date if rule.date_basis == "worked" else p.paid_on


# --- the evaluation context --------------------------------------------------------------------


@dataclass
class _Eval:
    rule: Rule
    attrs: dict
    anchor: date | None
    start: date
    end: date
    before: Decimal = ZERO
    after: Decimal = ZERO
    expenses_counted: Decimal = ZERO


def _check_rules(rules) -> list[Rule]:
    rules = list(rules)
    seen = set()
    for r in rules:
        if not isinstance(r, Rule):
            raise TypeError(f"rules must be Rule objects, not {type(r).__name__}.")
        if r.code in seen:
            raise ValueError(f"Two rules have the code {r.code}.")
        seen.add(r.code)
    return rules


def _check_claims(claims) -> list[Claim]:
    claims = list(claims)
    for c in claims:
        if not isinstance(c, Claim):
            raise TypeError(f"claims must be Claim objects, not {type(c).__name__}.")
    return claims


class _Context:
    """Everything one call needs: claims, rule families, the sorted ledger, and caches."""

    def __init__(self, claims, rules, ledger: Ledger):
        if not isinstance(ledger, Ledger):
            raise TypeError(f"ledger must be a Ledger, not {type(ledger).__name__}.")
        self.claims = [(c, c.effective_attributes()) for c in _check_claims(claims)]
        families: dict[str, list[Rule]] = {}
        claimed = {c.benefit for c, _ in self.claims} | {"TAX"}
        for r in _check_rules(rules):
            families.setdefault(r.family, []).append(r)
        # a family whose rules need a benefit the person has no claim for can never apply
        families = {
            name: vs for name, vs in families.items() if any(r.applies_when.benefit in claimed for r in vs)
        }
        # newest version first
        self.families = [
            (name, sorted(vs, key=lambda r: r.effective_from, reverse=True)) for name, vs in families.items()
        ]
        self.family_order = {name: n for n, (name, _) in enumerate(self.families)}
        self.index = _Index(ledger)
        self._select_cache: dict = {}
        self._base_cache: dict = {}

    # which version, which claim, which window

    def _match(self, rule: Rule, on: date):
        aw = rule.applies_when
        if aw.benefit == "TAX":
            return {}, None
        for claim, attrs in self.claims:
            if claim.benefit == aw.benefit and claim.active_on(on) and aw.matches(attrs):
                return attrs, claim.start_on
        return None

    def select(self, fam_idx: int, d_received: date, d_worked: date) -> _Eval | None:
        """The version of a family that governs the period containing the date, or None.

        The version is the one in force at the *start* of the period (so an assessment period
        that starts before an uprating date keeps the old figure). If no version is in force at
        the start (a rule that begins mid-period), the version in force on the date is used.
        """
        key = (fam_idx, d_received, d_worked)
        if key in self._select_cache:
            return self._select_cache[key]
        fallback = None
        found = None
        for rule in self.families[fam_idx][1]:
            on = d_worked if (rule.date_basis == "worked" or rule.measure == "hours") else d_received
            m = self._match(rule, on)
            if m is None:
                continue
            attrs, anchor = m
            start, end = periods.window(rule.period, on, attrs, rule.week_start, anchor)
            if rule.in_force(start):
                found = _Eval(rule, attrs, anchor, start, end)
                break
            if fallback is None and rule.in_force(on):
                fallback = _Eval(rule, attrs, anchor, start, end)
        result = found or fallback
        self._select_cache[key] = result
        return result

    # totals

    def base_total(self, rule: Rule, start: date, end: date) -> tuple[Decimal, Decimal]:
        key = (rule.code, start, end)
        hit = self._base_cache.get(key)
        if hit is not None:
            return hit
        idx = self.index
        total = ZERO
        expenses_counted = ZERO
        if rule.measure == "hours":
            for h in idx.hours.between(start, end):
                total += h.hours
        else:
            counts = rule.counts
            for p in idx.payments[rule.date_basis].between(start, end):
                v = _payment_value(counts, p)
                if v is not None:
                    total += v
            if counts.expenses == "unless_service_user":
                for e in idx.expenses[rule.date_basis].between(start, end):
                    if e.service_user_context != "yes":
                        expenses_counted += e.amount
                total += expenses_counted
            if counts.other_income:
                for i in idx.income.between(start, end):
                    total += i.amount
        result = (total, expenses_counted)
        self._base_cache[key] = result
        return result

    @staticmethod
    def extra_total(rule: Rule, start: date, end: date, extra_payments, extra_hours) -> Decimal:
        total = ZERO
        if rule.measure == "hours":
            for h in extra_hours:
                if start <= h.worked_on <= end:
                    total += h.hours
            return total
        for p in extra_payments:
            if start <= _basis_date(rule, p) <= end:
                v = _payment_value(rule.counts, p)
                if v is not None:
                    total += v
        return total

    # evaluation

    def evaluate(self, extra_payments=(), extra_hours=(), window_payments=None, window_hours=None) -> list[_Eval]:
        """Evaluate every family for the periods containing the window items' dates.

        Totals include all extras; the periods are those of ``window_payments`` (every family)
        and ``window_hours`` (hours rules only), which default to the extras themselves.
        """
        if window_payments is None:
            window_payments = extra_payments
        if window_hours is None:
            window_hours = extra_hours
        found: dict = {}
        for fam_idx, (_name, versions) in enumerate(self.families):
            for p in window_payments:
                ev = self.select(fam_idx, p.paid_on, p.work_date)
                if ev is not None:
                    found.setdefault((fam_idx, ev.start), ev)
            if window_hours and any(r.measure == "hours" for r in versions):
                for h in window_hours:
                    ev = self.select(fam_idx, h.worked_on, h.worked_on)
                    if ev is not None and ev.rule.measure == "hours":
                        found.setdefault((fam_idx, ev.start), ev)
        out = []
        for key in sorted(found):
            sel = found[key]
            before, expenses_counted = self.base_total(sel.rule, sel.start, sel.end)
            after = before + self.extra_total(sel.rule, sel.start, sel.end, extra_payments, extra_hours)
            out.append(_Eval(sel.rule, sel.attrs, sel.anchor, sel.start, sel.end, before, after, expenses_counted))
        return out

    def evaluate_on(self, on: date) -> list[_Eval]:
        out = []
        for fam_idx in range(len(self.families)):
            sel = self.select(fam_idx, on, on)
            if sel is None:
                continue
            total, expenses_counted = self.base_total(sel.rule, sel.start, sel.end)
            out.append(_Eval(sel.rule, sel.attrs, sel.anchor, sel.start, sel.end, total, total, expenses_counted))
        return out


# --- verdicts ----------------------------------------------------------------------------------


def _broken(rule: Rule, total: Decimal) -> bool:
    if rule.limit is None:
        return False
    return total > rule.limit if rule.breach == "above" else total >= rule.limit


def _status(rule: Rule, total: Decimal) -> str:
    if rule.kind == "info" or rule.limit is None:
        return "info"
    near = rule.limit > 0 and total >= rule.warn_at * rule.limit
    if rule.kind == "taper":
        if total > rule.limit:
            return "info"
        return "near" if near else "ok"
    if _broken(rule, total):
        return "over"
    return "near" if near else "ok"


def _verdict(ev: _Eval, what_if: bool = True) -> Verdict:
    rule = ev.rule
    status = _status(rule, ev.after)
    notes: list[str] = []
    if rule.confidence == "unconfirmed":
        notes.append(NOTE_UNCONFIRMED)
    elif rule.confidence == "derived":
        notes.append(NOTE_DERIVED)
    if what_if and status == "over" and _broken(rule, ev.before):
        notes.append(NOTE_ALREADY_OVER)
    estimated = None
    noun = periods.period_noun(rule.period)
    name = BENEFIT_NAMES[rule.benefit]
    if rule.kind == "taper" and rule.limit is not None:
        excess = max(ZERO, ev.after - rule.limit)
        if rule.taper_rate is not None:
            estimated = (rule.taper_rate * excess).quantize(PENNY, rounding=ROUND_HALF_UP)
            if excess > 0:
                rate = rule.taper_rate * 100
                rate_text = "£1" if rule.taper_rate == 1 else f"{rate.normalize():f}p"
                notes.append(
                    f"About {_pounds(estimated)} less {name} for this {noun}: {rate_text} for each £1 "
                    f"above {_pounds(rule.limit)}."
                )
        elif excess > 0:
            notes.append(
                f"Earnings above {_pounds(rule.limit)} a {noun} count as income and can reduce {name}; "
                "how much depends on the person's other circumstances."
            )
    if ev.expenses_counted > 0:
        notes.append(
            f"{_pounds(ev.expenses_counted)} of expenses in this {noun} is counted because it is not marked "
            "as arising from service-user involvement (check easement: receipted expenses are ignored "
            "when the person took part as a service user)."
        )
    if rule.message:
        notes.append(rule.message)
    headroom = None if rule.limit is None else rule.limit - ev.after
    return Verdict(
        rule=rule.code,
        family=rule.family,
        benefit=rule.benefit,
        title=rule.title,
        period_start=ev.start,
        period_end=ev.end,
        measure=rule.measure,
        total_before=ev.before,
        total_after=ev.after,
        limit=rule.limit,
        headroom=headroom,
        status=status,
        severity=rule.effective_severity,
        confidence=rule.confidence,
        source=rule.source,
        estimated_reduction=estimated,
        notes=tuple(notes),
        is_taper=rule.kind == "taper",
    )


# --- public functions --------------------------------------------------------------------------


def rules_in_force(rules: Iterable[Rule], on: date) -> list[Rule]:
    """The rules whose effective range (inclusive) contains ``on``."""
    _date(on, "on")
    return [r for r in _check_rules(rules) if r.in_force(on)]


def position(
    claims: Iterable[Claim],
    rules: Iterable[Rule],
    ledger: Ledger,
    on: date,
    kinds_ruled_out: Iterable[str] | None = None,
) -> list[Verdict]:
    """Where the person stands on ``on``: one verdict per applicable rule family.

    ``kinds_ruled_out`` is accepted for symmetry with ``check`` and does not change the
    verdicts (a position reports the ledger as it is).
    """
    _date(on, "on")
    ctx = _Context(claims, rules, ledger)
    return [_verdict(ev, what_if=False) for ev in ctx.evaluate_on(on)]


def _preference_kinds(preferences) -> list[str]:
    kinds = []
    for item in preferences or ():
        kind = item.get("kind") if isinstance(item, Mapping) else item
        _choice(kind, PAYMENT_KINDS, "preference kind")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def check(
    claims: Iterable[Claim],
    rules: Iterable[Rule],
    ledger: Ledger,
    proposed: Iterable[ProposedPayment],
    preferences: Iterable = (),
    today: date | None = None,
    kinds_ruled_out: Iterable[str] | None = None,
) -> CheckResult:
    """What if these payments were made? Verdicts for every period they touch, and suggestions.

    ``preferences`` is the person's ordered list of kinds (or of ``{kind, note}`` mappings), most
    preferred first. A kind not in a non-empty list is ruled out; with an empty list only the
    proposed kind may be used. ``kinds_ruled_out`` adds more. Suggestions never use a date before
    ``today`` (when given) or before the proposed date.
    """
    proposed = list(proposed)
    for p in proposed:
        if not isinstance(p, ProposedPayment):
            raise TypeError(f"proposed must hold ProposedPayment objects, not {type(p).__name__}.")
    _date(today, "today", optional=True)
    prefs = _preference_kinds(preferences)
    ruled_out = set()
    for k in kinds_ruled_out or ():
        ruled_out.add(_choice(k, PAYMENT_KINDS, "kinds_ruled_out"))
    ctx = _Context(claims, rules, ledger)
    pays = [p.as_ledger_payment(id=("proposed", n)) for n, p in enumerate(proposed)]
    hours = [LedgerHours(p.worked_on or p.paid_on, p.hours) for p in proposed if p.hours is not None]
    evals = ctx.evaluate(pays, hours)
    verdicts = tuple(_verdict(ev) for ev in evals)
    suggestions: list[Suggestion] = []
    if any(v.status == "over" for v in verdicts):
        suggestions = _Suggester(ctx, proposed, pays, hours, evals, prefs, ruled_out, today).run()
    return CheckResult(verdicts=verdicts, suggestions=tuple(suggestions))


# --- suggestions -------------------------------------------------------------------------------

_KIND_AS = {
    "cash": "cash",
    "bank_transfer": "a bank transfer",
    "voucher": "vouchers",
    "training": "training",
    "charity": "a payment to a charity",
    "certificate": "a certificate",
    "declined": "nothing",
}
_KIND_PREFERRED = {
    "cash": "Cash is",
    "bank_transfer": "A bank transfer is",
    "voucher": "Vouchers are",
    "training": "Training is",
    "charity": "A payment to a charity is",
}
_KIND_SUBJECT = {
    "cash": "Cash does",
    "bank_transfer": "A bank transfer does",
    "voucher": "Vouchers do",
    "training": "Training does",
    "charity": "A payment to a charity does",
}


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _even_parts(amount: Decimal, n: int) -> list[Decimal]:
    """``amount`` in ``n`` parts to the penny, as equal as possible, larger parts first."""
    pence = int((amount / PENNY).to_integral_value())
    base, extra = divmod(pence, n)
    return [(Decimal(base + (1 if i < extra else 0)) * PENNY) for i in range(n)]


class _Suggester:
    def __init__(self, ctx: _Context, proposed, pays, hours, evals, prefs, ruled_out, today):
        self.ctx = ctx
        self.proposed = proposed
        self.pays = pays
        self.hours = hours
        self.evals = evals
        self.prefs = prefs
        self.ruled_out = set(ruled_out)
        if prefs:
            self.ruled_out |= set(PAYMENT_KINDS) - set(prefs)
        self.today = today
        self._room_cache: dict = {}

    def run(self) -> list[Suggestion]:
        binding = [ev for ev in self.evals if _status(ev.rule, ev.after) == "over" and ev.after != ev.before]
        # Moving money cannot fix an hours limit: fewer hours are needed, not another date.
        if not binding or any(ev.rule.measure == "hours" for ev in binding):
            return []
        out: list[Suggestion] = []
        seen = set()
        for n, (prop, pay) in enumerate(zip(self.proposed, self.pays)):
            if prop.amount <= 0 or prop.kind in NON_MONEY_KINDS:
                continue
            mine = [
                ev
                for ev in binding
                if ev.start <= _basis_date(ev.rule, pay) <= ev.end and _payment_value(ev.rule.counts, pay) is not None
            ]
            if not mine:
                continue
            # the tightest rule first: block before warn, then the most over
            mine.sort(key=lambda ev: (ev.rule.effective_severity != "block", ev.rule.limit - ev.after))
            others = [p for m, p in enumerate(self.pays) if m != n]
            for s in self._for_payment(prop, others, mine):
                key = (n, s.payments)
                if key not in seen:
                    seen.add(key)
                    out.append(dataclasses.replace(s, replaces=n))
        return out

    # helpers

    def _earliest(self, prop: ProposedPayment) -> date:
        return max(prop.paid_on, self.today) if self.today else prop.paid_on

    def _payment(self, prop: ProposedPayment, kind: str, amount: Decimal, on: date) -> LedgerPayment:
        if kind == prop.kind and amount == prop.amount:
            benefit_value = prop.benefit_value
        else:
            benefit_value = amount if kind == "training" else None
        return LedgerPayment(
            kind=kind, amount=amount, paid_on=on, worked_on=prop.worked_on, benefit_value=benefit_value, status="draft"
        )

    def _room(self, kind: str, on: date, extras: list[LedgerPayment]) -> Decimal | None:
        """The most of ``kind`` that can be paid on ``on`` without breaking any rule (None: no limit)."""
        key = (kind, on, tuple((p.kind, p.amount, p.paid_on, p.worked_on) for p in extras))
        if key in self._room_cache:
            return self._room_cache[key]
        room = self._room_uncached(kind, on, extras)
        self._room_cache[key] = room
        return room

    def _room_uncached(self, kind: str, on: date, extras: list[LedgerPayment]) -> Decimal | None:
        probe = LedgerPayment(kind=kind, amount=ZERO, paid_on=on, status="draft")
        room = None
        for ev in self.ctx.evaluate(extras, self.hours, window_payments=[probe], window_hours=()):
            rule = ev.rule
            if _status(rule, ev.after) == "over":
                return ZERO
            if rule.kind != "cliff" or rule.limit is None or rule.measure != "earnings":
                continue
            if not rule.counts.counts_kind(kind):
                continue
            r = rule.limit - ev.after
            if rule.breach == "at_or_above":
                r -= PENNY
            room = r if room is None else min(room, r)
        if room is None:
            return None
        return max(ZERO, room.quantize(PENNY, rounding=ROUND_FLOOR))

    def _fits(self, room: Decimal | None, amount: Decimal) -> bool:
        return room is None or amount <= room

    def _windows(self, ev: _Eval, start_on: date):
        """Up to LOOKAHEAD_PERIODS + 1 consecutive windows of the rule's period, from ``start_on``."""
        rule = ev.rule
        w = periods.window(rule.period, start_on, ev.attrs, rule.week_start, ev.anchor)
        out = [w]
        for _ in range(LOOKAHEAD_PERIODS):
            w = periods.next_window(rule.period, w, ev.attrs, rule.week_start, ev.anchor)
            out.append(w)
        return out

    def _recheck(self, others: list[LedgerPayment], new: list[LedgerPayment]) -> bool:
        evals = self.ctx.evaluate(others + new, self.hours, window_payments=new, window_hours=())
        return all(_status(ev.rule, ev.after) != "over" for ev in evals)

    def _limit_text(self, ev: _Eval, *on: date) -> str:
        """The limit in words, as it stands on the given dates (a later date may fall under a newer
        figure, e.g. after an April uprating); "the limit for each week" when they differ."""
        rules = []
        fam_idx = self.ctx.family_order.get(ev.rule.family)
        for d in on:
            sel = self.ctx.select(fam_idx, d, d) if fam_idx is not None else None
            rule = sel.rule if sel is not None else ev.rule
            if rule not in rules:
                rules.append(rule)
        rules = rules or [ev.rule]
        if len(rules) == 1:
            return f"the {rules[0].title} of {_figure(rules[0].measure, rules[0].limit)}"
        noun = periods.period_noun(ev.rule.period)
        return f"the {ev.rule.title} for each {noun}"

    # the four kinds

    def _for_payment(self, prop: ProposedPayment, others: list[LedgerPayment], binding: list[_Eval]):
        found: dict[str, Suggestion] = {}
        earliest = self._earliest(prop)
        kind_ok = prop.kind not in self.ruled_out
        for ev in binding:
            if not kind_ok:
                break
            windows = self._windows(ev, earliest)
            dates = [earliest] + [w[0] for w in windows[1:]]
            if "split" not in found:
                s = self._split(prop, others, ev, dates)
                if s:
                    found["split"] = s
            if "defer" not in found:
                s = self._defer(prop, others, ev, dates)
                if s:
                    found["defer"] = s
            if "reduce" not in found:
                s = self._reduce(prop, others, ev, dates)
                if s:
                    found["reduce"] = s
        s = self._switch(prop, others, binding, earliest)
        if s:
            found["switch_kind"] = s
        return [found[k] for k in ("split", "defer", "switch_kind", "reduce") if k in found]

    def _split(self, prop, others, ev, dates):
        amount = prop.amount
        noun = periods.period_noun(ev.rule.period)
        # start at the first period with any room
        first = None
        for i, d in enumerate(dates):
            room = self._room(prop.kind, d, others)
            if room is None or room > 0:
                first = i
                break
        if first is None:
            return None
        for n in range(2, len(dates) - first + 1):
            if n == 4:
                # Rooms only shrink as parts are added, so the rooms one at a time bound the total.
                rooms = [self._room(prop.kind, d, others) for d in dates[first:]]
                if all(r is not None for r in rooms) and sum(rooms) < amount:
                    return None
            parts = _even_parts(amount, n)
            if parts[-1] <= 0:
                return None
            chosen: list[LedgerPayment] = []
            ok = True
            for part, d in zip(parts, dates[first : first + n]):
                if not self._fits(self._room(prop.kind, d, others + chosen), part):
                    ok = False
                    break
                chosen.append(self._payment(prop, prop.kind, part, d))
            if not ok:
                continue
            if not self._recheck(others, chosen):
                continue
            pieces = [f"{_pounds(p.amount)} on {_day_text(p.paid_on)}" for p in chosen]
            verb = "goes over" if ev.rule.breach == "above" else "reaches"
            who = f"neither {noun}" if n == 2 else f"no {noun}"
            text = f"Pay {_join(pieces)}, so {who} {verb} {self._limit_text(ev, *(p.paid_on for p in chosen))}."
            return Suggestion("split", tuple(SuggestedPayment(p.kind, p.amount, p.paid_on) for p in chosen), text)
        return None

    def _defer(self, prop, others, ev, dates):
        noun = periods.period_noun(ev.rule.period)
        for d in dates[1:]:
            if not self._fits(self._room(prop.kind, d, others), prop.amount):
                continue
            new = [self._payment(prop, prop.kind, prop.amount, d)]
            if not self._recheck(others, new):
                continue
            text = (
                f"Pay the whole {_pounds(prop.amount)} on {_day_text(d)} instead of {_day_text(prop.paid_on)}: "
                f"that {noun} has room for it under {self._limit_text(ev, d)}."
            )
            return Suggestion("defer", (SuggestedPayment(prop.kind, prop.amount, d),), text)
        return None

    def _reduce(self, prop, others, ev, dates):
        noun = periods.period_noun(ev.rule.period)
        now_room = self._room(prop.kind, dates[0], others)
        if now_room is None or now_room <= 0 or now_room >= prop.amount:
            return None
        first = self._payment(prop, prop.kind, now_room, dates[0])
        rest = prop.amount - now_room
        for d in dates[1:]:
            if not self._fits(self._room(prop.kind, d, others + [first]), rest):
                continue
            second = self._payment(prop, prop.kind, rest, d)
            if not self._recheck(others, [first, second]):
                continue
            text = (
                f"Pay {_pounds(now_room)} on {_day_text(dates[0])}, the most that fits under "
                f"{self._limit_text(ev, dates[0])} that {noun}, and the other {_pounds(rest)} on {_day_text(d)}."
            )
            return Suggestion(
                "reduce",
                (SuggestedPayment(prop.kind, now_room, dates[0]), SuggestedPayment(prop.kind, rest, d)),
                text,
            )
        return None

    def _switch(self, prop, others, binding, earliest):
        if not self.prefs:
            return None
        for kind in self.prefs:
            if kind == prop.kind or kind in NON_MONEY_KINDS or kind in self.ruled_out:
                continue
            new = [self._payment(prop, kind, prop.amount, earliest)]
            if not self._recheck(others, new):
                continue
            titles = []
            for ev in binding:
                t = f"the {ev.rule.title}"
                if t not in titles:
                    titles.append(t)
            when = "" if earliest == prop.paid_on else f" on {_day_text(earliest)}"
            text = (
                f"Give the {_pounds(prop.amount)} as {_KIND_AS[kind]} instead of {_KIND_AS[prop.kind]}{when}. "
                f"{_KIND_SUBJECT[kind]} not count towards {' or '.join(titles)}. "
                f"{_KIND_PREFERRED[kind]} on the person's list of ways they are happy to be paid."
            )
            return Suggestion("switch_kind", (SuggestedPayment(kind, prop.amount, earliest),), text)
        return None
