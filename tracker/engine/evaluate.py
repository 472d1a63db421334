"""Evaluation: which version of each rule family governs a date, the totals that count in its
period, and the verdict (status, headroom, remarks as codes and figures)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any, Generic, TypeVar

import tracker.vocab as vocab
from tracker.engine import coverage, dates, notional, periods
from tracker.engine.model import (
    PENNY,
    ZERO,
    AppliesWhen,
    Claim,
    Counts,
    Ledger,
    LedgerHours,
    LedgerPayment,
    Remark,
    RemarkCode,
    Rule,
    Verdict,
)

# --- the ledger index --------------------------------------------------------------------------


_T = TypeVar("_T")


class _Sorted(Generic[_T]):
    """Items sorted by a date, with the dates in a parallel list for bisect."""

    __slots__ = ("dates", "items")

    def __init__(self, items: Iterable[_T], key: Callable[[_T], date]) -> None:
        self.items = sorted(items, key=key)  # stable: equal dates keep the ledger's order
        self.dates = [key(i) for i in self.items]

    def between(self, start: date, end: date) -> list[_T]:
        return self.items[bisect_left(self.dates, start) : bisect_right(self.dates, end)]


_first: Callable[[tuple[date, Any]], date] = itemgetter(0)


class _Index:
    def __init__(self, ledger: Ledger) -> None:
        self.live = [p for p in ledger.payments if p.status != "cancelled"]
        self._payments: dict[tuple[str, str, bool], tuple[_Sorted[tuple[date, Any]], list[LedgerPayment]]] = {}
        received = _Sorted(ledger.expenses, lambda e: e.paid_on)
        # An expense is due when it is reimbursed.
        self.expenses = {
            "received": received,
            "due": received,
            "worked": _Sorted(ledger.expenses, lambda e: e.incurred_on),
        }
        self.income = _Sorted(ledger.other_income, lambda i: i.received_on)
        self.partner = _Sorted(ledger.partner, lambda i: i.received_on)
        self.hours = _Sorted(ledger.hours, lambda h: h.worked_on)
        #: Payments with an amount offered, judged for notional earnings; and who paid.
        self.offers = [p for p in self.live if p.offered is not None]
        self.payer = ledger.payer

    def partner_total(self, start: date, end: date) -> Decimal:
        """The partner's earnings received from ``start`` to ``end``."""
        return sum((w.amount for w in self.partner.between(start, end)), ZERO)

    def payments(self, rule: Rule) -> tuple[_Sorted[tuple[date, Any]], list[LedgerPayment]]:
        """The payments as the rule counts them: ``(date, payment)`` pairs in date order for those
        that count on one date, and the ones it spreads over the days they cover."""
        key = (rule.date_basis, rule.measure, rule.spread)
        found = self._payments.get(key)
        if found is None:
            spread = [p for p in self.live if dates.is_spread(rule, p)]
            whole = [(dates.basis_date(rule, p), p) for p in self.live if not dates.is_spread(rule, p)]
            found = self._payments[key] = (_Sorted(whole, _first), spread)
        return found


def _payment_value(counts: Counts, p: LedgerPayment | dates.Part) -> Decimal | None:
    """What a payment adds to a rule's total, or None when the rule does not count it."""
    if p.kind == "training" and counts.training_at_value:
        value = p.benefit_value if p.benefit_value is not None else p.amount
        if p.amount < 0 < value:  # a reversal nets out the training it reverses
            value = -value
        return value
    if p.kind in counts.kinds:
        return p.amount
    return None


def _counted_in(rule: Rule, p: LedgerPayment, start: date, end: date) -> Decimal | None:
    """What a payment adds to the rule's total from ``start`` to ``end`` (None: it does not count there)."""
    part = dates.portion(rule, p, start, end)
    return None if part is None else _payment_value(rule.counts, part)


# --- the evaluation context --------------------------------------------------------------------


