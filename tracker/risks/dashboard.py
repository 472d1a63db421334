"""Queries and rows for the risk pages: the dashboard (everyone with a claim, worst first) and a
person's risk page (a chart per rule family, with the same figures as a table).

The dashboard runs a constant number of SQL statements whatever the number of people: one query
for everyone's kept position (``positions.ranked``), then the claims and ledgers of the fifty
people on the page (``ledger.bulk_for``), from which the engine works out their rows and the
planned / paid split. People whose records changed since their position was kept are worked out
again, in bulk, and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from tracker.contributions.models import Activity, Contribution
from tracker.extensions import db
from tracker.money import format_money
from tracker.people.models import BenefitClaim
from tracker.risks import positions as kept
from tracker.risks.positions import headroom_fraction, verdict_key, worst
from tracker.engine import core as engine, periods
from tracker.rules import ledger
from tracker.rules import service as rules_service
from tracker.rules import wording

PER_PAGE = 50
MAX_PAGE = 100_000
STATUS_WORDS = {"ok": "Within the limit", "near": "Close to the limit", "over": "Over the limit",
                "info": "For information"}
PLANNED = ("draft", "approved")
REDACTED_TITLE = "A benefit rule"
CHART_PERIODS = 12
CHART_AHEAD = 4
CHART_BACK_DAYS = 800
ZERO = Decimal("0.00")
_MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def period_text(start: date, end: date) -> str:
    return day_text(start) if start == end else f"{day_text(start)} to {day_text(end)}"


def figure(measure: str, value: Decimal | None) -> str:
    if value is None:
        return ""
    if measure == "hours":
        q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
        text = f"{q:f}"
        return f"{text} hour" if q == 1 else f"{text} hours"
    return format_money(value)


def benefit_name(code: str) -> str:
    if code == "TAX":
        return "Income tax (trading allowance)"
    return engine.BENEFIT_NAMES.get(code, code)


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

    @property
    def status(self) -> str:
        return self.verdict.status

    @property
    def status_word(self) -> str:
        return STATUS_WORDS.get(self.verdict.status, self.verdict.status)

    @property
    def period(self) -> str:
        return period_text(self.verdict.period_start, self.verdict.period_end)

    def fig(self, value) -> str:
        return figure(self.verdict.measure, value)

    @property
    def headroom_text(self) -> str:
        v = self.verdict
        if v.headroom is None:
            return "No limit"
        if v.headroom < 0:
            return f"None: {figure(v.measure, -v.headroom)} over"
        return figure(v.measure, v.headroom)

    @property
    def percent_text(self) -> str:
        if self.fraction is None:
            return ""
        pct = (self.fraction * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        return f"{pct}% of the limit left" if pct >= 0 else f"{-pct}% over the limit"


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass
class Filters:
    benefit: str | None = None
    status: str | None = None
    activity_id: int | None = None
    page: int = 1
    args: dict = field(default_factory=dict)


def people_with_claims(benefit: str | None = None, activity_id: int | None = None):
    """A SELECT of the ids of everyone with a benefit claim (of this benefit; who took part in this activity)."""
    q = sa.select(BenefitClaim.person_id)
    if benefit:
        q = q.where(BenefitClaim.benefit == benefit)
    if activity_id:
        q = q.where(BenefitClaim.person_id.in_(
            sa.select(Contribution.person_id).where(Contribution.activity_id == activity_id)))
    return q


def activity_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(sa.select(Activity.id, Activity.name).order_by(Activity.name, Activity.id)).all()
    return [(str(i), n) for i, n in rows]


def dashboard_rows(on: date, f: Filters, *, redact: bool) -> Page:
    """Everyone with a claim, each with their worst verdict today, least room first; one page of them.

    The order comes from the kept positions (``positions.ranked``: one query, plus working out
    again only the people whose records changed); the page's rows are worked out afresh by the
    engine from their ledgers, so every figure shown is current."""
    who = people_with_claims(f.benefit, f.activity_id)
    order = kept.ranked(who, on, f.benefit)
    if f.status:
        order = [r for r in order if r.status == f.status]
    start = (f.page - 1) * PER_PAGE
    chosen = order[start:start + PER_PAGE]
    loaded = ledger.bulk_for([r.person_id for r in chosen], on) if chosen else {}
    rules = [rule for _, rule in rules_service.active_rules()]
    by_code = {rule.code: rule for rule in rules}
    rows: list[Row] = []
    for r in chosen:
        claims, led = loaded.get(r.person_id, ([], None))
        v = worst(engine.position(claims, rules, led, on), f.benefit) if led is not None else None
        if v is None:  # changed in the last moment: gone from this benefit's list
            continue
        row = Row(person_id=r.person_id, name=r.name, verdict=v, title=REDACTED_TITLE if redact else v.title,
                  fraction=headroom_fraction(v))
        rule = by_code.get(v.rule)
        if v.measure == "earnings" and v.limit is not None and rule is not None:
            # The rest of the total is income from elsewhere and expenses.
            row.planned, row.paid = planned_and_paid(v, rule, led)
            row.other = v.total_after - row.planned - row.paid
        rows.append(row)
    return Page(items=rows, total=len(order), page=f.page)


def planned_and_paid(v: engine.Verdict, rule: engine.Rule, led: engine.Ledger) -> tuple[Decimal, Decimal]:
    """The payments the verdict's rule counts in its period, split into planned (draft and
    approved) and paid, from the same ledger the engine read."""
    planned = paid = ZERO
    if v.measure != "earnings":
        return planned, paid
    for p in led.payments:
        when = p.paid_on if rule.date_basis == "received" else p.work_date
        if not v.period_start <= when <= v.period_end:
            continue
        value = _counted(rule.counts, p.kind, p.amount, p.benefit_value if p.benefit_value is not None else p.amount)
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

    @property
    def paid(self) -> Decimal:
        return self.total - self.planned

    @property
    def status_word(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


@dataclass
class Chart:
    family: str
    title: str
    benefit: str
    measure: str
    period: str
    noun: str
    bars: list
    limit_kind: str  # "limit" or "threshold" (a taper)
    svg: dict = field(default_factory=dict)
    summary: str = ""


def person_overview(person_id: int, on: date):
    """(verdicts today, charts, info verdicts) for a person's risk page, from one ledger read."""
    rules = [rule for _, rule in rules_service.active_rules()]
    by_code = {r.code: r for r in rules}
    claims = ledger.claims_for(person_id)
    led = ledger.ledger_for(person_id, (on - timedelta(days=CHART_BACK_DAYS - int(ledger.BACK.days)), on))
    cache: dict[date, dict[str, engine.Verdict]] = {}

    def at(d: date) -> dict[str, engine.Verdict]:
        if d not in cache:
            cache[d] = {v.family: v for v in wording.verdicts(engine.position(claims, rules, led, d))}
        return cache[d]

    today = list(at(on).values())
    today.sort(key=verdict_key)
    charts, info = [], []
    cutoff = on - timedelta(days=CHART_BACK_DAYS)
    for v in today:
        rule = by_code.get(v.rule)
        if rule is None or rule.limit is None or rule.kind == "info":
            info.append(v)
            continue
        if periods.parse_period(rule.period)[0] in ("per_payment", "none"):
            continue
        bars = [_bar(v, rule, led, current=True)]
        d = v.period_start - timedelta(days=1)
        while len(bars) < CHART_PERIODS and d >= cutoff:
            prev = at(d).get(v.family)
            if prev is None:
                break
            bars.insert(0, _bar(prev, by_code.get(prev.rule, rule), led))
            d = prev.period_start - timedelta(days=1)
        d = v.period_end + timedelta(days=1)
        ahead = []
        for _ in range(CHART_AHEAD):
            nxt = at(d).get(v.family)
            if nxt is None:
                break
            ahead.append(_bar(nxt, by_code.get(nxt.rule, rule), led, ahead=True))
            d = nxt.period_end + timedelta(days=1)
        while ahead and ahead[-1].planned == 0:
            ahead.pop()  # only periods ahead that hold planned payments
        bars += ahead
        charts.append(Chart(family=v.family, title=v.title, benefit=v.benefit, measure=v.measure,
                            period=rule.period, noun=wording.period_noun(rule.period), bars=bars,
                            limit_kind="threshold" if rule.kind == "taper" else "limit"))
    for c in charts:
        c.svg = chart_svg(c)
        c.summary = chart_summary(c)
    return today, charts, info


