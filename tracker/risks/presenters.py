"""Wording and table rows for the risk pages: verdicts, dashboard rows and charts in words, the
planner's proposals (with the hidden fields that name a proposal's payments), and the messages the
pages flash.

Plain functions of engine results and of the rows ``tracker.risks.dashboard`` gathers: no
queries, no request, no writes. Results are always in words, never colour alone; the words of
statuses, benefits and payment kinds come from ``tracker.vocab``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from tracker import vocab
from tracker.engine import periods, planner
from tracker.engine.core import Verdict
from tracker.engine.model import RemarkCode
from tracker.money import format_money
from tracker.picks import pick
from tracker.risks.dashboard import REDACTED_TITLE, Bar, Chart, Row
from tracker.rules import wording
from tracker.timeutil import day_text

STATUS_WORDS = vocab.VERDICT_STATUS_WORDS
benefit_name = vocab.benefit_name

# ---- figures and periods ----------------------------------------------------------------------------


def period_text(start: date, end: date) -> str:
    return day_text(start) if start == end else f"{day_text(start)} to {day_text(end)}"


def figure(measure: str, value: Decimal | None) -> str:
    """A total or a limit in words: pounds, or hours."""
    if value is None:
        return ""
    if measure == "hours":
        q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
        text = f"{q:f}"
        return f"{text} hour" if q == 1 else f"{text} hours"
    return format_money(value)


def headroom_text(measure: str, headroom: Decimal | None) -> str:
    """The room left under a limit: "No limit", a figure, or how far over it is."""
    if headroom is None:
        return "No limit"
    if headroom < 0:
        return f"None: {figure(measure, -headroom)} over"
    return figure(measure, headroom)


def percent_text(fraction: Decimal | None) -> str:
    if fraction is None:
        return ""
    pct = (fraction * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{pct}% of the limit left" if pct >= 0 else f"{-pct}% over the limit"


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def verdict_view(v: Verdict, *, names: bool = True) -> dict:
    """A verdict in words for the page: never colour alone."""
    return {
        "title": v.title if names else REDACTED_TITLE,
        "benefit": benefit_name(v.benefit) if names else "",
        "period": period_text(v.period_start, v.period_end),
        "measure": v.measure,
        "before": figure(v.measure, v.total_before),
        "after": figure(v.measure, v.total_after),
        "limit": figure(v.measure, v.limit) if v.limit is not None else "No limit",
        "headroom": headroom_text(v.measure, v.headroom),
        "status": v.status,
        "status_word": status_word(v.status),
        "effect": v.effect,
        "effect_word": wording.verdict_effect_text(v, names=names),
        "reduction": format_money(v.estimated_reduction) if v.estimated_reduction else None,
        "notes": list(v.notes) if names else [],
        "unverified": v.confidence == "unconfirmed",
        "blocks": v.blocks,
    }


# ---- the dashboard ------------------------------------------------------------------------------


def benefit_choices() -> list[tuple[str, str]]:
    return [("", "Any benefit")] + [(c, vocab.BENEFIT_INFO[c].name) for c in vocab.CLAIMABLE_CODES]


def dashboard_row(row: Row, *, names: bool = True) -> dict:
    """One person's line on the dashboard, every figure in words: what the worst benefit verdict
    costs them, the rule and its period, the room left, the trading allowance apart, and under the
    row what it means."""
    v = row.verdict
    return {
        "person_id": row.person_id,
        "name": row.name,
        "title": row.title,
        "hours": v.measure == "hours",
        "period": period_text(v.period_start, v.period_end),
        "headroom": headroom_text(v.measure, v.headroom),
        "percent": percent_text(row.fraction),
        "status": v.status,
        "effect": v.effect,
        "effect_word": wording.verdict_effect_text(v, names=names),
        "explanation": row_explanation(row, names=names),
        "tax": tax_cell(row.tax),
    }


def _figures_text(row: Row) -> str:
    """The total against the limit, with what makes it up."""
    v = row.verdict
    if v.limit is None or v.unknown:
        return ""
    text = f"Total {figure(v.measure, v.total_after)} against a limit of {figure(v.measure, v.limit)}"
    parts = [f"{figure(v.measure, x)} {what}" for x, what in ((row.paid, "paid"), (row.planned, "planned")) if x]
    if row.other:
        parts.append(f"{figure(v.measure, row.other)} from elsewhere or expenses")
    return f"{text} ({', '.join(parts)})." if parts else f"{text}."


def _meaning(v: Verdict, name: str) -> str:
    noun = "this period"
    meanings = {
        "stops": f"If nothing changes, {name} stops for {noun}. Move or reduce planned payments, or talk to "
        "the person and a benefits adviser.",
        "reduces": f"Earnings above the limit reduce {name} for {noun}: each further £1 reduces it more.",
        "unknown": "No rule covers this claim on this date, so nothing was checked: ask an admin to load the rules.",
        "near": "Close to the limit: another payment in this period could go over it.",
        "within": "There is room for more payments in this period.",
        "info": "This benefit has no earnings or hours limit: see the note under the table.",
    }
    return meanings.get(v.effect, "")


def row_explanation(row: Row, *, names: bool = True) -> str:
    """What a dashboard row means, in a sentence or two, shown under the row."""
    v = row.verdict
    name = vocab.BENEFIT_NAMES_INLINE.get(v.benefit, "the benefit") if names else "the benefit"
    return " ".join(part for part in (_meaning(v, name), _figures_text(row)) if part)


def tax_cell(v: Verdict | None) -> dict | None:
    """The trading allowance (income tax) in a few words, apart from the benefits."""
    if v is None or v.limit is None:
        return None
    return {
        "effect": v.effect,
        "effect_word": wording.verdict_effect_text(v),
        "total": figure(v.measure, v.total_after),
        "limit": figure(v.measure, v.limit),
        "headroom": headroom_text(v.measure, v.headroom),
    }


def info_notes(verdicts: Iterable[Verdict], *, names: bool = True) -> list[dict]:
    """The information-only rules (PIP, ADP) of the people on a page, once each: their title and notes.
    For a reader who may not see benefit names, one neutral note."""
    chosen = list(verdicts)
    if not chosen:
        return []
    if not names:
        return [
            {
                "title": "Benefits with no earnings limit",
                "notes": [
                    "Some people on this page receive a benefit with no earnings or hours limit: payments do not "
                    "change it, but a change in what they can do may need reporting. A coordinator can say more."
                ],
            }
        ]
    return [
        {"title": v.title, "notes": [wording.remark_text(r) for r in v.remarks if r.code == RemarkCode.RULE_MESSAGE]}
        for v in chosen
    ]


# ---- a person's risk page -------------------------------------------------------------------------


def family_choices(verdicts: Iterable[Verdict]) -> list[tuple[str, str]]:
    """The rules a manual flag may name: one per rule family, with its current period."""
    out, seen = [], set()
    for v in verdicts:
        if v.family not in seen:
            seen.add(v.family)
            out.append((v.family, f"{v.title} ({period_text(v.period_start, v.period_end)})"))
    return out


def flag_figure(measure: str, raw: str | None) -> str:
    """A flag's stored total or limit ("185.00", "17") in words: pounds or hours."""
    if not raw:
        return ""
    try:
        value = Decimal(raw)
    except ArithmeticError:
        return raw
    return figure(measure, value)


