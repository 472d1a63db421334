"""Queries and rows for the risk pages: the dashboard (everyone with a claim, worst first) and a
person's risk page (a chart per rule family, with the same figures as a table). Data only: the
words, the charts' geometry and the table rows are made by ``tracker.risks.presenters``.

The dashboard runs a constant number of SQL statements whatever the number of people: one query
for everyone's kept position (``positions.ranked``), then the claims and ledgers of the fifty
people on the page (``ledger.bulk_for``), from which the engine works out their rows and the
planned / paid split. People whose records changed since their position was kept are worked out
again, in bulk, and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa

from tracker import keyset, vocab
from tracker.contributions.models import Activity, Contribution
from tracker.engine import core as engine
from tracker.engine import dates as engine_dates
from tracker.engine import periods
from tracker.extensions import db
from tracker.people.models import BenefitClaim
from tracker.picks import pick
from tracker.risks import positions as kept
from tracker.risks.positions import headroom_fraction, verdict_key, worst
from tracker.rules import ledger, redaction, wording
from tracker.rules import service as rules_service
from tracker.vocab import MONEY_MEASURES

PER_PAGE = 50
PLANNED = ("draft", "approved")
#: What a person without the right to see benefit information reads instead of a rule's title.
REDACTED_TITLE = redaction.NEUTRAL_TITLE
CHART_PERIODS = 12
CHART_AHEAD = 4
CHART_BACK_DAYS = 800
ZERO = Decimal("0.00")


# ---- the dashboard ------------------------------------------------------------------------------


@dataclass
class Row:
    person_id: int
    name: str
    verdict: engine.Verdict
    title: str
    fraction: Decimal | None
    planned: Decimal | None = None
    paid: Decimal | None = None
    other: Decimal | None = None
    #: The trading allowance (income tax), shown apart so it never hides a benefit risk.
    tax: engine.Verdict | None = None

    @property
    def status(self) -> str:
        return self.verdict.status

    @property
    def effect(self) -> str:
        return self.verdict.effect


@dataclass
class Page(keyset.PageNumbers):
    items: list
    total: int
    page: int
    per_page: int = PER_PAGE
    #: The information-only verdicts (PIP, ADP) of the people on the page, once per rule family.
    info: list = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class Filters:
    benefit: str | None = None
    status: str | None = None
    effect: str | None = None
    activity_id: int | None = None
    page: int = 1
    args: dict = field(default_factory=dict)


def people_with_claims(benefit: str | None = None, activity_id: int | None = None):
    """A SELECT of the ids of everyone with a benefit claim (of this benefit; who took part in this activity)."""
    q = sa.select(BenefitClaim.person_id)
    if benefit:
        q = q.where(BenefitClaim.benefit == benefit)
    if activity_id:
        q = q.where(
            BenefitClaim.person_id.in_(sa.select(Contribution.person_id).where(Contribution.activity_id == activity_id))
        )
    return q


def activity_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(sa.select(Activity.id, Activity.name).order_by(Activity.name, Activity.id)).all()
    return [(str(i), n) for i, n in rows]


def dashboard_rows(on: date, f: Filters, *, redact: bool) -> Page:
    """Everyone with a claim, each with their worst benefit verdict today (the trading allowance
    apart), the worst effect first, then the least room; one page of them.

    The order comes from the kept positions (``positions.ranked``: one query, plus working out
    again only the people whose records changed); the page's rows are worked out afresh by the
    engine from their ledgers, so every figure shown is current."""
    who = people_with_claims(f.benefit, f.activity_id)
    order = [
        r
        for r in kept.ranked(who, on, f.benefit)
        if f.status in (None, r.status) and f.effect in (None, r.effect)  # the filters by result and by cost
    ]
    start = (f.page - 1) * PER_PAGE
    chosen = order[start : start + PER_PAGE]
    loaded = ledger.bulk_for([r.person_id for r in chosen], on) if chosen else {}
    rules = [rule for _, rule in rules_service.active_rules()]
    by_code = {rule.code: rule for rule in rules}
    rows: list[Row] = []
    info: dict[str, engine.Verdict] = {}
    for r in chosen:
        claims, led = loaded.get(r.person_id, ([], None))
        if led is None:  # no ledger read for them: changed in the last moment
            continue
        verdicts = engine.position(claims, rules, led, on)
        row = _row(r, verdicts, f.benefit, by_code, led, redact=redact)
        if row is None:  # changed in the last moment: gone from this benefit's list
            continue
        rows.append(row)
        _information_only(verdicts, f.benefit, info)
    return Page(items=rows, total=len(order), page=f.page, info=list(info.values()))


def _information_only(verdicts: list, benefit: str | None, found: dict[str, engine.Verdict]) -> None:
    """Add the information-only verdicts (PIP, ADP) of the benefit chosen to ``found``, once per rule family."""
    for v in verdicts:
        if v.effect == "info" and benefit in (None, v.benefit):
            found.setdefault(v.family, v)


def _row(
    r: kept.Ranked, verdicts: list, benefit: str | None, by_code: dict, led: engine.Ledger, *, redact: bool
) -> Row | None:
    """A person's line: their worst benefit verdict (for the benefit chosen), and the trading
    allowance apart."""
    v = worst(verdicts, benefit)
    if v is None:
        return None
    row = Row(
        person_id=r.person_id,
        name=r.name,
        verdict=v,
        title=REDACTED_TITLE if redact else v.title,
        fraction=headroom_fraction(v),
        tax=next((t for t in verdicts if t.benefit == vocab.TAX), None) if benefit != vocab.TAX else None,
    )
    rule = by_code.get(v.rule)
    if v.measure in MONEY_MEASURES and v.limit is not None and rule is not None:
        # The rest of the total is income from elsewhere, expenses, a partner's earnings, and money
        # offered and not taken that counts as notional earnings.
        row.planned, row.paid = planned_and_paid(v, rule, led)
        row.other = v.total_after - row.planned - row.paid
    return row


def planned_and_paid(v: engine.Verdict, rule: engine.Rule, led: engine.Ledger) -> tuple[Decimal, Decimal]:
    """The payments the verdict's rule counts in its period, split into planned (draft and
    approved) and paid, from the same ledger the engine read."""
    planned = paid = ZERO
    if v.measure not in MONEY_MEASURES:
        return planned, paid
    for p in led.payments:
        # on the date the rule counts (received, due or worked), shared by day when it spreads
        part = engine_dates.portion(rule, p, v.period_start, v.period_end)
        if part is None:
            continue
        worth = part.benefit_value if part.benefit_value is not None else part.amount
        value = _counted(rule.counts, part.kind, part.amount, worth)
        if value is None:
            continue
        if p.status in PLANNED:
            planned += value
        else:
            paid += value
    return planned, paid


def _counted(counts: engine.Counts, kind: str, amount: Decimal, value: Decimal) -> Decimal | None:
    if kind == "training" and counts.training_at_value:
        return value
    if kind in counts.kinds:
        return amount
    return None


# ---- a person's charts ----------------------------------------------------------------------------


@dataclass
class Bar:
    start: date
    end: date
    total: Decimal
    planned: Decimal
    limit: Decimal | None
    status: str
    current: bool = False
    ahead: bool = False
    #: What the period's verdict costs the person (``vocab.EFFECTS``), and a taper's estimated reduction.
    effect: str = "within"
    reduction: Decimal | None = None

    @property
    def paid(self) -> Decimal:
        return self.total - self.planned


@dataclass
class Chart:
    family: str
    title: str
    benefit: str
    measure: str
    period: str
    bars: list
    limit_kind: str  # "limit" or "threshold" (a taper)


@dataclass
class _Positions:
    """A person's verdicts on any day, worked out once per day from one ledger read."""

    claims: list
    rules: list
    led: engine.Ledger
    cache: dict[date, dict[str, engine.Verdict]] = field(default_factory=dict)

    def at(self, d: date) -> dict[str, engine.Verdict]:
        """{rule family: verdict} for the periods that include the day ``d``."""
        if d not in self.cache:
            verdicts = engine.position(self.claims, self.rules, self.led, d)
            self.cache[d] = {v.family: v for v in wording.verdicts(verdicts)}
        return self.cache[d]