def _bar(v: engine.Verdict, rule: engine.Rule, led: engine.Ledger, current: bool = False, ahead: bool = False) -> Bar:
    planned, _ = planned_and_paid(v, rule, led)
    return Bar(start=v.period_start, end=v.period_end, total=v.total_after, planned=planned, limit=v.limit,
               status=v.status, current=current, ahead=ahead)


# ---- the SVG geometry (numbers only; the template draws it) -----------------------------------------

W, H = Decimal(680), Decimal(330)
LEFT, RIGHT, TOP, BOTTOM = Decimal(80), Decimal(20), Decimal(24), Decimal(120)


def _n(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}"


def _short(bar: Bar, period: str) -> str:
    if periods.parse_period(period)[0] == "tax_year":
        return f"{bar.start.year}/{str(bar.end.year)[-2:]}"
    return f"{bar.start.day} {_MONTHS_SHORT[bar.start.month - 1]}"


def chart_svg(c: Chart) -> dict:
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    values = [b.total for b in c.bars] + [b.limit for b in c.bars if b.limit is not None]
    peak = max(values + [Decimal(0)])
    top = peak * Decimal("1.15") if peak > 0 else Decimal(1)
    base = TOP + plot_h

    def y(value: Decimal) -> Decimal:
        value = max(Decimal(0), value)
        return base - plot_h * value / top

    n = len(c.bars)
    slot = plot_w / n
    width = slot * Decimal("0.6")
    bars = []
    for i, b in enumerate(c.bars):
        x = LEFT + slot * i + (slot - width) / 2
        paid = max(Decimal(0), b.paid)
        y_paid = y(paid)
        y_total = y(max(b.total, paid))
        bars.append({
            "x": _n(x), "w": _n(width), "cx": _n(x + width / 2),
            "paid_y": _n(y_paid), "paid_h": _n(base - y_paid),
            "planned_y": _n(y_total), "planned_h": _n(y_paid - y_total), "has_planned": b.planned > 0,
            "label": _short(b, c.period), "label_y": _n(base + 18),
            "over": b.status == "over", "mark_y": _n(y_total - 6),
            "current": b.current, "ahead": b.ahead,
        })
    # the limit as a step line (a new figure can start part-way through the chart)
    limit_segments = []
    for i, b in enumerate(c.bars):
        if b.limit is None:
            continue
        ly = y(b.limit)
        limit_segments.append({"x1": _n(LEFT + slot * i), "x2": _n(LEFT + slot * (i + 1)), "y": _n(ly)})
    last_limit = next((b.limit for b in reversed(c.bars) if b.limit is not None), None)
    return {
        "width": _n(W), "height": _n(H), "left": _n(LEFT), "right": _n(W - RIGHT), "top": _n(TOP),
        "base": _n(base), "bars": bars, "limits": limit_segments,
        "y_top_label": figure(c.measure, peak) if peak > 0 else "",
        "y_top": _n(y(peak)),
        "limit_label": f"{c.limit_kind.capitalize()} {figure(c.measure, last_limit)}" if last_limit is not None else "",
        "limit_label_y": _n(y(last_limit) - 6) if last_limit is not None else "0",
        "legend_y": _n(H - 26), "legend_text_y": _n(H - 15),
        "legend": {"paid_x": _n(LEFT), "paid_text_x": _n(LEFT + 20), "planned_x": _n(LEFT + 150),
                   "planned_text_x": _n(LEFT + 170), "limit_x1": _n(LEFT + 370), "limit_x2": _n(LEFT + 398),
                   "limit_y": _n(H - 19), "limit_text_x": _n(LEFT + 404)},
    }