@dataclass
class _Eval:
    rule: Rule
    attrs: dict[str, Any]
    anchor: date | None
    start: date
    end: date
    before: Decimal = ZERO
    after: Decimal = ZERO
    expenses_counted: Decimal = ZERO
    #: The benefit week these earnings decide, for a rule that affects the following week.
    benefit_week: tuple[date, date] | None = None
    #: The partner's earnings included in the totals (household rules only).
    partner_counted: Decimal = ZERO
    #: Notional earnings judged in the period (counted ones are in the totals).
    tally: notional.Tally = notional.EMPTY

    def totalled(
        self, before: Decimal, after: Decimal, counted: tuple[Decimal, Decimal], tally: notional.Tally = notional.EMPTY
    ) -> _Eval:
        """This period with its totals, the (expenses, partner's earnings) counted in them and its
        notional earnings (``dataclasses.replace``, without its cost)."""
        week = self.benefit_week
        expenses, partner = counted
        return _Eval(
            self.rule, self.attrs, self.anchor, self.start, self.end, before, after, expenses, week, partner, tally
        )

    @property
    def counts_partner(self) -> bool:
        """The rule counts a partner's earnings, and the claim is not one a person makes alone."""
        return self.rule.counts.partner and self.attrs.get(vocab.JOINT_CLAIM) is not False


def _applies(rule: Rule) -> AppliesWhen:
    """The claim a rule needs (always set once the rule is built)."""
    assert rule.applies_when is not None
    return rule.applies_when


def _check_rules(rules: Iterable[object]) -> list[Rule]:
    out: list[Rule] = []
    seen: set[str] = set()
    for r in rules:
        if not isinstance(r, Rule):
            raise TypeError(f"rules must be Rule objects, not {type(r).__name__}.")
        if r.code in seen:
            raise ValueError(f"Two rules have the code {r.code}.")
        seen.add(r.code)
        out.append(r)
    return out


def _check_claims(claims: Iterable[object]) -> list[Claim]:
    out: list[Claim] = []
    for c in claims:
        if not isinstance(c, Claim):
            raise TypeError(f"claims must be Claim objects, not {type(c).__name__}.")
        out.append(c)
    return out


