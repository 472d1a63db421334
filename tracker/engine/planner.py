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

This module imports neither Flask nor SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from tracker.engine import core as engine
from tracker.engine.core import (
    BENEFIT_NAMES,
    NON_MONEY_KINDS,
    PAYMENT_KINDS,
    PENNY,
    ZERO,
    Claim,
    Ledger,
    LedgerHours,
    LedgerPayment,
    ProposedPayment,
    Rule,
    Verdict,
)
from tracker.engine import periods

HORIZON_WEEKS = 26
#: The smallest part a split pays, unless it is all that is left: 37p now and the rest later helps no one.
MIN_PART = Decimal("5.00")
#: The most sessions one plan takes.
MAX_SESSIONS = 24

_KIND_WORDS = {
    "cash": "in cash",
    "bank_transfer": "by bank transfer",
    "voucher": "in vouchers",
    "training": "as training",
    "charity": "as a payment to a charity",
    "certificate": "as a certificate",
    "declined": "as a declined payment",
}
_KIND_NOUN = {
    "cash": "Cash",
    "bank_transfer": "A bank transfer",
    "voucher": "Vouchers",
    "training": "Training",
    "charity": "A payment to a charity",
    "certificate": "A certificate",
    "declined": "Declining payment",
}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def day_text(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def pounds(value: Decimal) -> str:
    q = value.quantize(PENNY)
    sign = "-" if q < 0 else ""
    return f"{sign}£{abs(q):,.2f}"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# --- input and output --------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """An upcoming session: the date worked, what is owed for it, and the hours (optional)."""

    worked_on: date
    amount: Decimal
    hours: Decimal | None = None

    def __post_init__(self):
        if type(self.worked_on) is not date:
            raise TypeError("worked_on must be a datetime.date.")
        engine._money(self.amount, "session amount")
        if self.amount <= 0:
            raise ValueError("A session's amount must be more than zero.")
        if self.hours is not None:
            engine._decimal(self.hours, "session hours")
            if self.hours < 0:
                raise ValueError("A session's hours cannot be negative.")


@dataclass(frozen=True)
class PlannedPayment:
    kind: str
    amount: Decimal
    paid_on: date
    worked_on: date
    session: int  # index of the session it pays for
    #: For a certificate or a declined payment: the money offered instead (it carries none).
    offered: Decimal | None = None

    def proposed(self, hours: Decimal | None = None) -> ProposedPayment:
        return ProposedPayment(kind=self.kind, amount=self.amount, paid_on=self.paid_on, worked_on=self.worked_on,
                               hours=hours)

    def ledger(self) -> LedgerPayment:
        return LedgerPayment(kind=self.kind, amount=self.amount, paid_on=self.paid_on, worked_on=self.worked_on,
                             status="draft")

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "amount": engine.money_str(self.amount), "paid_on": self.paid_on.isoformat(),
             "worked_on": self.worked_on.isoformat()}
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

    def key(self) -> tuple:
        return (self.blocks, self.warns, self.excess, self.reduction)

    @property
    def overs(self) -> int:
        return self.blocks + self.warns


