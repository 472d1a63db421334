"""Notional earnings: money offered and not taken, judged for each benefit.

Outside the exemptions, a benefit's regulations can treat a person as paid what they were offered
when they work unpaid or for less (UC Regs 2013 reg 60(3); the legacy benefits' notional-earnings
rules, e.g. the Computation of Earnings Regs 1996 reg 4). A payment with an amount offered is
judged when the offer is more than the money given: declined, reduced, paid to a charity (for the
part not given), or replaced by training or a certificate. For each benefit in
``vocab.NOTIONAL_EARNINGS`` the shortfall counts as earnings unless an exemption is established:

* ``service_user``: the work is recorded as service-user involvement (``service_user_context``
  ``yes``): UC reg 60(4)(b), and the 2009 easements for the legacy benefits;
* ``charity``: the organisation is a charity or voluntary organisation (``Ledger.payer``), for UC
  only (reg 60(4)(a); it assumes the work is reasonable to do unpaid).

Nothing else is assumed: an unknown context or an unstated payer establishes no exemption.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import tracker.vocab as vocab
from tracker.engine.model import ZERO, LedgerPayment, Rule

#: Kinds whose amount is money given to the person (or to a charity for them).
_MONEY_GIVEN = frozenset(vocab.EARNED_MONEY_KINDS)


@dataclass(frozen=True)
class Tally:
    """The notional earnings in a period: counted, exempt, and why."""

    counted: Decimal = ZERO
    exempt: Decimal = ZERO
    #: The exemptions that applied (``vocab.NOTIONAL_EXEMPTIONS``).
    exemptions: frozenset[str] = frozenset()
    #: Why an exemption was not established: ``service_user_no``, ``service_user_unknown``,
    #: ``payer_<kind>`` or ``payer_unknown``.
    reasons: frozenset[str] = frozenset()

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.counted + other.counted,
            self.exempt + other.exempt,
            self.exemptions | other.exemptions,
            self.reasons | other.reasons,
        )

    @property
    def judged(self) -> bool:
        return self.counted != 0 or self.exempt != 0


EMPTY = Tally()


def basis(rule: Rule) -> vocab.NotionalBasis | None:
    """The notional-earnings basis for a rule's benefit, or None (an hours rule, PC, PIP, tax)."""
    if rule.measure != "earnings":
        return None
    return vocab.NOTIONAL_EARNINGS.get(rule.benefit)


def shortfall(p: LedgerPayment, counted: Decimal | None) -> Decimal:
    """What of the offer was not given and the rule does not already count (a reversal's offer is
    negative and nets out the payment it reverses)."""
    offered = p.offered
    if offered is None:
        return ZERO
    given = p.amount if p.kind in _MONEY_GIVEN else ZERO
    if counted is not None and abs(counted) > abs(given):
        given = counted
    if offered >= 0:
        return max(ZERO, offered - given)
    return min(ZERO, offered - given)


def judge(found: vocab.NotionalBasis, payer: str | None, context: str, amount: Decimal) -> Tally:
    """Whether ``amount`` of notional earnings counts for a benefit, with the exemption that applies
    or the reasons none was established."""
    if context == "yes" and "service_user" in found.exemptions:
        return Tally(exempt=amount, exemptions=frozenset({"service_user"}))
    if payer == "charity" and "charity" in found.exemptions:
        return Tally(exempt=amount, exemptions=frozenset({"charity"}))
    reasons = {f"service_user_{context}"}
    if "charity" in found.exemptions:
        reasons.add(f"payer_{payer or 'unknown'}")
    return Tally(counted=amount, reasons=frozenset(reasons))
