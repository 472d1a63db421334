"""The payment planner: a schedule for a set of upcoming sessions that keeps every benefit rule clean.

Given a person's claims, the rules, their ledger, the sessions coming up (date worked, hours, amount
owed) and how they like to be paid, ``plan()`` proposes payment schedules in the person's preferred
kinds that keep **every** rule at ``ok`` or ``near`` (never ``over``):

- pay each session on its date when it fits;
- otherwise pay what fits now and the rest at the start of the next period where there is room
  (split), or pay each session in one go on the first date it fits (defer);
- or, on time, switch part or all of it to another kind the person is happy with that the binding
  rule does not count (for example training for Carer's Allowance);
- where a taper rule (Universal Credit work allowance, ...) would reduce a benefit, also a schedule
  that avoids the reduction when one exists.

Every proposal is checked again with ``engine.check`` against the ledger, with all of the
proposal's payments added together, before it is returned, and pays exactly the amount owed (to
the penny: ``Decimal`` only). No payment date is before ``today`` or before the session it pays for.

When no schedule within the horizon (26 weeks from each session) keeps every rule clean, the plan
says so plainly and returns the least harmful schedule found (fewest and smallest ``over``
verdicts, then the smallest estimated reduction), marked as not clean, with its verdicts.

A kind that is not in a non-empty preference list is never used; with no preferences, cash is
used. ``declined`` and ``certificate`` carry no money: they are used only when the person chose
no kind of payment that carries money (and ``declined`` only when it is the only choice left).


The planner returns codes and numbers: each proposal carries a ``Story`` (what each session is paid,
which rule kept it from being paid on the day, which kinds were switched to, what still breaks) and
the plan an ``outcome`` code. ``tracker.rules.wording.plan`` puts them into words (the proposals'
titles and explanations, the plan's message).

This module imports neither Flask nor SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from tracker.engine import core as engine
from tracker.engine import periods
from tracker.engine.model import (
    PENNY,
    ZERO,
    Claim,
    Ledger,
    LedgerHours,
    LedgerPayment,
    ProposedPayment,
    Rule,
    Verdict,
    _date,
    _decimal,
    _money,
)
from tracker.vocab import NON_MONEY_KINDS, PAYMENT_KINDS, SERVICE_USER_CONTEXTS

HORIZON_WEEKS = 26
#: The smallest part a split pays, unless it is all that is left: 37p now and the rest later helps no one.
MIN_PART = Decimal("5.00")
#: The most sessions one plan takes.
MAX_SESSIONS = 24

#: A plan's outcome: clean proposals were found; none was, so the least harmful one is shown; or
#: the person chose no kind of payment that carries money.
OUTCOME_CLEAN = "clean"
OUTCOME_LEAST_HARM = "least_harm"
OUTCOME_NO_MONEY = "no_money"

#: Why a session is not paid in one go on its day (``Limited.code``).
LIMITED_ALREADY_OVER = "already_over"
LIMITED_SOME_ROOM = "some_room"
LIMITED_NO_ROOM = "no_room"


# --- input and output --------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """An upcoming session: the date worked, what is owed for it, and the hours (optional)."""

    worked_on: date
    amount: Decimal
    hours: Decimal | None = None
    #: Whether the session is service-user involvement (yes, no, unknown): it decides whether money
    #: offered and not taken is notional earnings.
    service_user_context: str = "unknown"

    def __post_init__(self) -> None:
        _date(self.worked_on, "worked_on")
        _money(self.amount, "session amount")
        if self.amount <= 0:
            raise ValueError("A session's amount must be more than zero.")
        if self.hours is not None:
            _decimal(self.hours, "session hours")
            if self.hours < 0:
                raise ValueError("A session's hours cannot be negative.")
        if self.service_user_context not in SERVICE_USER_CONTEXTS:
            raise ValueError("service_user_context must be yes, no or unknown.")


@dataclass(frozen=True)
class PlannedPayment:
    kind: str
    amount: Decimal
    paid_on: date
    worked_on: date
    session: int  # index of the session it pays for
    #: For a certificate or a declined payment: the money offered instead (it carries none).
    offered: Decimal | None = None
    service_user_context: str = "unknown"

    def proposed(self, hours: Decimal | None = None) -> ProposedPayment:
        # by name: no declared value, due date or covered period; the offer and the context, if any
        offer: dict[str, Any] = {"offered": self.offered, "service_user_context": self.service_user_context}
        return ProposedPayment(self.kind, self.amount, self.paid_on, worked_on=self.worked_on, hours=hours, **offer)

    def ledger(self) -> LedgerPayment:
        """The payment in the ledger, as a draft."""
        return self.proposed().as_ledger_payment()

    def to_dict(self) -> dict[str, str | None]:
        d = {
            "kind": self.kind,
            "amount": engine.money_str(self.amount),
            "paid_on": self.paid_on.isoformat(),
            "worked_on": self.worked_on.isoformat(),
        }
        if self.offered is not None:
            d["offered"] = engine.money_str(self.offered)
        return d


@dataclass(frozen=True)
class Harm:
    """How bad a schedule is, compared in this order: breaks of blocking rules, other breaks,
    how far over, then the estimated reduction of taper rules."""

    blocks: int = 0
    warns: int = 0
    excess: Decimal = ZERO
    reduction: Decimal = ZERO

    def key(self) -> tuple[int, int, Decimal, Decimal]:
        return (self.blocks, self.warns, self.excess, self.reduction)

    @property
    def overs(self) -> int:
        return self.blocks + self.warns


@dataclass(frozen=True)
class Limited:
    """Why a session is not paid in one go on its day: the rule that binds there, its figure, the
    room it leaves and its period."""

    code: str  # LIMITED_ALREADY_OVER | LIMITED_SOME_ROOM | LIMITED_NO_ROOM
    title: str
    measure: str
    limit: Decimal | None
    room: Decimal | None
    period: str
    start: date
    end: date


@dataclass(frozen=True)
class Switch:
    """A kind the proposal switches to (not the person's first choice) and the rules it does not count towards."""

    kind: str
    titles: tuple[str, ...]


@dataclass(frozen=True)
class Breach:
    """A rule the proposal still breaks: the period, and how far over (zero: at a limit it may not reach)."""

    title: str
    period: str  # the rule's period code; "" when the rule is not known
    start: date
    end: date
    measure: str
    over_by: Decimal


@dataclass(frozen=True)
class SessionPlan:
    """A session and the payments of the proposal that pay it."""

    worked_on: date
    amount: Decimal
    parts: tuple[PlannedPayment, ...]


@dataclass(frozen=True)
class Story:
    """What a proposal's explanation says, as data."""

    sessions: tuple[SessionPlan, ...]
    limited: tuple[Limited, ...] = ()
    switches: tuple[Switch, ...] = ()
    #: The proposal avoids every taper reduction.
    strict: bool = False
    breaches: tuple[Breach, ...] = ()


@dataclass(frozen=True)
class Proposal:
    key: str
    payments: tuple[PlannedPayment, ...]
    verdicts: tuple[Verdict, ...]  # from engine.check with every payment of the proposal
    clean: bool
    harm: Harm
    story: Story
    #: The kind the title names (paying as asked in a kind other than cash); "" for none.
    title_kind: str = ""
    #: The proposal in words, filled in by a presenter (``tracker.rules.wording``); empty from the engine.
    title: str = ""
    explanation: str = ""

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)

    @property
    def estimated_reduction(self) -> Decimal:
        return self.harm.reduction

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "clean": self.clean,
            "payments": [p.to_dict() for p in self.payments],
            "explanation": self.explanation,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "estimated_reduction": engine.money_str(self.harm.reduction),
        }