def flag_done(action: str, what: str) -> str:
    if action == "note":
        return f"Your note on the flag ({what}) has been added."
    done = {"acknowledge": "acknowledged", "resolve": "resolved"}[action]
    return f"The flag ({what}) has been {done}."


# ---- a person's charts ----------------------------------------------------------------------------

_MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
W, H = Decimal(680), Decimal(330)
LEFT, RIGHT, TOP, BOTTOM = Decimal(80), Decimal(20), Decimal(24), Decimal(120)


def _n(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}"


def _short(bar: Bar, period: str) -> str:
    if periods.parse_period(period)[0] == "tax_year":
        return f"{bar.start.year}/{str(bar.end.year)[-2:]}"
    return f"{bar.start.day} {_MONTHS_SHORT[bar.start.month - 1]}"


class _Scale:
    """Where a figure sits on the chart's vertical axis: 15% of room above the highest figure."""

    def __init__(self, peak: Decimal) -> None:
        self.top = peak * Decimal("1.15") if peak > 0 else Decimal(1)
        self.height = H - TOP - BOTTOM
        self.base = TOP + self.height

    def y(self, value: Decimal) -> Decimal:
        return self.base - self.height * max(Decimal(0), value) / self.top


#: How wide a label's character may be at the chart's 12px font (a little more than the widest
#: digit or capital usually drawn), and the least gap between two labels, in chart units.
LABEL_CHAR = Decimal("7.5")
LABEL_GAP = Decimal(8)


