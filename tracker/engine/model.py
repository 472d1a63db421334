"""The engine's data: rules, claims, the ledger, and the results (verdicts, suggestions).

Money and hours are ``decimal.Decimal`` everywhere: every constructor refuses a ``float`` with
``TypeError``. Results carry codes and numbers; the sentences people read are made from them by a
presenter outside the engine (``tracker.rules.wording``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, ClassVar

from tracker.engine import effects, periods
from tracker.vocab import (
    AFFECTS,
    BENEFITS,
    BREACHES,
    CLAIM_DEFAULTS,
    CONFIDENCES,
    DATE_BASES,
    EXPENSE_MODES,
    MEASURES,
    PAYER_KINDS,
    PAYMENT_KINDS,
    PAYMENT_STATUSES,
    RULE_KINDS,
    SERVICE_USER_CONTEXTS,
    SEVERITIES,
)

PENNY = Decimal("0.01")
ZERO = Decimal("0")

# --- input checking ----------------------------------------------------------------------------


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{what} must be a decimal.Decimal, not a float: a float cannot hold money or hours exactly.")
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a decimal.Decimal, not {type(value).__name__}.")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number.")
    return value


def _money(value: object, what: str) -> Decimal:
    value = _decimal(value, what)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(PENNY):
        raise ValueError(f"{what} must be a whole number of pence (at most 2 decimal places).")
    return value


def _opt_money(value: object, what: str) -> Decimal | None:
    return None if value is None else _money(value, what)


def _date(value: object, what: str, optional: bool = False) -> date | None:
    if value is None and optional:
        return None
    if not isinstance(value, date) or type(value) is not date:
        raise TypeError(f"{what} must be a datetime.date, not {type(value).__name__}.")
    return value


def _choice(value: Any, allowed: Sequence[str] | frozenset[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}.")
    return str(value)


def _check_offer(p: LedgerPayment | ProposedPayment) -> None:
    """An amount offered is money, or none; the service-user answer is yes, no or unknown."""
    _opt_money(p.offered, "offered")
    _choice(p.service_user_context, SERVICE_USER_CONTEXTS, "service_user_context")


def money_str(value: Decimal | None) -> str | None:
    """A money (or hours) figure as a string with two decimals, rounded half up."""
    if value is None:
        return None
    return str(value.quantize(PENNY, rounding=ROUND_HALF_UP))


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """What a rule adds up.

    ``kinds``: payment kinds whose amount counts. ``training_at_value``: training counts at its
    declared benefit value. ``expenses``: ``never`` or ``unless_service_user`` (an expense counts
    unless its ``service_user_context`` is ``yes``; when it counts, the verdict says "check
    easement"). ``other_income``: declared income from elsewhere counts. ``partner``: a partner's
    earnings count too (household rules only: a claim that answers ``joint_claim`` "no" never
    counts them).
    """

    kinds: frozenset[str] = frozenset({"cash", "bank_transfer", "voucher", "charity"})
    training_at_value: bool = False
    expenses: str = "unless_service_user"
    other_income: bool = True
    partner: bool = False

    def __post_init__(self) -> None:
        kinds = frozenset(self.kinds)
        for k in kinds:
            _choice(k, PAYMENT_KINDS, "counts.kinds")
        object.__setattr__(self, "kinds", kinds)
        _choice(self.expenses, EXPENSE_MODES, "counts.expenses")
        if not isinstance(self.training_at_value, bool) or not isinstance(self.other_income, bool):
            raise TypeError("counts.training_at_value and counts.other_income must be true or false.")
        if not isinstance(self.partner, bool):
            raise TypeError("counts.partner must be true or false.")

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
    #: Sorted (name, value) pairs, so the rule stays hashable (a mapping is accepted and sorted).
    attributes: Any = ()

    def __post_init__(self) -> None:
        _choice(self.benefit, BENEFITS, "applies_when.benefit")
        attrs = self.attributes
        if isinstance(attrs, Mapping):
            attrs = attrs.items()
        object.__setattr__(self, "attributes", tuple(sorted((str(k), v) for k, v in attrs)))

    def attributes_dict(self) -> dict[str, Any]:
        return dict(self.attributes)

    def matches(self, claim_attributes: Mapping[str, Any]) -> bool:
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
    #: A payment for a period of work counts evenly by day across it (``covers_from``/``covers_to``).
    spread: bool = False
    #: ``following_week``: a week's earnings decide the benefit week after it (CA, CSP).
    affects: str = "period"
    warn_at: Decimal = Decimal("0.9")
    severity: str = "warn"
    taper_rate: Decimal | None = None
    applies_when: AppliesWhen | None = None
    effective_from: date
    effective_to: date | None = None
    #: When the figure is next expected to change (its next uprating). A figure used for a period
    #: that starts on or after this date, with no newer version loaded, is stale.
    next_uprating: date | None = None
    confidence: str = "unconfirmed"
    source: str = ""
    sources: tuple[Any, ...] = ()  # Source, or {title, url} mappings turned into Source
    notes: str = ""
    #: A plain-English sentence added to every verdict of this rule (e.g. a PIP reminder).
    message: str = ""

    def __post_init__(self) -> None:
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
            self, "sources", tuple(s if isinstance(s, Source) else Source(s["title"], s["url"]) for s in self.sources)
        )
        _choice(self.benefit, BENEFITS, "benefit")
        _choice(self.measure, MEASURES, "measure")
        _choice(self.kind, RULE_KINDS, "kind")
        _choice(self.breach, BREACHES, "breach")
        _choice(self.date_basis, DATE_BASES, "date_basis")
        _choice(self.affects, AFFECTS, "affects")
        if not isinstance(self.spread, bool):
            raise TypeError("spread must be true or false.")
        if self.affects == "following_week" and self.period != "week":
            raise ValueError("Only a weekly rule can affect the following week.")
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
        _date(self.next_uprating, "next_uprating", optional=True)

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
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _choice(self.benefit, BENEFITS, "claim benefit")
        _date(self.start_on, "claim start_on")
        _date(self.end_on, "claim end_on", optional=True)
        if not isinstance(self.attributes, Mapping):
            raise TypeError("claim attributes must be a mapping.")

    def active_on(self, on: date) -> bool:
        return self.start_on <= on and (self.end_on is None or on <= self.end_on)

    def overlaps(self, start: date, end: date) -> bool:
        """The claim is in force on at least one day from ``start`` to ``end``."""
        return self.start_on <= end and (self.end_on is None or start <= self.end_on)

    def effective_attributes(self) -> dict[str, Any]:
        """The attributes with the contract defaults filled in."""
        attrs = dict(CLAIM_DEFAULTS.get(self.benefit, {}))
        attrs.update({k: v for k, v in self.attributes.items() if v is not None})
        if self.benefit == "UC" and attrs.get("ap_start_day") is None:
            # reg 21(1): the first assessment period starts on the first day of entitlement.
            attrs["ap_start_day"] = self.start_on.day
        return attrs


@dataclass(frozen=True)
class _Payment:
    """What a recorded payment and a proposed one both say."""

    kind: str
    amount: Decimal
    paid_on: date
    worked_on: date | None = None
    benefit_value: Decimal | None = None
    #: When it is due (None: when it is received), and the period of work it pays for, if any.
    due_on: date | None = None
    covers_from: date | None = None
    covers_to: date | None = None
    #: The money offered, when the person took less or none (declined, reduced, paid to a charity,
    #: training or a certificate instead): judged for notional earnings (``notional``). A reversal
    #: carries minus the offer it reverses.
    offered: Decimal | None = None
    #: Whether the work paid for is service-user involvement: yes, no or unknown.
    service_user_context: str = "unknown"

    def _check_payment(self, what: str, dates_what: str) -> None:
        """Refuse an unknown kind or a field of the wrong type; ``what`` and ``dates_what`` start the
        names of the fields in the message (``dates_what`` those of the dates received and worked)."""
        _choice(self.kind, PAYMENT_KINDS, f"{what}kind")
        _money(self.amount, f"{what}amount")
        _opt_money(self.benefit_value, f"{what}benefit_value")
        _date(self.paid_on, f"{dates_what}paid_on")
        _date(self.worked_on, f"{dates_what}worked_on", optional=True)


def _check_due_and_cover(p: _Payment) -> None:
    """A due date is a date; a covered period has both ends, in order."""
    for name in ("due_on", "covers_from", "covers_to"):
        _date(getattr(p, name), name, optional=True)
    if (p.covers_from is None) != (p.covers_to is None):
        raise ValueError("A covered period needs both covers_from and covers_to.")
    if p.covers_from is not None and p.covers_to is not None and p.covers_to < p.covers_from:
        raise ValueError("covers_to is before covers_from.")


@dataclass(frozen=True)
class LedgerPayment(_Payment):
    """A payment. A reversal has a negative amount (minus the original) and the same dates."""

    status: str = "paid"
    id: object = None

    def __post_init__(self) -> None:
        self._check_payment("payment ", "")
        _choice(self.status, PAYMENT_STATUSES, "payment status")
        _check_due_and_cover(self)
        _check_offer(self)

    @property
    def work_date(self) -> date:
        return self.worked_on or self.paid_on

    @classmethod
    def from_trusted(
        cls,
        kind: str,
        amount: Decimal,
        paid_on: date,
        worked_on: date | None,
        benefit_value: Decimal | None,
        status: str,
        id: object = None,
        due_on: date | None = None,
        covers_from: date | None = None,
        covers_to: date | None = None,
        offered: Decimal | None = None,
        service_user_context: str = "unknown",
    ) -> LedgerPayment:
        """Build without re-checking each field: only for rows read from the database, whose column
        types already guarantee Decimal amounts, dates and known kinds and statuses."""
        obj = cls.__new__(cls)
        obj.__dict__.update(
            kind=kind,
            amount=amount,
            paid_on=paid_on,
            worked_on=worked_on,
            benefit_value=benefit_value,
            status=status,
            id=id,
            due_on=due_on,
            covers_from=covers_from,
            covers_to=covers_to,
            offered=offered,
            service_user_context=service_user_context,
        )
        return obj


@dataclass(frozen=True)
class LedgerExpense:
    amount: Decimal
    incurred_on: date
    paid_on: date
    service_user_context: str = "unknown"

    def __post_init__(self) -> None:
        _money(self.amount, "expense amount")
        _date(self.incurred_on, "incurred_on")
        _date(self.paid_on, "expense paid_on")
        _choice(self.service_user_context, SERVICE_USER_CONTEXTS, "service_user_context")


@dataclass(frozen=True)
class LedgerIncome:
    """Income the person declared from elsewhere."""

    amount: Decimal
    received_on: date
    #: What the amount is called when it is refused.
    WHAT: ClassVar[str] = "other income"

    def __post_init__(self) -> None:
        _money(self.amount, f"{self.WHAT} amount")
        _date(self.received_on, f"{self.WHAT} received_on")


@dataclass(frozen=True)
class LedgerPartner(LedgerIncome):
    """Earnings of the person's partner, received on a date: household rules only (a ledger's
    ``other_income`` refuses them, so they never count as the person's own)."""

    WHAT: ClassVar[str] = "partner earnings"


@dataclass(frozen=True)
class LedgerHours:
    worked_on: date
    hours: Decimal

    def __post_init__(self) -> None:
        _date(self.worked_on, "worked_on")
        _decimal(self.hours, "hours")


@dataclass(frozen=True)
class Ledger:
    payments: tuple[LedgerPayment, ...] = ()
    expenses: tuple[LedgerExpense, ...] = ()
    other_income: tuple[LedgerIncome, ...] = ()
    hours: tuple[LedgerHours, ...] = ()
    partner: tuple[LedgerPartner, ...] = ()
    #: What kind of organisation pays (``vocab.PAYER_KINDS``), or None when not stated: it decides
    #: whether the charity exemption from notional earnings can apply.
    payer: str | None = None

    def __post_init__(self) -> None:
        if self.payer is not None:
            _choice(self.payer, PAYER_KINDS, "payer")
        for name, cls in (
            ("payments", LedgerPayment),
            ("expenses", LedgerExpense),
            ("other_income", LedgerIncome),
            ("hours", LedgerHours),
            ("partner", LedgerPartner),
        ):
            items = tuple(getattr(self, name))
            for item in items:
                if not isinstance(item, cls) or (name == "other_income" and isinstance(item, LedgerPartner)):
                    raise TypeError(f"ledger {name} must hold {cls.__name__} objects, not {type(item).__name__}.")
            object.__setattr__(self, name, items)


@dataclass(frozen=True)
class ProposedPayment(_Payment):
    """A payment being considered. ``hours``, if given, is work done on ``worked_on`` (or ``paid_on``)."""

    hours: Decimal | None = None

    def __post_init__(self) -> None:
        self._check_payment("proposed ", "proposed ")
        if self.hours is not None:
            _decimal(self.hours, "proposed hours")
        _check_due_and_cover(self)
        _check_offer(self)

    def as_ledger_payment(self, id: object = None) -> LedgerPayment:
        shared = {f.name: getattr(self, f.name) for f in fields(_Payment)}
        return LedgerPayment(**shared, status="draft", id=id)


# --- results -----------------------------------------------------------------------------------


#: What a verdict has to say, as codes (``Remark.code``); a presenter words them.
class RemarkCode(StrEnum):
    """What a verdict's remark says, as a code (``tracker.rules.wording`` words it)."""

    UNCONFIRMED = "unconfirmed"  # the figure is not verified
    DERIVED = "derived"  # the figure is worked out from a formula
    SECONDARY = "secondary"  # the figure comes from a secondary source, not yet checked against the law
    STALE = "stale"  # the figure was expected to change (on Remark.day) and no newer one is loaded
    UNCOVERED = "uncovered"  # a claim no rule covers on this date: not checked
    UNANSWERED = "unanswered"  # text: the claim's unanswered questions that decide which rule applies
    ALREADY_OVER = "already_over"  # the period was over before the proposed payment
    TAPER_ESTIMATE = "taper_estimate"  # amount: the estimated reduction; rate, limit, benefit, period
    TAPER_UNKNOWN = "taper_unknown"  # earnings above the limit reduce the benefit by an unknown amount
    EXPENSES = "expenses_counted"  # amount: expenses counted because not marked service-user
    PARTNER = "partner_counted"  # amount: the partner's earnings included in the total
    RULE_MESSAGE = "rule_message"  # text: the rule's own sentence, shown as it is
    # amount: money offered and not taken that counts as notional earnings for ``benefit``; text:
    # the reasons no exemption was established, comma-separated (``notional.Tally.reasons``)
    NOTIONAL_COUNTED = "notional_counted"
    # amount: money offered and not taken that does not count for ``benefit``; text: the exemptions
    NOTIONAL_EXEMPT = "notional_exempt"


@dataclass(frozen=True)
class Remark:
    """One thing a verdict says, as a code and the figures its sentence needs."""

    code: RemarkCode
    #: The figures, then the words.
    amount: Decimal | None = None
    limit: Decimal | None = None
    rate: Decimal | None = None
    day: date | None = None
    benefit: str = ""
    period: str = ""
    text: str = ""


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
    #: The remarks in words, filled in by a presenter (``tracker.rules.wording``); empty from the engine.
    notes: tuple[str, ...] = ()
    is_taper: bool = False
    #: What the verdict has to say, as codes and figures.
    remarks: tuple[Remark, ...] = ()
    #: The figure was used for a period after its next expected uprating, with no newer one loaded.
    stale: bool = False
    #: Which date the rule counts (received, due or worked).
    date_basis: str = "received"
    #: For a rule that affects the following week (CA, CSP): the benefit week these earnings decide.
    benefit_week_start: date | None = None
    benefit_week_end: date | None = None
    #: Notional earnings judged in the period: counted in the total, exempt, and the exemptions that
    #: applied and that the benefit's regulations allow (see ``tracker.engine.notional``).
    notional_counted: Decimal = ZERO
    notional_exempt: Decimal = ZERO
    exemptions: tuple[str, ...] = ()
    exemptions_considered: tuple[str, ...] = ()
    notional_source: str = ""

    @property
    def total(self) -> Decimal:
        return self.total_after

    @property
    def unknown(self) -> bool:
        """Not checked: no rule covers the person's claim on this date."""
        return self.status == "unknown"

    @property
    def effect(self) -> str:
        """What the verdict costs the person (``vocab.EFFECTS``): see ``tracker.engine.effects``."""
        return effects.classify(self.status, is_taper=self.is_taper, estimated_reduction=self.estimated_reduction)

    @property
    def blocks(self) -> bool:
        """Recording needs an override: a blocking rule is broken, or nothing was checked."""
        return self.severity == "block" and self.status in ("over", "unknown")

    def to_dict(self, position: bool = False) -> dict[str, Any]:
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
            "effect": self.effect,
            "severity": self.severity,
            "confidence": self.confidence,
            "source": self.source,
            "notes": list(self.notes),
            "stale": self.stale,
            "date_basis": self.date_basis,
            "benefit_week": _span_dict(self.benefit_week_start, self.benefit_week_end),
        }
        if self.unknown:  # nothing was checked: no rule, no figures
            d.update(rule=None, family=None, total_before=None, total_after=None, confidence=None, source=None)
        if position:
            d["total"] = d["total_after"]
        if self.is_taper:
            d["estimated_reduction"] = money_str(self.estimated_reduction)
        if self.notional_counted or self.notional_exempt:
            d["notional"] = self._notional_dict()
        return d

    def _notional_dict(self) -> dict[str, Any]:
        counted, exempt = money_str(self.notional_counted), money_str(self.notional_exempt)
        used, considered = list(self.exemptions), list(self.exemptions_considered)
        return dict(counted=counted, exempt=exempt, exemptions=used, considered=considered, source=self.notional_source)


