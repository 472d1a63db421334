"""Unknown is not safe, and old figures say so.

* **Coverage.** A claim that no rule covers on the checked date (no version in force, a claim
  whose answers match no rule, or no rule pack loaded at all) gives a verdict with status
  ``unknown`` and severity ``block``: the payment was not checked, so recording it needs an
  override with a reason. Information-only benefits (PIP, ADP), which no payment can affect,
  are left out.
* **Staleness.** A rule may say when its figure is next expected to change (``next_uprating``).
  A figure used for a period that starts on or after that date is stale: no newer version was
  loaded when it was expected, so the verdict says the figure may be out of date.

Pure: no Flask, no SQLAlchemy (see ``docs/rules-engine.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from tracker.engine.model import ZERO, Claim, Remark, RemarkCode, Rule, Verdict
from tracker.vocab import BENEFIT_INFO

#: Claims of these benefits can never be affected by a payment, so nothing is "not checked".
INFO_ONLY = frozenset(code for code, b in BENEFIT_INFO.items() if b.info_only)

#: When the banner asking admins for next year's figures starts: 1 March of the uprating's year.
BANNER_MONTH, BANNER_DAY = 3, 1


def is_stale(rule: Rule, period_start: date) -> bool:
    """The rule's figure is used for a period starting on or after its next expected uprating.

    Only the newest version of a family can be stale: versions of a family never overlap, so a
    version with an ``effective_to`` has had a newer figure loaded after it.
    """
    return rule.next_uprating is not None and rule.effective_to is None and period_start >= rule.next_uprating


def unanswered(claim: Claim, attrs: Mapping[str, Any]) -> list[str]:
    """The claim's questions that decide which rule applies and have no answer."""
    b = BENEFIT_INFO.get(claim.benefit)
    if b is None:
        return []
    return [a.name for a in b.attributes if a.decides_rule and a.asked_when(attrs) and attrs.get(a.name) is None]


def unknown_verdict(claim: Claim, attrs: Mapping[str, Any], day: date) -> Verdict:
    """The verdict for a claim no rule covers on ``day``: not checked, and it blocks."""
    remarks = [Remark(RemarkCode.UNCOVERED, benefit=claim.benefit, day=day)]
    missing = unanswered(claim, attrs)
    if missing:
        remarks.append(Remark(RemarkCode.UNANSWERED, benefit=claim.benefit, text=", ".join(missing)))
    return Verdict(
        rule="",
        family="",
        benefit=claim.benefit,
        title="Not checked: no rule covers this date",
        period_start=day,
        period_end=day,
        measure="earnings",
        total_before=ZERO,
        total_after=ZERO,
        limit=None,
        headroom=None,
        status="unknown",
        severity="block",
        confidence="",  # no figure, so no confidence (null in JSON)
        source="",
        remarks=tuple(remarks),
    )


def uncovered(
    claims: Iterable[tuple[Claim, Mapping[str, Any]]],
    days: Iterable[tuple[date, date]],
    covered: Callable[[str, date, date], bool],
) -> list[Verdict]:
    """Unknown verdicts for every claim active on a checked day that no rule covers.

    ``days`` holds (received, worked) date pairs, one per payment or position date; a claim
    active on either is checked. ``covered(benefit, received, worked)`` says whether any limit
    rule (not an information-only one) of that benefit governs those dates. A claim with an
    unanswered question that decides which rule applies is never covered: the rules it would
    choose between were not checked.
    """
    out: list[Verdict] = []
    seen: set[tuple[str, date]] = set()
    for received, worked in days:
        for claim, attrs in claims:
            if claim.benefit in INFO_ONLY or (claim.benefit, received) in seen:
                continue
            if not (claim.active_on(received) or claim.active_on(worked)):
                continue
            if unanswered(claim, attrs) or not covered(claim.benefit, received, worked):
                seen.add((claim.benefit, received))
                out.append(unknown_verdict(claim, attrs, received))
    return out


def awaiting_uprating(rules: Iterable[Rule], today: date) -> list[Rule]:
    """Rules whose next figures are due this year and not loaded yet (from 1 March of that year).

    A rule is waiting when it is the newest version of its family, has a ``next_uprating``, and
    ``today`` is on or after 1 March of that uprating's year.
    """
    newest: dict[str, Rule] = {}
    for r in rules:
        if r.family not in newest or r.effective_from > newest[r.family].effective_from:
            newest[r.family] = r
    return sorted(
        (
            r
            for r in newest.values()
            if r.next_uprating is not None
            and r.effective_to is None
            and today >= date(r.next_uprating.year, BANNER_MONTH, BANNER_DAY)
        ),
        key=lambda r: r.code,
    )