@dataclass(frozen=True)
class Proposal:
    key: str
    title: str
    payments: tuple  # of PlannedPayment
    explanation: str
    verdicts: tuple  # of engine.Verdict, from engine.check with every payment of the proposal
    clean: bool
    harm: Harm

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)

    @property
    def estimated_reduction(self) -> Decimal:
        return self.harm.reduction

    def to_dict(self) -> dict:
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
    proposals: tuple  # of Proposal: the clean ones, or the single least harmful one
    clean: bool
    message: str
    horizon_end: date

    @property
    def best(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None

    def to_dict(self) -> dict:
        return {"total": engine.money_str(self.total), "clean": self.clean, "message": self.message,
                "horizon_end": self.horizon_end.isoformat(), "proposals": [p.to_dict() for p in self.proposals]}


# --- helpers -------------------------------------------------------------------------------------


def preference_kinds(preferences) -> list[str]:
    kinds: list[str] = []
    for item in preferences or ():
        kind = item.get("kind") if isinstance(item, Mapping) else item
        if kind not in PAYMENT_KINDS:
            raise ValueError(f"preference kind must be one of {', '.join(PAYMENT_KINDS)}; got {kind!r}.")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


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


def recheck(claims, rules, ledger: Ledger, payments: Sequence[PlannedPayment],
            sessions: Sequence[Session]) -> engine.CheckResult:
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


class _Planner:
    def __init__(self, claims, rules, ledger: Ledger, sessions: Sequence[Session], today: date, horizon: int):
        self.claims = list(claims)
        self.rules = list(rules)
        self.by_code: dict[str, Rule] = {r.code: r for r in self.rules}
        self.base = ledger
        self.sessions = list(sessions)
        self.today = today
        self.horizon = timedelta(weeks=horizon)
        self.session_hours = tuple(LedgerHours(s.worked_on, s.hours) for s in self.sessions if s.hours)
        self._ledgers: dict = {}
        self._positions: dict = {}
        self._dates: dict = {}

    # the engine, with a schedule added

    def ledger(self, scheduled: tuple) -> Ledger:
        hit = self._ledgers.get(scheduled)
        if hit is None:
            hit = Ledger(payments=self.base.payments + tuple(p.ledger() for p in scheduled),
                         expenses=self.base.expenses, other_income=self.base.other_income,
                         hours=self.base.hours + self.session_hours)
            if len(self._ledgers) > 4096:
                self._ledgers.clear()
            self._ledgers[scheduled] = hit
        return hit

    def position(self, scheduled: tuple, on: date) -> list[Verdict]:
        key = (scheduled, on)
        hit = self._positions.get(key)
        if hit is None:
            hit = engine.position(self.claims, self.rules, self.ledger(scheduled), on)
            if len(self._positions) > 20000:
                self._positions.clear()
            self._positions[key] = hit
        return hit

    def relevant(self, scheduled: tuple, on: date, worked_on: date) -> list[Verdict]:
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

    def room(self, kind: str, on: date, worked_on: date, scheduled: tuple, strict: bool):
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

    def fill(self, index: int, s: Session, slots, scheduled: tuple, strict: bool, whole_only: bool):
        """Put the session's amount into the slots in order. Returns (parts, remaining, reason)."""
        remaining = s.amount
        parts: list[PlannedPayment] = []
        reason = None
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

    def slots(self, s: Session, kinds: list[str], order: str):
        dates = self.dates(self.earliest(s))
        if order == "kind":
            return [(d, k) for k in kinds for d in dates]
        return [(d, k) for d in dates for k in kinds]

    def place_rest(self, index: int, s: Session, amount: Decimal, slots, scheduled: tuple) -> PlannedPayment:
        """Where the amount that fits nowhere does the least harm (ties: the earliest, most preferred)."""
        best = None
        for n, (d, kind) in enumerate(slots):
            part = PlannedPayment(kind, amount, d, s.worked_on, index)
            before = harm_of(self.relevant(scheduled, d, s.worked_on))
            after = harm_of(self.relevant(scheduled + (part,), d, s.worked_on))
            delta = (after.blocks - before.blocks, after.warns - before.warns, after.excess - before.excess,
                     after.reduction - before.reduction, n)
            if best is None or delta < best[0]:
                best = (delta, part)
        return best[1]

    def schedule(self, kinds: list[str], order: str, strict: bool, whole_only: bool, allow_harm: bool):
        """A whole schedule, session by session in date order. Returns (payments, reasons, complete)."""
        scheduled: tuple = ()
        reasons: dict[int, tuple] = {}
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
                    return None, reasons, False
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


# --- explanations --------------------------------------------------------------------------------


def _rule_phrase(rule: Rule) -> str:
    return f"the {rule.title}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _period_phrase(v: Verdict, rule: Rule) -> str:
    noun = periods.period_noun(rule.period)
    if v.period_start == v.period_end:
        return f"on {day_text(v.period_start)}"
    return f"in the {noun} from {day_text(v.period_start)} to {day_text(v.period_end)}"


def _explain(planner: _Planner, payments: tuple, reasons: dict, kinds: list[str], clean: bool,
             verdicts: Sequence[Verdict], strict: bool) -> str:
    sessions = planner.sessions
    lines = []
    by_session: dict[int, list[PlannedPayment]] = {}
    for p in payments:
        by_session.setdefault(p.session, []).append(p)
    why = []
    said: set = set()
    switched: set[str] = set()
    for index in sorted(by_session, key=lambda i: (sessions[i].worked_on, i)):
        s = sessions[index]
        parts = by_session[index]
        pieces = [f"{pounds(p.amount)} {_KIND_WORDS[p.kind]} on {day_text(p.paid_on)}" for p in parts]
        lines.append(f"For the session on {day_text(s.worked_on)} ({pounds(s.amount)}): pay {_join(pieces)}.")
        for p in parts:
            if p.kind != kinds[0]:
                switched.add(p.kind)
        reason = reasons.get(index)
        if reason is None:
            continue
        d, kind, room, binding, blocked = reason
        if binding is None:
            continue
        rule = planner.by_code[binding.rule]
        if (binding.family, binding.period_start) in said:
            continue
        said.add((binding.family, binding.period_start))
        if blocked:
            text = (f"{_sentence(_rule_phrase(rule))} is already over its limit {_period_phrase(binding, rule)}, "
                    f"so nothing more is paid then.")
        elif room is not None and room > 0:
            text = (f"{_sentence(_rule_phrase(rule))} ({engine._figure(rule.measure, rule.limit)}) has room for "
                    f"only {pounds(room)} {_period_phrase(binding, rule)}.")
        else:
            text = (f"{_sentence(_rule_phrase(rule))} ({engine._figure(rule.measure, rule.limit)}) has no room "
                    f"left {_period_phrase(binding, rule)}.")
        if text not in why:
            why.append(text)
    for kind in kinds:
        if kind not in switched:
            continue
        titles = []
        for v in verdicts:
            rule = planner.by_code.get(v.rule)
            if rule is None or rule.kind == "info" or rule.measure != "earnings":
                continue
            if not rule.counts.counts_kind(kind) and f"the {rule.title}" not in titles and rule.benefit != "TAX":
                titles.append(f"the {rule.title}")
        if titles:
            why.append(f"{_KIND_NOUN[kind]} does not count towards {' or '.join(titles)}, and it is on the "
                       "person's list of ways they are happy to be paid.")
    out = " ".join(lines + why)
    if clean:
        tail = "With this plan no benefit rule goes over its limit."
        if strict:
            tail = "With this plan no benefit rule goes over its limit, and no benefit is reduced by a taper."
        else:
            reduction = harm_of(verdicts).reduction
            if reduction > 0:
                tail += f" A taper would still reduce benefits by about {pounds(reduction)} in all."
        return f"{out} {tail}"
    overs = [v for v in verdicts if v.status == "over"]
    bits = []
    for v in overs:
        rule = planner.by_code.get(v.rule)
        noun = periods.period_noun(rule.period) if rule else "period"
        over_by = -v.headroom if v.headroom is not None else ZERO
        how = (f"{engine._figure(v.measure, over_by)} over" if over_by > 0
               else "at the limit, which breaks it")
        bits.append(f"the {v.title} in the {noun} from {day_text(v.period_start)} to "
                    f"{day_text(v.period_end)} ({how})")
    if bits:
        out += f" This still breaks: {_join(bits)}."
    return out


_TITLES = {
    "as_asked": "Pay each session on the day",
    "split": "Pay what fits now and the rest later",
    "whole": "Pay each session in one go, on the first date it fits",
    "switch": "Pay on time, partly in another way they are happy with",
    "least_harm": "The least harmful option (it still breaks a rule)",
    "no_money": "Record what they asked for instead of money",
}


def _as_asked(planner: _Planner, payments: tuple, kind: str) -> bool:
    if len(payments) != len(planner.sessions):
        return False
    return all(p.kind == kind and p.amount == planner.sessions[p.session].amount
               and p.paid_on == planner.earliest(planner.sessions[p.session]) for p in payments)


def _taper_names(planner: _Planner, verdicts) -> str:
    names = []
    for v in verdicts:
        rule = planner.by_code.get(v.rule)
        if rule is not None and rule.kind == "taper" and BENEFIT_NAMES[rule.benefit] not in names:
            names.append(BENEFIT_NAMES[rule.benefit])
    return _join(names) or "a benefit"


# --- the public function -------------------------------------------------------------------------


def plan(
    claims: Iterable[Claim],
    rules: Iterable[Rule],
    ledger: Ledger,
    sessions: Iterable[Session],
    preferences: Iterable = (),
    today: date | None = None,
    *,
    horizon_weeks: int = HORIZON_WEEKS,
) -> Plan:
    """Propose payment schedules for ``sessions`` that keep every benefit rule clean.

    ``preferences`` is the person's ordered list of kinds (or ``{kind, note}`` mappings), most
    preferred first. Returns a ``Plan``: its ``proposals`` are the clean schedules found (best first)
    or, when there is none within the horizon, the single least harmful schedule (``clean`` False).
    """
    claims = list(claims)
    rules = list(rules)
    sessions = list(sessions)
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
    prefs = preference_kinds(preferences)
    total = sum((s.amount for s in sessions), ZERO)
    planner = _Planner(claims, rules, ledger, sessions, today, horizon_weeks)
    horizon_end = max(planner.earliest(s) for s in sessions) + planner.horizon - timedelta(days=1)

    kinds = money_kinds(prefs)
    if not kinds:
        return _no_money_plan(planner, prefs, total, horizon_end)

    candidates = []  # (key, payments, reasons, strict)
    strategies = [("split", "kind", False), ("whole", "kind", True)]
    if len(kinds) > 1:
        strategies.append(("switch", "date", False))
    for key, order, whole in strategies:
        payments, reasons, complete = planner.schedule(kinds, order, False, whole, allow_harm=False)
        if complete:
            candidates.append((key, payments, reasons, False))

    proposals: list[Proposal] = []
    seen: set = set()

    def add(key: str, payments: tuple, reasons: dict, strict: bool, clean_only: bool = True) -> Proposal | None:
        ident = tuple(sorted((p.session, p.kind, p.amount, p.paid_on) for p in payments))
        if ident in seen:
            return None
        result = recheck(claims, rules, ledger, payments, sessions)
        verdicts = result.verdicts
        clean = not any(v.status == "over" for v in verdicts)
        if clean_only and not clean:
            return None
        seen.add(ident)
        if _as_asked(planner, payments, kinds[0]):
            key = "as_asked"
        title = _TITLES[key]
        if strict:
            title = f"{title}, with no {_taper_names(planner, verdicts)} reduction"
        if key == "as_asked" and kinds[0] != "cash":
            title = f"{title}, {_KIND_WORDS[kinds[0]]}"
        text = _explain(planner, payments, reasons, kinds, clean, verdicts, strict)
        p = Proposal(key=key + ("_no_reduction" if strict else ""), title=title, payments=payments,
                     explanation=text, verdicts=verdicts, clean=clean, harm=harm_of(verdicts))
        proposals.append(p)
        return p

    for key, payments, reasons, strict in candidates:
        add(key, payments, reasons, strict)

    # Where a taper reduces a benefit, also look for a schedule that avoids the reduction.
    if proposals and all(p.harm.reduction > 0 for p in proposals):
        for key, order, whole in strategies:
            payments, reasons, complete = planner.schedule(kinds, order, True, whole, allow_harm=False)
            if complete:
                p = add(key, payments, reasons, True)
                if p is not None and p.harm.reduction > 0:
                    proposals.remove(p)  # it did not avoid the reduction after all

    if proposals:
        proposals.sort(key=lambda p: (p.harm.reduction > 0, 0))
        # keep the strategy order otherwise (sort is stable)
        n = len(proposals)
        message = (f"{'One way' if n == 1 else f'{n} ways'} to pay {pounds(total)} that "
                   f"keep{'s' if n == 1 else ''} every benefit rule within its limit.")
        reduced = [p for p in proposals if p.harm.reduction > 0]
        if reduced and len(reduced) == n:
            message += (f" Each still leads to an estimated reduction in {_taper_names(planner, reduced[0].verdicts)}"
                        f" (a taper, not a lost benefit); the smallest is about "
                        f"{pounds(min(p.harm.reduction for p in reduced))}.")
        return Plan(total=total, proposals=tuple(proposals), clean=True, message=message, horizon_end=horizon_end)

    # No clean schedule: the least harmful one.
    options = []
    for key, order, whole in strategies:
        payments, reasons, _ = planner.schedule(kinds, order, False, whole, allow_harm=True)
        options.append((key, payments, reasons))
    as_asked = tuple(PlannedPayment(kinds[0], s.amount, planner.earliest(s), s.worked_on, i)
                     for i, s in sorted(enumerate(sessions), key=lambda t: (t[1].worked_on, t[0])))
    options.append(("as_asked", as_asked, {}))
    best = None
    for key, payments, reasons in options:
        result = recheck(claims, rules, ledger, payments, sessions)
        harm = harm_of(result.verdicts)
        rank = (harm.key(), len(payments))
        if best is None or rank < best[0]:
            best = (rank, key, payments, reasons, result.verdicts)
    _, key, payments, reasons, verdicts = best
    clean = not any(v.status == "over" for v in verdicts)
    text = _explain(planner, payments, reasons, kinds, clean, verdicts, False)
    title = _TITLES["least_harm"] if not clean else _TITLES.get(key, _TITLES["split"])
    proposal = Proposal(key="least_harm" if not clean else key, title=title, payments=payments,
                        explanation=text, verdicts=verdicts, clean=clean, harm=harm_of(verdicts))
    hours_over = [v for v in verdicts if v.status == "over" and v.measure == "hours"]
    message = (f"There is no way to pay {pounds(total)} by {day_text(horizon_end)} that keeps every benefit rule "
               f"within its limit, in the ways the person is happy to be paid.")
    if hours_over:
        v = hours_over[0]
        message += (f" The hours worked in the week from {day_text(v.period_start)} break the {v.title}: "
                    "no payment date changes that. Fewer hours are needed.")
    message += (" Below is the option that does the least harm. Do not use it without talking to the person and "
                "a benefits adviser first.")
    return Plan(total=total, proposals=(proposal,), clean=clean, message=message, horizon_end=horizon_end)


def _no_money_plan(planner: _Planner, prefs: list[str], total: Decimal, horizon_end: date) -> Plan:
    """The person chose no kind of payment that carries money: record what they chose instead."""
    kind = next((k for k in prefs if k != "declined"), "declined")
    payments = tuple(PlannedPayment(kind, ZERO.quantize(PENNY), planner.earliest(s), s.worked_on, i, offered=s.amount)
                     for i, s in sorted(enumerate(planner.sessions), key=lambda t: (t[1].worked_on, t[0])))
    result = recheck(planner.claims, planner.rules, planner.base, payments, planner.sessions)
    clean = not any(v.status == "over" for v in result.verdicts)
    what = "a certificate" if kind == "certificate" else "a declined payment" if kind == "declined" else kind
    lines = [f"For the session on {day_text(planner.sessions[p.session].worked_on)}: record {what} on "
             f"{day_text(p.paid_on)} (offered {pounds(p.offered)})." for p in payments]
    text = " ".join(lines) + (" The person chose not to be paid in money, so nothing counts towards a benefit's "
                              "earnings limit.")
    proposal = Proposal(key="no_money", title=_TITLES["no_money"], payments=payments, explanation=text,
                        verdicts=result.verdicts, clean=clean, harm=harm_of(result.verdicts))
    if clean:
        message = (f"The person chose not to be paid in money for their time: record {what} instead of "
                   f"{pounds(total)}.")
    else:
        bad = [v for v in result.verdicts if v.status == "over"]
        if any(v.measure == "hours" for v in bad):
            why = "the hours worked still break a rule: fewer hours are needed"
        else:
            why = (f"the {bad[0].title} is already over its limit from {day_text(bad[0].period_start)} to "
                   f"{day_text(bad[0].period_end)} (recording {what} adds nothing to it)")
        message = (f"The person chose not to be paid in money, but {why}. Talk to the person and a benefits "
                   "adviser first.")
    return Plan(total=total, proposals=(proposal,), clean=clean, message=message, horizon_end=horizon_end)