def _span_dict(start: date | None, end: date | None) -> dict[str, str] | None:
    if start is None or end is None:
        return None
    return {"start": start.isoformat(), "end": end.isoformat()}


@dataclass(frozen=True)
class SuggestedPayment:
    kind: str
    amount: Decimal
    paid_on: date
    #: When it falls due: a suggestion that moves money moves its due date with it.
    due_on: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "amount": money_str(self.amount),
            "paid_on": self.paid_on.isoformat(),
            "due_on": (self.due_on or self.paid_on).isoformat(),
        }


@dataclass(frozen=True)
class LimitFigure:
    """A rule's limit as it stands on a date: its title, measure and figure."""

    title: str
    measure: str
    limit: Decimal | None


@dataclass(frozen=True)
class SuggestionBasis:
    """What a suggestion's explanation says, as data: the payment it replaces and the rule it keeps."""

    #: The proposed payment the suggestion replaces.
    kind: str
    amount: Decimal
    paid_on: date
    #: The binding rule: its title, period and breach, and its figures on the suggested dates (one
    #: figure when they agree, else one per version).
    rule_title: str
    period: str
    breach: str
    limits: tuple[LimitFigure, ...] = ()
    #: For a switch of kind: the titles of the rules the new kind does not count towards.
    rule_titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    kind: str  # split | defer | switch_kind | reduce
    payments: tuple[SuggestedPayment, ...]
    #: The suggestion in words, filled in by a presenter (``tracker.rules.wording``); empty from the engine.
    explanation: str = ""
    #: Index, in the ``proposed`` list, of the payment this suggestion replaces (not in to_dict).
    replaces: int = 0
    basis: SuggestionBasis | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "payments": [p.to_dict() for p in self.payments], "explanation": self.explanation}


@dataclass(frozen=True)
class CheckResult:
    verdicts: tuple[Verdict, ...]
    suggestions: tuple[Suggestion, ...] = ()

    @property
    def blocked(self) -> bool:
        return any(v.blocks for v in self.verdicts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdicts": [v.to_dict() for v in self.verdicts],
            "suggestions": [s.to_dict() for s in self.suggestions],
        }