@dataclass(frozen=True)
class Plan:
    total: Decimal
    proposals: tuple[Proposal, ...]  # the clean ones, or the single least harmful one
    clean: bool
    horizon_end: date
    outcome: str  # OUTCOME_CLEAN | OUTCOME_LEAST_HARM | OUTCOME_NO_MONEY
    #: The plan in words, filled in by a presenter (``tracker.rules.wording``); empty from the engine.
    message: str = ""

    @property
    def best(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None

    def to_dict(self) -> dict[str, object]:
        return {
            "total": engine.money_str(self.total),
            "clean": self.clean,
            "message": self.message,
            "horizon_end": self.horizon_end.isoformat(),
            "proposals": [p.to_dict() for p in self.proposals],
        }


# --- helpers -------------------------------------------------------------------------------------


def money_kinds(prefs: Sequence[str]) -> list[str]:
    """The kinds a money plan may use, most preferred first (cash when nothing was said)."""
    if not prefs:
        return ["cash"]
    return [k for k in prefs if k not in NON_MONEY_KINDS]


def harm_of(verdicts: Iterable[Verdict]) -> Harm:
    blocks = warns = 0
    excess = reduction = ZERO
    for v in verdicts:
        if v.status == "over":
            if v.severity == "block":
                blocks += 1
            else:
                warns += 1
            if v.headroom is not None:
                excess += max(ZERO, -v.headroom) + (PENNY if v.headroom == 0 else ZERO)
        if v.estimated_reduction:
            reduction += v.estimated_reduction
    return Harm(blocks, warns, excess, reduction)


def recheck(
    claims: Iterable[Claim],
    rules: Iterable[Rule],
    ledger: Ledger,
    payments: Sequence[PlannedPayment],
    sessions: Sequence[Session],
) -> engine.CheckResult:
    """engine.check with every payment of a proposal at once (each session's hours on its first payment)."""
    seen: set[int] = set()
    proposed = []
    for p in payments:
        hours = None
        if p.session not in seen:
            seen.add(p.session)
            hours = sessions[p.session].hours or None
        proposed.append(p.proposed(hours))
    # No suggestions are wanted here: rule every kind out so the engine does not look for them.
    return engine.check(claims, rules, ledger, proposed, (), kinds_ruled_out=PAYMENT_KINDS)


# --- the planner ---------------------------------------------------------------------------------


#: Payments scheduled so far, in order.
_Schedule = tuple[PlannedPayment, ...]
#: A date and a kind a part may be paid in.
_Slot = tuple[date, str]
#: Why a session was not paid whole in its first slot: (date, kind, room there, the binding verdict,
#: whether a period there was already over).
_Reason = tuple[date, str, Decimal | None, Verdict | None, bool]


class _Planner:
    def __init__(
        self,
        claims: Iterable[Claim],
        rules: Iterable[Rule],
        ledger: Ledger,
        sessions: Sequence[Session],
        today: date,
        horizon: int,
    ) -> None:
        self.claims = list(claims)
        self.rules = list(rules)
        self.by_code: dict[str, Rule] = {r.code: r for r in self.rules}
        self.base = ledger
        self.sessions = list(sessions)
        self.today = today
        self.horizon = timedelta(weeks=horizon)
        self.session_hours = tuple(LedgerHours(s.worked_on, s.hours) for s in self.sessions if s.hours)
        self._ledgers: dict[_Schedule, Ledger] = {}
        self._positions: dict[tuple[_Schedule, date], list[Verdict]] = {}
        self._dates: dict[date, list[date]] = {}

    # the engine, with a schedule added

    def ledger(self, scheduled: _Schedule) -> Ledger:
        hit = self._ledgers.get(scheduled)
        if hit is None:
            hit = Ledger(
                payments=self.base.payments + tuple(p.ledger() for p in scheduled),
                expenses=self.base.expenses,
                other_income=self.base.other_income,
                hours=self.base.hours + self.session_hours,
                partner=self.base.partner,
                payer=self.base.payer,
            )
            if len(self._ledgers) > 4096:
                self._ledgers.clear()
            self._ledgers[scheduled] = hit
        return hit

    def position(self, scheduled: _Schedule, on: date) -> list[Verdict]:
        key = (scheduled, on)
        hit = self._positions.get(key)
        if hit is None:
            hit = engine.position(self.claims, self.rules, self.ledger(scheduled), on)
            if len(self._positions) > 20000:
                self._positions.clear()
            self._positions[key] = hit
        return hit

    def relevant(self, scheduled: _Schedule, on: date, worked_on: date) -> list[Verdict]:
        """The verdicts a payment made on ``on`` for work on ``worked_on`` would touch."""
        out = []
        for v in self.position(scheduled, on):
            rule = self.by_code[v.rule]
            if rule.measure != "hours" and rule.date_basis != "worked":
                out.append(v)
        for v in self.position(scheduled, worked_on):
            rule = self.by_code[v.rule]
            if rule.measure == "hours" or rule.date_basis == "worked":
                out.append(v)
        return out

    def room(
        self, kind: str, on: date, worked_on: date, scheduled: _Schedule, strict: bool
    ) -> tuple[Decimal | None, Verdict | None, bool]:
        """(the most of ``kind`` that can be paid on ``on`` without any rule going over — None for
        no limit —, the verdict that binds, whether a period there is already over)."""
        room = None
        binding = None
        for v in self.relevant(scheduled, on, worked_on):
            if v.status == "over":
                return ZERO, v, True
            rule = self.by_code[v.rule]
            if rule.measure != "earnings" or rule.limit is None or rule.kind == "info":
                continue
            if rule.kind == "taper" and not strict:
                continue
            if not rule.counts.counts_kind(kind):
                continue
            r = rule.limit - v.total_after
            if rule.breach == "at_or_above" and rule.kind == "cliff":
                r -= PENNY
            if room is None or r < room:
                room, binding = r, v
        if room is None:
            return None, None, False
        return max(ZERO, room.quantize(PENNY, rounding=ROUND_FLOOR)), binding, False

    def dates(self, earliest: date) -> list[date]:
        """``earliest``, then the first day of every period of every rule, up to the horizon."""
        hit = self._dates.get(earliest)
        if hit is not None:
            return hit
        end = earliest + self.horizon - timedelta(days=1)
        out = [earliest]
        d = earliest
        while True:
            nxt = None
            for v in self.position((), d):
                rule = self.by_code[v.rule]
                if rule.kind == "info" or rule.limit is None or rule.measure == "hours":
                    continue
                if periods.parse_period(rule.period)[0] in ("per_payment", "none"):
                    continue
                e = v.period_end + timedelta(days=1)
                if e > d and (nxt is None or e < nxt):
                    nxt = e
            if nxt is None or nxt > end:
                break
            out.append(nxt)
            d = nxt
        self._dates[earliest] = out
        return out

    def earliest(self, s: Session) -> date:
        return max(s.worked_on, self.today)

    # filling

    def fill(
        self, index: int, s: Session, slots: list[_Slot], scheduled: _Schedule, strict: bool, whole_only: bool
    ) -> tuple[list[PlannedPayment], Decimal, _Reason | None]:
        """Put the session's amount into the slots in order. Returns (parts, remaining, reason)."""
        remaining = s.amount
        parts: list[PlannedPayment] = []
        reason: _Reason | None = None
        for d, kind in slots:
            if remaining <= 0:
                break
            room, binding, blocked = self.room(kind, d, s.worked_on, scheduled + tuple(parts), strict)
            amount = remaining if room is None else min(room, remaining)
            if reason is None and amount < remaining:
                reason = (d, kind, room, binding, blocked)
            if whole_only and amount < remaining:
                continue
            if amount <= 0 or (amount < MIN_PART and amount < remaining):
                continue
            parts.append(PlannedPayment(kind, amount, d, s.worked_on, index))
            remaining -= amount
        return parts, remaining, reason

    def slots(self, s: Session, kinds: list[str], order: str) -> list[_Slot]:
        dates = self.dates(self.earliest(s))
        if order == "kind":
            return [(d, k) for k in kinds for d in dates]
        return [(d, k) for d in dates for k in kinds]

    def place_rest(
        self, index: int, s: Session, amount: Decimal, slots: list[_Slot], scheduled: _Schedule
    ) -> PlannedPayment:
        """Where the amount that fits nowhere does the least harm (ties: the earliest, most preferred)."""
        best: tuple[tuple[int, int, Decimal, Decimal, int], PlannedPayment] | None = None
        for n, (d, kind) in enumerate(slots):
            part = PlannedPayment(kind, amount, d, s.worked_on, index)
            before = harm_of(self.relevant(scheduled, d, s.worked_on))
            after = harm_of(self.relevant(scheduled + (part,), d, s.worked_on))
            delta = (
                after.blocks - before.blocks,
                after.warns - before.warns,
                after.excess - before.excess,
                after.reduction - before.reduction,
                n,
            )
            if best is None or delta < best[0]:
                best = (delta, part)
        assert best is not None  # there is always a slot: the session's own date
        return best[1]

    def schedule(
        self, kinds: list[str], order: str, strict: bool, whole_only: bool, allow_harm: bool
    ) -> tuple[_Schedule, dict[int, _Reason], bool]:
        """A whole schedule, session by session in date order. Returns (payments, reasons, complete)."""
        scheduled: _Schedule = ()
        reasons: dict[int, _Reason] = {}
        complete = True
        for index in sorted(range(len(self.sessions)), key=lambda i: (self.sessions[i].worked_on, i)):
            s = self.sessions[index]
            slots = self.slots(s, kinds, order)
            parts, remaining, reason = self.fill(index, s, slots, scheduled, strict, whole_only)
            if remaining > 0 and whole_only:
                # no date takes it whole: split it instead
                parts, remaining, _ = self.fill(index, s, slots, scheduled, strict, False)
            if reason is not None:
                reasons[index] = reason
            if remaining > 0:
                complete = False
                if not allow_harm:
                    return (), reasons, False
                rest = self.place_rest(index, s, remaining, slots, scheduled + tuple(parts))
                # merge with a part already on that date in that kind
                merged = False
                for n, p in enumerate(parts):
                    if p.paid_on == rest.paid_on and p.kind == rest.kind:
                        parts[n] = PlannedPayment(p.kind, p.amount + rest.amount, p.paid_on, p.worked_on, index)
                        merged = True
                        break
                if not merged:
                    parts.append(rest)
            scheduled += tuple(sorted(parts, key=lambda p: (p.paid_on, kinds.index(p.kind))))
        return scheduled, reasons, complete


# --- what each proposal says, as data ------------------------------------------------------------


def _by_session(planner: _Planner, payments: Sequence[PlannedPayment]) -> list[tuple[int, list[PlannedPayment]]]:
    """The payments grouped by session, sessions in date order."""
    by_session: dict[int, list[PlannedPayment]] = {}
    for p in payments:
        by_session.setdefault(p.session, []).append(p)
    order = sorted(by_session, key=lambda i: (planner.sessions[i].worked_on, i))
    return [(i, by_session[i]) for i in order]


def _limited(planner: _Planner, reason: _Reason | None) -> Limited | None:
    """Why the session was not paid in one go on its day, or None when nothing bound it."""
    if reason is None:
        return None
    _, _, room, binding, blocked = reason
    if binding is None:
        return None
    rule = planner.by_code[binding.rule]
    if blocked:
        code = LIMITED_ALREADY_OVER
    elif room is not None and room > 0:
        code = LIMITED_SOME_ROOM
    else:
        code = LIMITED_NO_ROOM
    return Limited(
        code, rule.title, rule.measure, rule.limit, room, rule.period, binding.period_start, binding.period_end
    )


def _limits(
    planner: _Planner, order: list[tuple[int, list[PlannedPayment]]], reasons: Mapping[int, _Reason]
) -> tuple[Limited, ...]:
    """The binding rules, once per rule family and period."""
    said: set[tuple[str, date]] = set()
    out: list[Limited] = []
    for index, _ in order:
        reason = reasons.get(index)
        found = _limited(planner, reason)
        if found is None or reason is None or reason[3] is None:
            continue
        binding = reason[3]
        if (binding.family, binding.period_start) in said:
            continue
        said.add((binding.family, binding.period_start))
        if found not in out:
            out.append(found)
    return tuple(out)


def _uncounted_titles(planner: _Planner, kind: str, verdicts: Sequence[Verdict]) -> tuple[str, ...]:
    """The titles of the earnings rules (not the tax rule) that do not count ``kind``."""
    titles: list[str] = []
    for v in verdicts:
        rule = planner.by_code.get(v.rule)
        if rule is None or rule.kind == "info" or rule.measure != "earnings" or rule.benefit == "TAX":
            continue
        if not rule.counts.counts_kind(kind) and rule.title not in titles:
            titles.append(rule.title)
    return tuple(titles)


def _switches(
    planner: _Planner, payments: Sequence[PlannedPayment], kinds: list[str], verdicts: Sequence[Verdict]
) -> tuple[Switch, ...]:
    switched = {p.kind for p in payments if p.kind != kinds[0]}
    out = []
    for kind in kinds:
        titles = _uncounted_titles(planner, kind, verdicts) if kind in switched else ()
        if titles:
            out.append(Switch(kind, titles))
    return tuple(out)


def _breaches(planner: _Planner, verdicts: Sequence[Verdict]) -> tuple[Breach, ...]:
    out = []
    for v in verdicts:
        if v.status != "over":
            continue
        rule = planner.by_code.get(v.rule)
        over_by = -v.headroom if v.headroom is not None else ZERO
        out.append(Breach(v.title, rule.period if rule else "", v.period_start, v.period_end, v.measure, over_by))
    return tuple(out)


def _story(
    planner: _Planner,
    payments: Sequence[PlannedPayment],
    reasons: Mapping[int, _Reason],
    kinds: list[str],
    verdicts: Sequence[Verdict],
    strict: bool,
) -> Story:
    order = _by_session(planner, payments)
    sessions = tuple(
        SessionPlan(planner.sessions[i].worked_on, planner.sessions[i].amount, tuple(parts)) for i, parts in order
    )
    return Story(
        sessions=sessions,
        limited=_limits(planner, order, reasons),
        switches=_switches(planner, payments, kinds, verdicts),
        strict=strict,
        breaches=_breaches(planner, verdicts),
    )


def _as_asked(planner: _Planner, payments: tuple[PlannedPayment, ...], kind: str) -> bool:
    if len(payments) != len(planner.sessions):
        return False
    return all(
        p.kind == kind
        and p.amount == planner.sessions[p.session].amount
        and p.paid_on == planner.earliest(planner.sessions[p.session])
        for p in payments
    )


def _is_clean(verdicts: Iterable[Verdict]) -> bool:
    return not any(v.status == "over" for v in verdicts)


# --- the proposals -------------------------------------------------------------------------------

#: (key, order of the slots, whole sessions only)
_Strategy = tuple[str, str, bool]


class _Proposer:
    """Builds the proposals of one plan from the planner's schedules, each re-checked with the engine."""

    def __init__(self, planner: _Planner, kinds: list[str]) -> None:
        self.planner = planner
        self.kinds = kinds
        self.strategies: list[_Strategy] = [("split", "kind", False), ("whole", "kind", True)]
        if len(kinds) > 1:
            self.strategies.append(("switch", "date", False))
        self.proposals: list[Proposal] = []
        self.seen: set[tuple[tuple[int, str, Decimal, date], ...]] = set()

    def verdicts(self, payments: tuple[PlannedPayment, ...]) -> tuple[Verdict, ...]:
        p = self.planner
        return recheck(p.claims, p.rules, p.base, payments, p.sessions).verdicts

    def add(
        self, key: str, payments: tuple[PlannedPayment, ...], reasons: Mapping[int, _Reason], strict: bool
    ) -> Proposal | None:
        """The schedule as a proposal when it is new and clean (else None)."""
        ident = tuple(sorted((p.session, p.kind, p.amount, p.paid_on) for p in payments))
        if ident in self.seen:
            return None
        verdicts = self.verdicts(payments)
        if not _is_clean(verdicts):
            return None
        self.seen.add(ident)
        first = self.kinds[0]
        as_asked = _as_asked(self.planner, payments, first)
        key = "as_asked" if as_asked else key
        story = _story(self.planner, payments, reasons, self.kinds, verdicts, strict)
        p = Proposal(
            key=key + ("_no_reduction" if strict else ""),
            payments=payments,
            verdicts=verdicts,
            clean=True,
            harm=harm_of(verdicts),
            story=story,
            title_kind=first if as_asked and first != "cash" else "",
        )
        self.proposals.append(p)
        return p

    def clean(self) -> list[Proposal]:
        """The clean proposals, those that avoid a taper reduction first (else in strategy order)."""
        for key, order, whole in self.strategies:
            payments, reasons, complete = self.planner.schedule(self.kinds, order, False, whole, allow_harm=False)
            if complete:
                self.add(key, payments, reasons, False)
        if self.proposals and all(p.harm.reduction > 0 for p in self.proposals):
            self.avoid_reduction()
        return sorted(self.proposals, key=lambda p: p.harm.reduction > 0)

    def avoid_reduction(self) -> None:
        """Where a taper reduces a benefit, also look for a schedule that avoids the reduction."""
        for key, order, whole in self.strategies:
            payments, reasons, complete = self.planner.schedule(self.kinds, order, True, whole, allow_harm=False)
            if not complete:
                continue
            p = self.add(key, payments, reasons, True)
            if p is not None and p.harm.reduction > 0:
                self.proposals.remove(p)  # it did not avoid the reduction after all

    def least_harm(self) -> Proposal:
        """No clean schedule: the least harmful one (fewest and smallest breaks, then fewest payments)."""
        planner = self.planner
        options: list[tuple[str, _Schedule, dict[int, _Reason]]] = []
        for key, order, whole in self.strategies:
            payments, reasons, _ = planner.schedule(self.kinds, order, False, whole, allow_harm=True)
            options.append((key, payments, reasons))
        as_asked = tuple(
            PlannedPayment(self.kinds[0], s.amount, planner.earliest(s), s.worked_on, i)
            for i, s in sorted(enumerate(planner.sessions), key=lambda t: (t[1].worked_on, t[0]))
        )
        options.append(("as_asked", as_asked, {}))
        best: (
            tuple[
                tuple[tuple[int, int, Decimal, Decimal], int], str, _Schedule, dict[int, _Reason], tuple[Verdict, ...]
            ]
            | None
        ) = None
        for key, payments, reasons in options:
            verdicts = self.verdicts(payments)
            rank = (harm_of(verdicts).key(), len(payments))
            if best is None or rank < best[0]:
                best = (rank, key, payments, reasons, verdicts)
        assert best is not None
        _, key, payments, reasons, verdicts = best
        clean = _is_clean(verdicts)
        story = _story(planner, payments, reasons, self.kinds, verdicts, False)
        return Proposal(
            key=key if clean else "least_harm",
            payments=payments,
            verdicts=verdicts,
            clean=clean,
            harm=harm_of(verdicts),
            story=story,
        )


# --- the public function -------------------------------------------------------------------------


def _check_inputs(ledger: Ledger, today: date | None, sessions: list[Session], horizon_weeks: int) -> date:
    if not isinstance(ledger, Ledger):
        raise TypeError(f"ledger must be a Ledger, not {type(ledger).__name__}.")
    if type(today) is not date:
        raise TypeError("today must be a datetime.date.")
    if not sessions:
        raise ValueError("Give at least one session to plan for.")
    if len(sessions) > MAX_SESSIONS:
        raise ValueError(f"Plan at most {MAX_SESSIONS} sessions at a time.")
    for s in sessions:
        if not isinstance(s, Session):
            raise TypeError(f"sessions must hold Session objects, not {type(s).__name__}.")
    if not 1 <= horizon_weeks <= 104:
        raise ValueError("horizon_weeks must be from 1 to 104.")
    return today


def plan(
    claims: Iterable[Claim],
    rules: Iterable[Rule],
    ledger: Ledger,
    sessions: Iterable[Session],
    preferences: Iterable[str | Mapping[str, object]] = (),
    today: date | None = None,
    *,
    horizon_weeks: int = HORIZON_WEEKS,
) -> Plan:
    """Propose payment schedules for ``sessions`` that keep every benefit rule clean.

    ``preferences`` is the person's ordered list of kinds (or ``{kind, note}`` mappings), most
    preferred first. Returns a ``Plan``: its ``proposals`` are the clean schedules found (best first)
    or, when there is none within the horizon, the single least harmful schedule (``clean`` False).
    """
    sessions = list(sessions)
    on = _check_inputs(ledger, today, sessions, horizon_weeks)
    prefs = engine.preference_kinds(preferences)
    total = sum((s.amount for s in sessions), ZERO)
    planner = _Planner(claims, rules, ledger, sessions, on, horizon_weeks)
    horizon_end = max(planner.earliest(s) for s in sessions) + planner.horizon - timedelta(days=1)
    kinds = money_kinds(prefs)
    if not kinds:
        return _no_money_plan(planner, prefs, total, horizon_end)
    proposer = _Proposer(planner, kinds)
    proposals = proposer.clean()
    if proposals:
        return Plan(total=total, proposals=tuple(proposals), clean=True, horizon_end=horizon_end, outcome=OUTCOME_CLEAN)
    best = proposer.least_harm()
    return Plan(total=total, proposals=(best,), clean=best.clean, horizon_end=horizon_end, outcome=OUTCOME_LEAST_HARM)


def _no_money_plan(planner: _Planner, prefs: list[str], total: Decimal, horizon_end: date) -> Plan:
    """The person chose no kind of payment that carries money: record what they chose instead."""
    kind = next((k for k in prefs if k != "declined"), "declined")
    payments = tuple(
        PlannedPayment(
            kind,
            ZERO.quantize(PENNY),
            planner.earliest(s),
            s.worked_on,
            i,
            offered=s.amount,
            service_user_context=s.service_user_context,
        )
        for i, s in sorted(enumerate(planner.sessions), key=lambda t: (t[1].worked_on, t[0]))
    )
    verdicts = recheck(planner.claims, planner.rules, planner.base, payments, planner.sessions).verdicts
    clean = _is_clean(verdicts)
    story = Story(
        sessions=tuple(SessionPlan(p.worked_on, planner.sessions[p.session].amount, (p,)) for p in payments),
        breaches=_breaches(planner, verdicts),
    )
    proposal = Proposal(
        key="no_money", payments=payments, verdicts=verdicts, clean=clean, harm=harm_of(verdicts), story=story
    )
    return Plan(total=total, proposals=(proposal,), clean=clean, horizon_end=horizon_end, outcome=OUTCOME_NO_MONEY)