class RuleSet:
    """Rules checked and grouped by family once, for many people (``position_many``): each set of
    claimed benefits gets its families once, not once a person."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        families: dict[str, list[Rule]] = {}
        for r in _check_rules(rules):
            families.setdefault(r.family, []).append(r)
        # newest version first
        self._families = [
            (name, sorted(vs, key=lambda r: r.effective_from, reverse=True)) for name, vs in families.items()
        ]
        self._for: dict[frozenset[str], list[tuple[str, list[Rule]]]] = {}

    def families_for(self, benefits: frozenset[str]) -> list[tuple[str, list[Rule]]]:
        """The families that can apply to someone claiming ``benefits`` (the tax rule to everyone)."""
        found = self._for.get(benefits)
        if found is None:
            claimed = benefits | {"TAX"}
            # a family whose rules need a benefit the person has no claim for can never apply
            found = [(name, vs) for name, vs in self._families if any(_applies(r).benefit in claimed for r in vs)]
            self._for[benefits] = found
        return found


class _Context:
    """Everything one call needs: claims, rule families, the sorted ledger, and caches."""

    def __init__(self, claims: Iterable[Claim], rules: Iterable[Rule] | RuleSet, ledger: Ledger) -> None:
        if not isinstance(ledger, Ledger):
            raise TypeError(f"ledger must be a Ledger, not {type(ledger).__name__}.")
        self.claims = [(c, c.effective_attributes()) for c in _check_claims(claims)]
        ruleset = rules if isinstance(rules, RuleSet) else RuleSet(rules)
        self.families = ruleset.families_for(frozenset(c.benefit for c, _ in self.claims))
        self.family_order = {name: n for n, (name, _) in enumerate(self.families)}
        self.index = _Index(ledger)
        self._select_cache: dict[tuple[int, date], _Eval | None] = {}
        self._base_cache: dict[
            tuple[str, date, date, bool], tuple[Decimal, tuple[Decimal, Decimal], notional.Tally]
        ] = {}

    # which version, which claim, which window

    def _match(self, rule: Rule, on: date) -> _Eval | None:
        """The period of this rule version that contains ``on``, with the claim that makes it apply:
        a claim in force on ``on``, or, for a rule that affects the following week, a claim in force
        on any day of that benefit week (so the week before a claim's first benefit week counts, and
        a week that could only affect weeks after the claim ended does not)."""
        aw = _applies(rule)
        if aw.benefit == "TAX":
            return _Eval(rule, {}, None, *periods.window(rule.period, on, {}, rule.week_start))
        for claim, attrs in self.claims:
            if claim.benefit != aw.benefit or not aw.matches(attrs):
                continue
            if rule.affects != "following_week":
                if claim.active_on(on):
                    return _Eval(
                        rule,
                        attrs,
                        claim.start_on,
                        *periods.window(rule.period, on, attrs, rule.week_start, claim.start_on),
                    )
                continue
            start, end = periods.window(rule.period, on, attrs, rule.week_start, claim.start_on)
            week = dates.following_week(start, end)
            if claim.overlaps(*week):
                return _Eval(rule, attrs, claim.start_on, start, end, benefit_week=week)
        return None

    def select(self, fam_idx: int, on: date) -> _Eval | None:
        """The version of a family that governs the period containing ``on`` (a date the family's
        rules count a payment on: see ``attributed``), or None.

        The version is the one in force at the *start* of the period (so an assessment period
        that starts before an uprating date keeps the old figure), or, for a rule that affects the
        following week, at the start of that benefit week (its limit is the one that week uses).
        If no version is in force then (a rule that begins mid-period), the one in force on the
        date is used.
        """
        key = (fam_idx, on)
        if key in self._select_cache:
            return self._select_cache[key]
        fallback = None
        found = None
        for rule in self.families[fam_idx][1]:
            ev = self._match(rule, on)
            if ev is None:
                continue
            if rule.in_force(ev.benefit_week[0] if ev.benefit_week else ev.start):
                found = ev
                break
            if fallback is None and rule.in_force(on):
                fallback = ev
        result = found or fallback
        self._select_cache[key] = result
        return result

    def attributed(self, fam_idx: int, p: LedgerPayment) -> Iterator[_Eval]:
        """Each period of a family a payment counts in: one, or every period its covered days
        fall in when the family spreads payments. The newest version says which date counts."""
        first, last = dates.span(self.families[fam_idx][1][0], p)
        on = first
        while on <= last:
            ev = self.select(fam_idx, on)
            if ev is not None:
                yield ev
                on = max(on, ev.end)
            on += dates.ONE_DAY

    # totals

    def base_total(self, sel: _Eval) -> tuple[Decimal, tuple[Decimal, Decimal], notional.Tally]:
        """The period's total in the ledger, the (expenses, partner's earnings) counted in it, and
        its notional earnings (the counted ones are in the total)."""
        rule, start, end, partner = sel.rule, sel.start, sel.end, sel.counts_partner
        key = (rule.code, start, end, partner)
        hit = self._base_cache.get(key)
        if hit is not None:
            return hit
        idx = self.index
        total = ZERO
        expenses_counted = ZERO
        partner_counted = ZERO
        if rule.measure == "hours":
            for h in idx.hours.between(start, end):
                total += h.hours
        else:
            counts = rule.counts
            whole, spread = idx.payments(rule)
            for _, p in whole.between(start, end):
                v = _payment_value(counts, p)
                if v is not None:
                    total += v
            for p in spread:
                v = _counted_in(rule, p, start, end)
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
            if partner:
                partner_counted = idx.partner_total(start, end)
                total += partner_counted
        tally = self.notional_in(rule, start, end, idx.offers)
        result = (total + tally.counted, (expenses_counted, partner_counted), tally)
        self._base_cache[key] = result
        return result

    def notional_in(self, rule: Rule, start: date, end: date, payments: Iterable[LedgerPayment]) -> notional.Tally:
        """The notional earnings of ``payments`` (those with an offer) in the rule's period."""
        found = notional.basis(rule)
        tally = notional.EMPTY
        if found is None:
            return tally
        for p in payments:
            if p.offered is None or dates.portion(rule, p, start, end) is None:
                continue
            amount = notional.shortfall(p, _payment_value(rule.counts, p))
            if amount and dates.is_spread(rule, p):
                amount = dates.portion(rule, replace(p, amount=amount, benefit_value=None), start, end).amount
            if amount:
                tally += notional.judge(found, self.index.payer, p.service_user_context, amount)
        return tally

    @staticmethod
    def extra_total(
        rule: Rule, start: date, end: date, extra_payments: Iterable[LedgerPayment], extra_hours: Iterable[LedgerHours]
    ) -> Decimal:
        total = ZERO
        if rule.measure == "hours":
            for h in extra_hours:
                if start <= h.worked_on <= end:
                    total += h.hours
            return total
        for p in extra_payments:
            v = _counted_in(rule, p, start, end)
            if v is not None:
                total += v
        return total

    # evaluation

    def evaluate(
        self,
        extra_payments: Sequence[LedgerPayment] = (),
        extra_hours: Sequence[LedgerHours] = (),
        window_payments: Sequence[LedgerPayment] | None = None,
        window_hours: Sequence[LedgerHours] | None = None,
    ) -> list[_Eval]:
        """Evaluate every family for the periods containing the window items' dates.

        Totals include all extras; the periods are those of ``window_payments`` (every family)
        and ``window_hours`` (hours rules only), which default to the extras themselves.
        """
        if window_payments is None:
            window_payments = extra_payments
        if window_hours is None:
            window_hours = extra_hours
        found: dict[tuple[int, date], _Eval] = {}
        for fam_idx, (_name, versions) in enumerate(self.families):
            for p in window_payments:
                for ev in self.attributed(fam_idx, p):
                    found.setdefault((fam_idx, ev.start), ev)
            if window_hours and any(r.measure == "hours" for r in versions):
                for h in window_hours:
                    sel = self.select(fam_idx, h.worked_on)
                    if sel is not None and sel.rule.measure == "hours":
                        found.setdefault((fam_idx, sel.start), sel)
        out = []
        for key in sorted(found):
            sel = found[key]
            before, counted, tally = self.base_total(sel)
            after = before + self.extra_total(sel.rule, sel.start, sel.end, extra_payments, extra_hours)
            extra = self.notional_in(sel.rule, sel.start, sel.end, extra_payments)
            out.append(sel.totalled(before, after + extra.counted, counted, tally + extra))
        return out

    def covers(self, benefit: str, d_received: date, d_worked: date) -> bool:
        """Whether the limit rules of ``benefit`` govern a payment on these dates (see ``coverage``).

        Coverage is judged per measure: a claim whose rules limit both earnings and hours (ESA
        permitted work) is covered only when a rule of each measure the pack has for it is in
        force, so an hours rule in force cannot hide a missing earnings figure.
        """
        expected: set[str] = set()
        found: set[str] = set()
        for fam_idx, (_name, versions) in enumerate(self.families):
            if _applies(versions[0]).benefit != benefit:
                continue
            expected.update(self._claimed_measures(versions))
            on = d_worked if versions[0].date_basis == "worked" else d_received  # due: received, unless given
            sel = self.select(fam_idx, on)
            if sel is not None and sel.rule.kind != "info":
                found.add(sel.rule.measure)
            elif sel is None and self._only_after_claim(versions, on):
                found.add(versions[0].measure)  # could only decide a week after the claim ended
        return bool(found) and expected <= found

    def _claimed_measures(self, versions: Sequence[Rule]) -> set[str]:
        """The measures a family limits for a claim of the person it applies to (any version)."""
        return {
            r.measure
            for r in versions
            if r.kind != "info"
            and any(_applies(r).benefit == c.benefit and _applies(r).matches(a) for c, a in self.claims)
        }

    def _only_after_claim(self, versions: Sequence[Rule], on: date) -> bool:
        """A following-week rule in force on ``on`` that applies to a claim of the person, whose
        period still found no claim: the benefit week these earnings decide is after the claim."""
        rule = next((r for r in versions if r.in_force(on) and r.kind != "info"), None)
        if rule is None or rule.affects != "following_week":
            return False
        aw = _applies(rule)
        return any(c.benefit == aw.benefit and aw.matches(attrs) for c, attrs in self.claims)

    def uncovered(self, days: Iterable[tuple[date, date]]) -> list[Verdict]:
        """Unknown verdicts for the claims no rule covers on these (received, worked) dates."""
        return coverage.uncovered(self.claims, days, self.covers)

    def evaluate_on(self, on: date) -> list[_Eval]:
        out = []
        for fam_idx in range(len(self.families)):
            sel = self.select(fam_idx, on)
            if sel is None:
                continue
            total, counted, tally = self.base_total(sel)
            out.append(sel.totalled(total, total, counted, tally))
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