def person_overview(person_id: int, on: date):
    """(verdicts today, charts, info verdicts) for a person's risk page, from one ledger read."""
    rules = [rule for _, rule in rules_service.active_rules()]
    by_code = {r.code: r for r in rules}
    led = ledger.ledger_for(person_id, (on - timedelta(days=CHART_BACK_DAYS - int(ledger.BACK.days)), on))
    known = _Positions(ledger.claims_for(person_id), rules, led)
    today = sorted(known.at(on).values(), key=verdict_key)
    charts, info = [], []
    for v in today:
        rule = by_code.get(v.rule)
        if rule is None or rule.limit is None or rule.kind == "info":
            info.append(v)
        elif periods.parse_period(rule.period)[0] not in ("per_payment", "none"):
            charts.append(_chart(v, rule, by_code, known, on - timedelta(days=CHART_BACK_DAYS)))
    return today, charts, info


def _chart(v: engine.Verdict, rule: engine.Rule, by_code: dict, known: _Positions, cutoff: date) -> Chart:
    """A rule family's chart: up to CHART_PERIODS periods back to ``cutoff``, then the periods ahead
    that hold planned payments."""
    bars = _bars_before(v, rule, by_code, known, cutoff) + [_bar(v, rule, known.led, current=True)]
    bars += _bars_ahead(v, rule, by_code, known)
    return Chart(
        **pick(v, ("family", "title", "benefit", "measure")),
        period=rule.period,
        bars=bars,
        limit_kind="threshold" if rule.kind == "taper" else "limit",
    )


