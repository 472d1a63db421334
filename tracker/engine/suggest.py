"""Suggestions: when a proposed payment would break a rule, other ways to pay the same amount
(split, defer, switch kind, reduce), each re-checked with the engine before it is offered."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from tracker.engine import periods
from tracker.engine.evaluate import _Context, _counted_in, _Eval, _status
from tracker.engine.model import (
    PENNY,
    ZERO,
    LedgerHours,
    LedgerPayment,
    LimitFigure,
    ProposedPayment,
    SuggestedPayment,
    Suggestion,
    SuggestionBasis,
)
from tracker.vocab import NON_MONEY_KINDS, PAYMENT_KINDS

#: How many periods ahead "defer", "split" and "reduce" look for room: the next two, no further
#: (a payment put off for most of a year is no answer for someone waiting to be paid).
LOOKAHEAD_PERIODS = 2

#: No suggested part is smaller than this: a payment of pennies costs more than it is worth.
SMALLEST_PART = Decimal("1.00")

#: Kinds a payment of one kind is never switched to: money a person chose to give to a charity is
#: not theirs to take as training instead.
NEVER_SWITCHED = {"charity": frozenset({"training"})}


@dataclasses.dataclass(frozen=True)
class PayDays:
    """When a bank transfer can arrive: on a working day (not a weekend, not one of the ``closed``
    bank holidays), and not before ``lead_days`` working days after today (the organisation's time
    to send a payment). The engine is given the holidays; it keeps no calendar of its own."""

    closed: frozenset[date] = frozenset()
    lead_days: int = 0

    def is_open(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.closed

    def on_or_after(self, d: date) -> date:
        """``d``, or the first working day after it."""
        while not self.is_open(d):
            d += timedelta(days=1)
        return d

    def first_after_lead(self, today: date) -> date:
        """The first day a transfer started today can arrive: ``lead_days`` working days on."""
        d, left = today, self.lead_days
        while left > 0:
            d += timedelta(days=1)
            if self.is_open(d):
                left -= 1
        return self.on_or_after(d)


def _even_parts(amount: Decimal, n: int) -> list[Decimal]:
    """``amount`` in ``n`` parts to the penny, as equal as possible, larger parts first."""
    pence = int((amount / PENNY).to_integral_value())
    base, extra = divmod(pence, n)
    return [(Decimal(base + (1 if i < extra else 0)) * PENNY) for i in range(n)]


_RoomKey = tuple[str, date, tuple[tuple[str, Decimal, date, date | None], ...]]


class _Suggester:
    def __init__(
        self,
        ctx: _Context,
        proposed: list[ProposedPayment],
        pays: list[LedgerPayment],
        hours: list[LedgerHours],
        evals: list[_Eval],
        prefs: list[str],
        ruled_out: set[str],
        today: date | None,
        pay_days: PayDays | None = None,
    ) -> None:
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
        self.pay_days = pay_days or PayDays()
        self._room_cache: dict[_RoomKey, Decimal | None] = {}

    def run(self) -> list[Suggestion]:
        binding = [ev for ev in self.evals if _status(ev.rule, ev.after) == "over" and ev.after != ev.before]
        # Moving money cannot fix an hours limit: fewer hours are needed, not another date.
        if not binding or any(ev.rule.measure == "hours" for ev in binding):
            return []
        out: list[Suggestion] = []
        seen: set[tuple[int, tuple[SuggestedPayment, ...]]] = set()
        for n, (prop, pay) in enumerate(zip(self.proposed, self.pays)):
            mine = self._binding_for(prop, pay, binding)
            if not mine:
                continue
            others = [p for m, p in enumerate(self.pays) if m != n]
            for s in self._for_payment(prop, others, mine):
                key = (n, s.payments)
                if key not in seen:
                    seen.add(key)
                    out.append(dataclasses.replace(s, replaces=n))
        return out

    def _binding_for(self, prop: ProposedPayment, pay: LedgerPayment, binding: list[_Eval]) -> list[_Eval]:
        """The broken periods this payment counts in, the tightest rule first (block before warn,
        then the most over); none for a payment that carries no money."""
        if prop.amount <= 0 or prop.kind in NON_MONEY_KINDS:
            return []
        mine = [ev for ev in binding if _counted_in(ev.rule, pay, ev.start, ev.end) is not None]
        mine.sort(key=lambda ev: (ev.rule.effective_severity != "block", _limit(ev) - ev.after))
        return mine

    # helpers

    def _earliest(self, prop: ProposedPayment, kind: str) -> date:
        earliest = max(prop.paid_on, self.today) if self.today else prop.paid_on
        if kind != "bank_transfer":
            return earliest
        if self.today:
            earliest = max(earliest, self.pay_days.first_after_lead(self.today))
        return self.pay_days.on_or_after(earliest)

    def _dates(self, prop: ProposedPayment, ev: _Eval, earliest: date) -> list[date]:
        """The earliest date, then the first day of each later window this payment's kind can
        arrive in (a bank transfer: its first working day; none when the window has no such day)."""
        windows = self._windows(ev, earliest)
        dates = [earliest]
        for start, end in windows[1:]:
            d = self.pay_days.on_or_after(start) if prop.kind == "bank_transfer" else start
            if d <= end:
                dates.append(d)
        return dates

    def _payment(self, prop: ProposedPayment, kind: str, amount: Decimal, on: date) -> LedgerPayment:
        if kind == prop.kind and amount == prop.amount:
            benefit_value = prop.benefit_value
        else:
            benefit_value = amount if kind == "training" else None
        # Moving money moves the date it falls due with it (the date rules such as CA and ESA count);
        # on the proposed date it keeps its own due date. The work it pays for stays the same.
        return LedgerPayment(
            kind=kind,
            amount=amount,
            paid_on=on,
            worked_on=prop.worked_on,
            benefit_value=benefit_value,
            status="draft",
            due_on=prop.due_on if on == prop.paid_on else on,
            covers_from=prop.covers_from,
            covers_to=prop.covers_to,
        )

    def _room(self, kind: str, on: date, extras: list[LedgerPayment]) -> Decimal | None:
        """The most of ``kind`` that can be paid on ``on`` without breaking any rule (None: no limit)."""
        key: _RoomKey = (kind, on, tuple((p.kind, p.amount, p.paid_on, p.worked_on) for p in extras))
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

    def _windows(self, ev: _Eval, start_on: date) -> list[tuple[date, date]]:
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

    def _limits(self, ev: _Eval, on: list[date]) -> tuple[LimitFigure, ...]:
        """The limit as it stands on the given dates (a later date may fall under a newer figure,
        e.g. after an April uprating): one figure per version in force."""
        rules = []
        fam_idx = self.ctx.family_order.get(ev.rule.family)
        for d in on:
            sel = self.ctx.select(fam_idx, d) if fam_idx is not None else None
            rule = sel.rule if sel is not None else ev.rule
            if rule not in rules:
                rules.append(rule)
        rules = rules or [ev.rule]
        return tuple(LimitFigure(r.title, r.measure, r.limit) for r in rules)

    def _basis(self, prop: ProposedPayment, ev: _Eval, on: list[date]) -> SuggestionBasis:
        return SuggestionBasis(
            kind=prop.kind,
            amount=prop.amount,
            paid_on=prop.paid_on,
            rule_title=ev.rule.title,
            period=ev.rule.period,
            breach=ev.rule.breach,
            limits=self._limits(ev, on),
        )

    def _suggestion(self, kind: str, prop: ProposedPayment, ev: _Eval, chosen: list[LedgerPayment]) -> Suggestion:
        payments = tuple(SuggestedPayment(p.kind, p.amount, p.paid_on, p.due_on) for p in chosen)
        return Suggestion(kind, payments, basis=self._basis(prop, ev, [p.paid_on for p in chosen]))

    # the four kinds

    def _for_payment(
        self, prop: ProposedPayment, others: list[LedgerPayment], binding: list[_Eval]
    ) -> list[Suggestion]:
        found: dict[str, Suggestion] = {}
        earliest = self._earliest(prop, prop.kind)
        if prop.kind not in self.ruled_out:
            for ev in binding:
                dates = self._dates(prop, ev, earliest)
                for kind, search in (("split", self._split), ("defer", self._defer), ("reduce", self._reduce)):
                    if kind not in found:
                        s = search(prop, others, ev, dates)
                        if s:
                            found[kind] = s
        s = self._switch(prop, others, binding)
        if s:
            found["switch_kind"] = s
        return [found[k] for k in ("split", "defer", "switch_kind", "reduce") if k in found]

    def _first_with_room(self, prop: ProposedPayment, others: list[LedgerPayment], dates: list[date]) -> int | None:
        for i, d in enumerate(dates):
            room = self._room(prop.kind, d, others)
            if room is None or room > 0:
                return i
        return None

    def _too_little_room(self, prop: ProposedPayment, others: list[LedgerPayment], dates: list[date]) -> bool:
        """Rooms only shrink as parts are added, so the rooms one at a time bound the total."""
        rooms = [self._room(prop.kind, d, others) for d in dates]
        known = [r for r in rooms if r is not None]
        return len(known) == len(rooms) and sum(known, ZERO) < prop.amount

    def _parts(
        self, prop: ProposedPayment, others: list[LedgerPayment], parts: list[Decimal], dates: list[date]
    ) -> list[LedgerPayment] | None:
        """The parts paid on the dates, each within the room left, or None when one does not fit."""
        chosen: list[LedgerPayment] = []
        for part, d in zip(parts, dates):
            if not self._fits(self._room(prop.kind, d, others + chosen), part):
                return None
            chosen.append(self._payment(prop, prop.kind, part, d))
        return chosen

    def _split(
        self, prop: ProposedPayment, others: list[LedgerPayment], ev: _Eval, dates: list[date]
    ) -> Suggestion | None:
        first = self._first_with_room(prop, others, dates)
        if first is None:
            return None
        for n in range(2, len(dates) - first + 1):
            if n == 4 and self._too_little_room(prop, others, dates[first:]):
                return None
            parts = _even_parts(prop.amount, n)
            if parts[-1] < SMALLEST_PART:
                return None
            chosen = self._parts(prop, others, parts, dates[first : first + n])
            if chosen is not None and self._recheck(others, chosen):
                return self._suggestion("split", prop, ev, chosen)
        return None

    def _defer(
        self, prop: ProposedPayment, others: list[LedgerPayment], ev: _Eval, dates: list[date]
    ) -> Suggestion | None:
        for d in dates[1:]:
            if not self._fits(self._room(prop.kind, d, others), prop.amount):
                continue
            new = [self._payment(prop, prop.kind, prop.amount, d)]
            if self._recheck(others, new):
                return self._suggestion("defer", prop, ev, new)
        return None

    def _reduce(
        self, prop: ProposedPayment, others: list[LedgerPayment], ev: _Eval, dates: list[date]
    ) -> Suggestion | None:
        now_room = self._room(prop.kind, dates[0], others)
        if now_room is None or now_room < SMALLEST_PART or now_room >= prop.amount:
            return None
        rest = prop.amount - now_room
        if rest < SMALLEST_PART:
            # no remainder of pennies: the first part gives way so the rest is a whole pound
            now_room = prop.amount - SMALLEST_PART
            rest = SMALLEST_PART
            if now_room < SMALLEST_PART:
                return None
        first = self._payment(prop, prop.kind, now_room, dates[0])
        for d in dates[1:]:
            if not self._fits(self._room(prop.kind, d, others + [first]), rest):
                continue
            second = self._payment(prop, prop.kind, rest, d)
            if self._recheck(others, [first, second]):
                # the figure quoted is the one in force on the first date ("the most that fits under ...")
                payments = (SuggestedPayment(prop.kind, now_room, dates[0]), SuggestedPayment(prop.kind, rest, d))
                return Suggestion("reduce", payments, basis=self._basis(prop, ev, [dates[0]]))
        return None

    def _switch_to(self, prop: ProposedPayment) -> list[str]:
        """The kinds this payment may be switched to, in the person's own order of preference."""
        never = NEVER_SWITCHED.get(prop.kind, frozenset())
        return [
            kind
            for kind in self.prefs
            if kind != prop.kind and kind not in NON_MONEY_KINDS and kind not in self.ruled_out and kind not in never
        ]

    def _switch(self, prop: ProposedPayment, others: list[LedgerPayment], binding: list[_Eval]) -> Suggestion | None:
        for kind in self._switch_to(prop):
            earliest = self._earliest(prop, kind)
            new = [self._payment(prop, kind, prop.amount, earliest)]
            if not self._recheck(others, new):
                continue
            titles: list[str] = []
            for ev in binding:
                if ev.rule.title not in titles:
                    titles.append(ev.rule.title)
            basis = dataclasses.replace(self._basis(prop, binding[0], []), rule_titles=tuple(titles))
            return Suggestion("switch_kind", (SuggestedPayment(kind, prop.amount, earliest),), basis=basis)
        return None


def _limit(ev: _Eval) -> Decimal:
    """A binding rule's limit (a broken rule always has one)."""
    assert ev.rule.limit is not None
    return ev.rule.limit