def _taper(rule: Rule, after: Decimal) -> tuple[Decimal | None, list[Remark]]:
    """A taper rule's estimated reduction (None without a rate), and its remark when above the limit."""
    if rule.kind != "taper" or rule.limit is None:
        return None, []
    excess = max(ZERO, after - rule.limit)
    if rule.taper_rate is not None:
        estimated = (rule.taper_rate * excess).quantize(PENNY, rounding=ROUND_HALF_UP)
        if excess <= 0:
            return estimated, []
        return estimated, [
            Remark(
                RemarkCode.TAPER_ESTIMATE,
                amount=estimated,
                limit=rule.limit,
                rate=rule.taper_rate,
                benefit=rule.benefit,
                period=rule.period,
            )
        ]
    if excess > 0:
        return None, [Remark(RemarkCode.TAPER_UNKNOWN, limit=rule.limit, benefit=rule.benefit, period=rule.period)]
    return None, []


def _remarks(ev: _Eval, status: str, what_if: bool, taper: list[Remark]) -> tuple[Remark, ...]:
    rule = ev.rule
    out: list[Remark] = []
    if rule.confidence == "unconfirmed":
        out.append(Remark(RemarkCode.UNCONFIRMED))
    elif rule.confidence == "derived":
        out.append(Remark(RemarkCode.DERIVED))
    elif rule.confidence == "secondary":
        out.append(Remark(RemarkCode.SECONDARY))
    if coverage.is_stale(rule, ev.start):
        out.append(Remark(RemarkCode.STALE, day=rule.next_uprating))
    if what_if and status == "over" and _broken(rule, ev.before):
        out.append(Remark(RemarkCode.ALREADY_OVER))
    out += taper
    if ev.expenses_counted > 0:
        out.append(Remark(RemarkCode.EXPENSES, amount=ev.expenses_counted, period=rule.period))
    if ev.partner_counted != 0:
        out.append(Remark(RemarkCode.PARTNER, amount=ev.partner_counted, period=rule.period))
    out += _notional_remarks(rule, ev.tally)
    if rule.message:
        out.append(Remark(RemarkCode.RULE_MESSAGE, text=rule.message))
    return tuple(out)