def _bars_before(v: engine.Verdict, rule: engine.Rule, by_code: dict, known: _Positions, cutoff: date) -> list:
    bars: list[Bar] = []
    d = v.period_start - timedelta(days=1)
    while len(bars) < CHART_PERIODS - 1 and d >= cutoff:
        prev = known.at(d).get(v.family)
        if prev is None:
            break
        bars.insert(0, _bar(prev, by_code.get(prev.rule, rule), known.led))
        d = prev.period_start - timedelta(days=1)
    return bars


def _bars_ahead(v: engine.Verdict, rule: engine.Rule, by_code: dict, known: _Positions) -> list:
    ahead: list[Bar] = []
    d = v.period_end + timedelta(days=1)
    for _ in range(CHART_AHEAD):
        nxt = known.at(d).get(v.family)
        if nxt is None:
            break
        ahead.append(_bar(nxt, by_code.get(nxt.rule, rule), known.led, ahead=True))
        d = nxt.period_end + timedelta(days=1)
    while ahead and ahead[-1].planned == 0:
        ahead.pop()  # only periods ahead that hold planned payments
    return ahead


def _bar(v: engine.Verdict, rule: engine.Rule, led: engine.Ledger, current: bool = False, ahead: bool = False) -> Bar:
    planned, _ = planned_and_paid(v, rule, led)
    return Bar(
        start=v.period_start,
        end=v.period_end,
        total=v.total_after,
        planned=planned,
        limit=v.limit,
        status=v.status,
        current=current,
        ahead=ahead,
        effect=v.effect,
        reduction=v.estimated_reduction,
    )


# ---- notifications ------------------------------------------------------------------------------


def mark_notifications_read(user_id: int, ids: list[int] | None, now) -> int:
    """Mark a user's notifications as read (all unread ones when ``ids`` is None). Flushes only."""
    from tracker.notify.models import Notification

    q = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        q = q.where(Notification.id.in_(ids))
    result = cast(
        sa.CursorResult[Any], db.session.execute(q.values(read_at=now).execution_options(synchronize_session=False))
    )
    return result.rowcount or 0