def label_step(labels: Sequence[str], slot: Decimal) -> int:
    """Label every ``n``th bar so that no two labels overlap: ``n`` is how many bar slots the
    widest label (and a gap) needs. The table after the chart gives every period."""
    if not labels:
        return 1
    widest = max(len(label) for label in labels) * LABEL_CHAR + LABEL_GAP
    return max(1, int((widest / slot).to_integral_value(rounding=ROUND_CEILING)))


def _svg_bar(b: Bar, i: int, slot: Decimal, scale: _Scale, period: str, labelled: bool = True) -> dict:
    width = slot * Decimal("0.6")
    x = LEFT + slot * i + (slot - width) / 2
    paid = max(Decimal(0), b.paid)
    y_paid = scale.y(paid)
    y_total = scale.y(max(b.total, paid))
    return {
        "x": _n(x),
        "w": _n(width),
        "cx": _n(x + width / 2),
        "paid_y": _n(y_paid),
        "paid_h": _n(scale.base - y_paid),
        "planned_y": _n(y_total),
        "planned_h": _n(y_paid - y_total),
        "has_planned": b.planned > 0,
        "label": _short(b, period) if labelled else "",
        "label_y": _n(scale.base + 18),
        "now_y": _n(scale.base + 33),
        "over": b.effect in ("stops", "reduces"),  # over a limit, or above a taper's threshold
        "mark_y": _n(y_total - 6),
        "current": b.current,
        "ahead": b.ahead,
    }


def chart_svg(c: Chart) -> dict:
    """The chart's geometry (numbers only; the template draws it)."""
    values = [b.total for b in c.bars] + [b.limit for b in c.bars if b.limit is not None]
    peak = max(values + [Decimal(0)])
    scale = _Scale(peak)
    slot = (W - LEFT - RIGHT) / len(c.bars)
    # horizontal labels, thinned so that none overlaps another; the current period always has one
    step = label_step([_short(b, c.period) for b in c.bars], slot)
    now = next((i for i, b in enumerate(c.bars) if b.current), len(c.bars) - 1)
    # the limit as a step line (a new figure can start part-way through the chart)
    limit_segments = [
        {"x1": _n(LEFT + slot * i), "x2": _n(LEFT + slot * (i + 1)), "y": _n(scale.y(b.limit))}
        for i, b in enumerate(c.bars)
        if b.limit is not None
    ]
    last_limit = next((b.limit for b in reversed(c.bars) if b.limit is not None), None)
    return {
        "width": _n(W),
        "height": _n(H),
        "left": _n(LEFT),
        "right": _n(W - RIGHT),
        "top": _n(TOP),
        "base": _n(scale.base),
        "bars": [_svg_bar(b, i, slot, scale, c.period, (i - now) % step == 0) for i, b in enumerate(c.bars)],
        "limits": limit_segments,
        "y_top_label": figure(c.measure, peak) if peak > 0 else "",
        "y_top": _n(scale.y(peak)),
        # the limit's figure goes in the legend, never on the plot where it could cover a bar or a mark
        "limit_label": f"{c.limit_kind.capitalize()} {figure(c.measure, last_limit)}"
        if last_limit is not None
        else c.limit_kind.capitalize(),
        "legend_y": _n(H - 26),
        "legend_text_y": _n(H - 15),
        "legend": {
            "paid_x": _n(LEFT),
            "paid_text_x": _n(LEFT + 20),
            "planned_x": _n(LEFT + 150),
            "planned_text_x": _n(LEFT + 170),
            "limit_x1": _n(LEFT + 370),
            "limit_x2": _n(LEFT + 398),
            "limit_y": _n(H - 19),
            "limit_text_x": _n(LEFT + 404),
        },
    }


def chart_summary(c: Chart) -> str:
    """A plain-English description of the chart, for its <desc>."""
    noun = wording.period_noun(c.period)
    over = [b for b in c.bars if b.effect in ("stops", "reduces")]
    highest = max(c.bars, key=lambda b: b.total)
    parts = [f"{len(c.bars)} {noun}s, from {day_text(c.bars[0].start)} to {day_text(c.bars[-1].end)}."]
    parts.append(
        f"The highest total was {figure(c.measure, highest.total)}, from {period_text(highest.start, highest.end)}."
    )
    if over:
        parts.append(f"{len(over)} {'was' if len(over) == 1 else 'were'} over the {c.limit_kind}.")
    else:
        parts.append(f"None was over the {c.limit_kind}.")
    planned = [b for b in c.bars if b.planned > 0]
    if planned:
        parts.append(f"{len(planned)} {'includes' if len(planned) == 1 else 'include'} planned payments.")
    parts.append("The table after the chart gives every figure.")
    return " ".join(parts)