def _notional_remarks(rule: Rule, tally: notional.Tally) -> list[Remark]:
    out = []
    if tally.counted:
        reasons = ",".join(sorted(tally.reasons))
        out.append(Remark(RemarkCode.NOTIONAL_COUNTED, amount=tally.counted, benefit=rule.benefit, text=reasons))
    if tally.exempt:
        used = ",".join(sorted(tally.exemptions))
        out.append(Remark(RemarkCode.NOTIONAL_EXEMPT, amount=tally.exempt, benefit=rule.benefit, text=used))
    return out


def _verdict(ev: _Eval, what_if: bool = True) -> Verdict:
    rule = ev.rule
    status = _status(rule, ev.after)
    estimated, taper = _taper(rule, ev.after)
    headroom = None if rule.limit is None else rule.limit - ev.after
    tally = ev.tally
    found = notional.basis(rule) if tally.judged else None
    return Verdict(
        rule=rule.code,
        family=rule.family,
        benefit=rule.benefit,
        title=rule.title,
        period_start=ev.start,
        period_end=ev.end,
        measure="notional_earnings" if tally.counted > 0 else rule.measure,
        total_before=ev.before,
        total_after=ev.after,
        limit=rule.limit,
        headroom=headroom,
        status=status,
        severity=rule.effective_severity,
        confidence=rule.confidence,
        source=rule.source,
        estimated_reduction=estimated,
        is_taper=rule.kind == "taper",
        remarks=_remarks(ev, status, what_if, taper),
        stale=coverage.is_stale(rule, ev.start),
        date_basis=rule.date_basis,
        benefit_week_start=ev.benefit_week[0] if ev.benefit_week else None,
        benefit_week_end=ev.benefit_week[1] if ev.benefit_week else None,
        notional_counted=tally.counted,
        notional_exempt=tally.exempt,
        exemptions=tuple(sorted(tally.exemptions)),
        exemptions_considered=found.exemptions if found else (),
        notional_source=found.source if found else "",
    )