def chart_summary(c: Chart) -> str:
    """A plain-English description of the chart, for its <desc>."""
    over = [b for b in c.bars if b.status == "over"]
    highest = max(c.bars, key=lambda b: b.total)
    parts = [f"{len(c.bars)} {c.noun}s, from {day_text(c.bars[0].start)} to {day_text(c.bars[-1].end)}."]
    parts.append(f"The highest total was {figure(c.measure, highest.total)}, from {period_text(highest.start, highest.end)}.")
    if over:
        parts.append(f"{len(over)} {'was' if len(over) == 1 else 'were'} over the {c.limit_kind}.")
    else:
        parts.append(f"None was over the {c.limit_kind}.")
    planned = [b for b in c.bars if b.planned > 0]
    if planned:
        parts.append(f"{len(planned)} {'includes' if len(planned) == 1 else 'include'} planned payments.")
    parts.append("The table after the chart gives every figure.")
    return " ".join(parts)


# ---- notifications ------------------------------------------------------------------------------

def mark_notifications_read(user_id: int, ids: list[int] | None, now) -> int:
    """Mark a user's notifications as read (all unread ones when ``ids`` is None). Flushes only."""
    from tracker.notify.models import Notification

    q = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        q = q.where(Notification.id.in_(ids))
    result = db.session.execute(q.values(read_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0