def _bar_view(b: Bar, benefit: str) -> dict:
    return {
        **pick(b, ("start", "end", "paid", "planned", "total", "limit", "status", "effect")),
        "status_word": status_word(b.status),
        "effect_word": wording.effect_text(b.effect, benefit, b.reduction),
        **pick(b, ("current", "ahead")),
    }


def chart_view(c: Chart) -> dict:
    """A chart for the page: its SVG geometry, its description and its figures as a table's rows."""
    return {
        **pick(c, ("family", "title", "benefit", "measure")),
        "noun": wording.period_noun(c.period),
        "limit_kind": c.limit_kind,
        "bars": [_bar_view(b, c.benefit) for b in c.bars],
        "svg": chart_svg(c),
        "summary": chart_summary(c),
    }


# ---- the planner --------------------------------------------------------------------------------

PLAN_CHANGED = (
    "The plan is not the one shown before, because something changed in the meantime (a payment, a rule "
    "or a preference). Nothing was saved. The plans below are up to date: check them and choose again."
)
PLAN_NOT_CLEAN = (
    "This plan breaks a benefit rule, so it cannot be used from here. Nothing was saved. Talk to the "
    "person and a benefits adviser, then record a payment with a reason to override the check if "
    "you still need to."
)


def payment_fields(payments: Iterable[planner.PlannedPayment]) -> list[dict]:
    """A proposal's payments as the page sends them back when the proposal is used."""
    return [
        {"kind": p.kind, "amount": str(p.amount.quantize(Decimal("0.01"))), "paid_on": p.paid_on.isoformat()}
        for p in payments
    ]


def _hidden_payments(payments: Sequence[planner.PlannedPayment]) -> list[tuple[str, str]]:
    out = []
    for i, fields in enumerate(payment_fields(payments)):
        out += [(f"p{i}_{name}", value) for name, value in fields.items()]
    return out


def _payment_view(pay: planner.PlannedPayment) -> dict:
    return {
        "kind": vocab.KIND_LABELS.get(pay.kind, pay.kind),
        "amount": format_money(pay.amount),
        "offered": format_money(pay.offered) if pay.offered is not None else None,
        "paid_on": day_text(pay.paid_on),
        "for": day_text(pay.worked_on),
    }


def proposal_views(plan_result: planner.Plan, typed: list[tuple[str, str]]) -> list[dict]:
    """Each proposal for the page, with the hidden fields of its "Use this plan" button: the
    sessions as typed, then every payment, so that using it can check it is still the one shown."""
    out = []
    for n, p in enumerate(plan_result.proposals, start=1):
        out.append(
            {
                "number": n,
                "key": p.key,
                "title": p.title,
                "clean": p.clean,
                "explanation": p.explanation,
                "payments": [_payment_view(pay) for pay in sorted(p.payments, key=lambda x: (x.paid_on, x.session))],
                "verdicts": [verdict_view(v) for v in p.verdicts],
                "reduction": format_money(p.harm.reduction) if p.harm.reduction else None,
                "hidden": typed + [("action", "use"), ("proposal", p.key)] + _hidden_payments(p.payments),
            }
        )
    return out


def planner_note(proposal: planner.Proposal) -> str:
    """The note each payment recorded from a plan carries."""
    return f"From the payment planner ({proposal.title}): {proposal.explanation}"[:1000]


def plan_refused(reason: str) -> str:
    return f"This plan could not be used: {reason} Nothing was saved."


def plan_recorded(name: str, made: Sequence[tuple[Decimal, str, date]]) -> str:
    """The message after a plan's payments are recorded as drafts: (amount, kind, paid on) each."""
    parts = [f"{format_money(a)} {vocab.KIND_WORDS_INLINE.get(k, k)} on {day_text(d)}" for a, k, d in made]
    n = len(made)
    return (
        f"Recorded {n} draft payment{'s' if n != 1 else ''} for {name} from the plan: {'; '.join(parts)}. "
        f"Someone in finance must approve {'them' if n != 1 else 'it'} before "
        f"{'they are' if n != 1 else 'it is'} paid."
    )


# ---- notifications ------------------------------------------------------------------------------


def marked_read(count: int) -> str:
    return f"{count} notification{'s' if count != 1 else ''} marked as read." if count else "There was nothing unread."
