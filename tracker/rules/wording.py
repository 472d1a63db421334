"""The engine's results in words: the presenter between the pure engine and the rest of the tracker.

The engine (``tracker.engine``) returns codes and numbers: a verdict's ``remarks``, a suggestion's
``basis``, a plan's proposals and the facts behind them. This module turns them into the sentences
people read, and fills the results' word fields (``Verdict.notes``, ``Suggestion.explanation``,
``Proposal.title`` and ``explanation``, ``Plan.message``), so the JSON and the pages read as before.
``tracker.rules.checks`` applies it where results leave the engine. All the English is here, ready
for a translation catalogue.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tracker.engine import effects, periods, planner
from tracker.engine.model import PENNY, CheckResult, Remark, RemarkCode, Suggestion, SuggestionBasis, Verdict
from tracker.money import format_money as pounds
from tracker.timeutil import day_text
from tracker.vocab import BENEFIT_INFO, BENEFIT_NAMES, BENEFIT_NAMES_INLINE, TAX

NOTE_UNCONFIRMED = "Figure not verified: check it before relying on it."
NOTE_DERIVED = "Figure worked out from a formula, not read from an official table: check it before relying on it."
NOTE_ALREADY_OVER = "This period was already over the limit before this payment."
NOTE_SECONDARY = (
    "Figure from a secondary source (an adviser table, a charity or the press), not yet checked against "
    "the regulation or an official page: an admin should confirm it."
)
#: The title of a verdict for a claim no rule covers (after the benefit's name).
NOT_CHECKED = "not checked: no rule covers this date"

_PERIOD_NOUNS = {
    "week": "week",
    "uc_assessment_period": "assessment period",
    "calendar_month": "month",
    "tax_year": "tax year",
    "per_payment": "payment",
    "none": "day",
}


# --- figures and dates ---------------------------------------------------------------------------


def hours_text(value: Decimal) -> str:
    q = value.quantize(PENNY, rounding=ROUND_HALF_UP).normalize()
    text = f"{q:f}"
    return f"{text} hour" if q == 1 else f"{text} hours"


def figure(measure: str, value: Decimal | None) -> str:
    """A limit or a total in words: hours for an hours rule, else money."""
    if value is None:
        return ""
    return hours_text(value) if measure == "hours" else pounds(value)


def period_noun(period: str) -> str:
    """One period of a rule's kind in words, for explanations ("week", "tax year", "5-week period")."""
    name, n = periods.parse_period(period)
    if name == "rolling_weeks":
        return f"{n}-week period"
    if name == "rolling_days":
        return f"{n}-day period"
    return _PERIOD_NOUNS[name]


def join(parts: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# --- verdicts ------------------------------------------------------------------------------------


def _taper_estimate(r: Remark) -> str:
    assert r.rate is not None and r.amount is not None and r.limit is not None
    rate_text = "£1" if r.rate == 1 else f"{(r.rate * 100).normalize():f}p"
    return (
        f"About {pounds(r.amount)} less {BENEFIT_NAMES_INLINE[r.benefit]} for this {period_noun(r.period)}: "
        f"{rate_text} for each £1 above {pounds(r.limit)}."
    )


#: Remarks whose sentence only words the remark's figures: {amount} and {limit} in pounds, {period}
#: as a noun, {benefit} by its name and {day} as a date (``_sentence`` fills them in).
_SENTENCES = {
    RemarkCode.TAPER_UNKNOWN: (
        "Earnings above {limit} a {period} count as income and can reduce {benefit}; how much depends on the "
        "person's other circumstances."
    ),
    RemarkCode.EXPENSES: (
        "{amount} of expenses in this {period} is counted because it is not marked as arising from "
        "service-user involvement (check easement: receipted expenses are ignored when the person took part "
        "as a service user)."
    ),
    RemarkCode.PARTNER: (
        "The partner's earnings are included: {amount} in this {period} (the household's earnings count for "
        "this benefit, not only the person's own)."
    ),
    RemarkCode.STALE: (
        "This figure may be out of date: it was expected to change on {day} and no newer figure is loaded. "
        "Ask an admin to load this year's figures."
    ),
    RemarkCode.UNCOVERED: (
        "Not checked: no rule covers {benefit} on {day}, so this payment could cost the person their benefit "
        "unseen. Recording it needs an override with a reason; ask an admin to load the rules for this date."
    ),
}


def _sentence(template: str, r: Remark) -> str:
    """``template`` with the figures it names in words (only those are worked out)."""
    words: dict[str, Callable[[], str]] = {
        "amount": lambda: pounds(r.amount),
        "limit": lambda: pounds(r.limit),
        "period": lambda: period_noun(r.period),
        "benefit": lambda: BENEFIT_NAMES_INLINE[r.benefit],
        "day": lambda: day_text(r.day),
    }
    named = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**{name: words[name]() for name in named})


def _unanswered(r: Remark) -> str:
    labels = {a.name: a.label.lower() for a in BENEFIT_INFO[r.benefit].attributes}
    questions = join([labels.get(name, name) for name in r.text.split(", ")])
    name = BENEFIT_NAMES_INLINE[r.benefit]
    return f"The {name} details do not say: {questions}. Answer them on the benefit to check it."


def remark_text(r: Remark) -> str:
    """One remark of a verdict as a sentence."""
    if r.code in _NOTIONAL_WORDS:
        return _NOTIONAL_WORDS[r.code](r)
    fixed = {
        RemarkCode.UNCONFIRMED: NOTE_UNCONFIRMED,
        RemarkCode.DERIVED: NOTE_DERIVED,
        RemarkCode.SECONDARY: NOTE_SECONDARY,
        RemarkCode.ALREADY_OVER: NOTE_ALREADY_OVER,
        RemarkCode.RULE_MESSAGE: r.text,
    }
    if r.code in fixed:
        return fixed[r.code]
    if r.code in _SENTENCES:
        return _sentence(_SENTENCES[r.code], r)
    worded = {RemarkCode.TAPER_ESTIMATE: _taper_estimate, RemarkCode.UNANSWERED: _unanswered}
    return worded[r.code](r)


def benefit_week_note(v: Verdict) -> str | None:
    """For a rule whose week decides the next benefit week (CA, CSP): which week, in words. It
    names no benefit, so finance can read it too."""
    if v.benefit_week_start is None:
        return None
    return (
        f"Earnings in the week {day_text(v.period_start)} to {day_text(v.period_end)} decide the benefit "
        f"week from {day_text(v.benefit_week_start)}, and are judged against that week's limit."
    )


def verdict(v: Verdict) -> Verdict:
    """The verdict with its notes in words (and, for a claim no rule covers, a title that says so)."""
    title = f"{BENEFIT_NAMES[v.benefit]}: {NOT_CHECKED}" if v.unknown else v.title
    notes = [remark_text(r) for r in v.remarks]
    week = benefit_week_note(v)
    if week:
        notes.append(week)
    return dataclasses.replace(v, title=title, notes=tuple(notes))


def verdicts(vs: Iterable[Verdict]) -> list[Verdict]:
    return [verdict(v) for v in vs]


# --- effects: what a verdict costs the person ---------------------------------------------------

#: The effect of a verdict in a few words, for a filter or a heading (``vocab.EFFECTS``).
EFFECT_LABELS = {
    "stops": "Stops the benefit",
    "reduces": "Reduces the benefit",
    "unknown": "Not checked",
    "near": "Close to a limit",
    "within": "Within the limit",
    "info": "For information",
}


def effect_text(effect: str, benefit: str | None, reduction: Decimal | None = None) -> str:
    """What a verdict costs the person, as a sentence. ``benefit`` is the benefit's code, or None
    for a reader who may not see it (the words then say "the benefit")."""
    name = BENEFIT_NAMES_INLINE.get(benefit or "", "the benefit")
    if benefit == TAX:
        tax = {"stops": "Over the trading allowance: income tax may be due", "near": "Close to the trading allowance"}
        if effect in tax:
            return tax[effect]
    if effect == "stops":
        return f"Over the limit: stops {name} for this period"
    if effect == "reduces":
        if reduction is None:
            return f"Reduces {name}: by how much depends on the person's other circumstances"
        return f"Reduces {name} by about {pounds(reduction)}"
    words = {
        "unknown": "Not checked: no rule covers this date",
        "near": "Close to the limit",
        "within": "Within the limit",
        "info": "For information",
    }
    return words.get(effect, effect)


def verdict_effect_text(v: Verdict, *, names: bool = True) -> str:
    """A verdict's effect as a sentence (the benefit named only for a reader who may see it; the
    trading allowance, which is tax, always keeps its name)."""
    shown = v.benefit if names or v.benefit == TAX else None
    return effect_text(v.effect, shown, v.estimated_reduction)


def json_effect_text(v: Mapping[str, Any]) -> str:
    """The same for a verdict as JSON (a stored check; for finance its ``benefit`` is already null)."""
    raw = v.get("estimated_reduction")
    reduction = Decimal(str(raw)) if raw is not None else None
    # for finance only the trading allowance keeps its rule code (its benefit field is null)
    benefit = v.get("benefit") or (TAX if v.get("rule") else None)
    return effect_text(effects.of_json(v), str(benefit) if benefit else None, reduction)


# --- notional earnings ---------------------------------------------------------------------------


#: Why no exemption from notional earnings was established (``notional.Tally.reasons``).
NOTIONAL_REASONS = {
    "service_user_no": "the work is recorded as not being service-user involvement",
    "service_user_unknown": "nobody has recorded whether the work is service-user involvement",
    "payer_company": "the organisation is a company, not a charity or voluntary organisation",
    "payer_public_body": "the organisation is a public body, not a charity or voluntary organisation",
    "payer_unknown": "the organisation has not said whether it is a charity or voluntary organisation",
}
#: Each exemption from notional earnings, as the reason the money offered does not count.
EXEMPTION_WORDS = {
    "service_user": "the person took part as a service user",
    "charity": "the work is for a charity or voluntary organisation, where it is reasonable to be unpaid",
}


def _notional_counted(r: Remark) -> str:
    why = join([NOTIONAL_REASONS[c] for c in r.text.split(",") if c in NOTIONAL_REASONS])
    return (
        f"{pounds(r.amount)} offered and not taken counts as earnings for {BENEFIT_NAMES_INLINE[r.benefit]} "
        f"(notional earnings): the benefit's rules can treat a person as paid what they were offered, and no "
        f"exemption is established, because {why}. Check with a benefits adviser."
    )


def _notional_exempt(r: Remark) -> str:
    why = join([EXEMPTION_WORDS[c] for c in r.text.split(",") if c in EXEMPTION_WORDS])
    return (
        f"{pounds(r.amount)} offered and not taken does not count for {BENEFIT_NAMES_INLINE[r.benefit]}: "
        f"{why}, so it is not treated as notional earnings."
    )


_NOTIONAL_WORDS = {RemarkCode.NOTIONAL_COUNTED: _notional_counted, RemarkCode.NOTIONAL_EXEMPT: _notional_exempt}


# --- suggestions ---------------------------------------------------------------------------------

#: A payment kind after "as" ("Give the £150.00 as training instead of cash").
_KIND_AS = {
    "cash": "cash",
    "bank_transfer": "a bank transfer",
    "voucher": "vouchers",
    "training": "training",
    "charity": "a payment to a charity",
    "certificate": "a certificate",
    "declined": "nothing",
}
#: A payment kind as the subject of "is on the person's list".
_KIND_PREFERRED = {
    "cash": "Cash is",
    "bank_transfer": "A bank transfer is",
    "voucher": "Vouchers are",
    "training": "Training is",
    "charity": "A payment to a charity is",
}
#: A payment kind as the subject of "does not count towards".
_KIND_SUBJECT = {
    "cash": "Cash does",
    "bank_transfer": "A bank transfer does",
    "voucher": "Vouchers do",
    "training": "Training does",
    "charity": "A payment to a charity does",
}


def _limit_text(b: SuggestionBasis) -> str:
    """The limit in words, as it stands on the suggested dates; "the limit for each week" when a
    later date falls under a newer figure."""
    if len(b.limits) == 1:
        only = b.limits[0]
        return f"the {only.title} of {figure(only.measure, only.limit)}"
    return f"the {b.rule_title} for each {period_noun(b.period)}"


def _split_text(s: Suggestion, b: SuggestionBasis) -> str:
    pieces = [f"{pounds(p.amount)} on {day_text(p.paid_on)}" for p in s.payments]
    noun = period_noun(b.period)
    verb = "goes over" if b.breach == "above" else "reaches"
    who = f"neither {noun}" if len(s.payments) == 2 else f"no {noun}"
    return f"Pay {join(pieces)}, so {who} {verb} {_limit_text(b)}."


def _defer_text(s: Suggestion, b: SuggestionBasis) -> str:
    d = s.payments[0].paid_on
    return (
        f"Pay the whole {pounds(b.amount)} on {day_text(d)} instead of {day_text(b.paid_on)}: "
        f"that {period_noun(b.period)} has room for it under {_limit_text(b)}."
    )


def _reduce_text(s: Suggestion, b: SuggestionBasis) -> str:
    now, rest = s.payments
    return (
        f"Pay {pounds(now.amount)} on {day_text(now.paid_on)}, the most that fits under "
        f"{_limit_text(b)} that {period_noun(b.period)}, and the other {pounds(rest.amount)} on "
        f"{day_text(rest.paid_on)}."
    )


def _switch_text(s: Suggestion, b: SuggestionBasis) -> str:
    new = s.payments[0]
    when = "" if new.paid_on == b.paid_on else f" on {day_text(new.paid_on)}"
    titles = " or ".join(f"the {t}" for t in b.rule_titles)
    return (
        f"Give the {pounds(b.amount)} as {_KIND_AS[new.kind]} instead of {_KIND_AS[b.kind]}{when}. "
        f"{_KIND_SUBJECT[new.kind]} not count towards {titles}. "
        f"{_KIND_PREFERRED[new.kind]} on the person's list of ways they are happy to be paid."
    )


_SUGGESTION_TEXTS = {"split": _split_text, "defer": _defer_text, "reduce": _reduce_text, "switch_kind": _switch_text}


def suggestion(s: Suggestion) -> Suggestion:
    """The suggestion with its explanation in words."""
    if s.basis is None:
        return s
    return dataclasses.replace(s, explanation=_SUGGESTION_TEXTS[s.kind](s, s.basis))


def check_result(result: CheckResult) -> CheckResult:
    """A what-if check with every verdict's notes and every suggestion's explanation in words."""
    return CheckResult(
        verdicts=tuple(verdicts(result.verdicts)), suggestions=tuple(suggestion(s) for s in result.suggestions)
    )


# --- the payment planner -------------------------------------------------------------------------

#: A payment kind after an amount ("£40.00 in cash").
_KIND_WORDS = {
    "cash": "in cash",
    "bank_transfer": "by bank transfer",
    "voucher": "in vouchers",
    "training": "as training",
    "charity": "as a payment to a charity",
    "certificate": "as a certificate",
    "declined": "as a declined payment",
}
#: A payment kind as the subject of a sentence.
_KIND_NOUN = {
    "cash": "Cash",
    "bank_transfer": "A bank transfer",
    "voucher": "Vouchers",
    "training": "Training",
    "charity": "A payment to a charity",
    "certificate": "A certificate",
    "declined": "Declining payment",
}
_PLAN_TITLES = {
    "as_asked": "Pay each session on the day",
    "split": "Pay what fits now and the rest later",
    "whole": "Pay each session in one go, on the first date it fits",
    "switch": "Pay on time, partly in another way they are happy with",
    "least_harm": "The least harmful option (it still breaks a rule)",
    "no_money": "Record what they asked for instead of money",
}
_NO_REDUCTION = "_no_reduction"


def _taper_names(vs: Iterable[Verdict]) -> str:
    names: list[str] = []
    for v in vs:
        name = BENEFIT_NAMES_INLINE[v.benefit]
        if v.is_taper and name not in names:
            names.append(name)
    return join(names) or "a benefit"


def _what(kind: str) -> str:
    """What is recorded instead of money."""
    return {"certificate": "a certificate", "declined": "a declined payment"}.get(kind, kind)


def _period_phrase(limited: planner.Limited) -> str:
    if limited.start == limited.end:
        return f"on {day_text(limited.start)}"
    return f"in the {period_noun(limited.period)} from {day_text(limited.start)} to {day_text(limited.end)}"


def _limited_text(limited: planner.Limited) -> str:
    rule = f"The {limited.title}"
    if limited.code == planner.LIMITED_ALREADY_OVER:
        return f"{rule} is already over its limit {_period_phrase(limited)}, so nothing more is paid then."
    limit = figure(limited.measure, limited.limit)
    if limited.code == planner.LIMITED_SOME_ROOM:
        assert limited.room is not None
        return f"{rule} ({limit}) has room for only {pounds(limited.room)} {_period_phrase(limited)}."
    return f"{rule} ({limit}) has no room left {_period_phrase(limited)}."


def _session_line(s: planner.SessionPlan) -> str:
    pieces = [f"{pounds(p.amount)} {_KIND_WORDS[p.kind]} on {day_text(p.paid_on)}" for p in s.parts]
    return f"For the session on {day_text(s.worked_on)} ({pounds(s.amount)}): pay {join(pieces)}."


def _switched_text(sw: planner.Switch) -> str:
    titles = " or ".join(f"the {t}" for t in sw.titles)
    return (
        f"{_KIND_NOUN[sw.kind]} does not count towards {titles}, and it is on the person's list of ways they "
        "are happy to be paid."
    )


def _breach_text(b: planner.Breach) -> str:
    noun = period_noun(b.period) if b.period else "period"
    how = f"{figure(b.measure, b.over_by)} over" if b.over_by > 0 else "at the limit, which breaks it"
    return f"the {b.title} in the {noun} from {day_text(b.start)} to {day_text(b.end)} ({how})"


def _clean_tail(p: planner.Proposal) -> str:
    if p.story.strict:
        return "With this plan no benefit rule goes over its limit, and no benefit is reduced by a taper."
    tail = "With this plan no benefit rule goes over its limit."
    if p.harm.reduction > 0:
        tail += f" A taper would still reduce benefits by about {pounds(p.harm.reduction)} in all."
    return tail


def _no_money_explanation(p: planner.Proposal) -> str:
    lines = [
        f"For the session on {day_text(pay.worked_on)}: record {_what(pay.kind)} on {day_text(pay.paid_on)} "
        f"(offered {pounds(pay.offered)})."
        for pay in p.payments
    ]
    return " ".join(lines) + " " + notional_summary(p.verdicts)


def notional_summary(vs: Iterable[Verdict]) -> str:
    """What money offered and not taken means for the person's benefits, in plain words."""
    vs = list(vs)
    counted = sorted({v.benefit for v in vs if v.notional_counted > 0})
    exempt = sorted({v.benefit for v in vs if v.notional_exempt > 0 and v.benefit not in counted})
    if not counted and not exempt:
        return "The person chose not to be paid in money, so nothing counts towards a benefit's earnings limit."
    out = []
    if counted:
        names = join([BENEFIT_NAMES_INLINE[b] for b in counted])
        out.append(
            f"The person chose not to be paid in money, but DWP may still treat the money offered as earnings for "
            f"{names} (notional earnings), unless the service-user exemption applies."
        )
    if exempt:
        names = join([BENEFIT_NAMES_INLINE[b] for b in exempt])
        why = join(sorted({EXEMPTION_WORDS[e] for v in vs if v.benefit in exempt for e in v.exemptions}))
        out.append(f"The money offered does not count for {names}: {why}.")
    return " ".join(out)


def proposal_explanation(p: planner.Proposal) -> str:
    """What the proposal pays, why, and whether it keeps every rule."""
    if p.key == "no_money":
        return _no_money_explanation(p)
    why: list[str] = []
    for text in [_limited_text(lim) for lim in p.story.limited] + [_switched_text(sw) for sw in p.story.switches]:
        if text not in why:
            why.append(text)
    out = " ".join([_session_line(s) for s in p.story.sessions] + why)
    if p.clean:
        return f"{out} {_clean_tail(p)}"
    if p.story.breaches:
        out += f" This still breaks: {join([_breach_text(b) for b in p.story.breaches])}."
    return out


def proposal_title(p: planner.Proposal) -> str:
    title = _PLAN_TITLES.get(p.key.removesuffix(_NO_REDUCTION), _PLAN_TITLES["split"])
    if p.story.strict:
        title = f"{title}, with no {_taper_names(p.verdicts)} reduction"
    if p.title_kind:
        title = f"{title}, {_KIND_WORDS[p.title_kind]}"
    return title


def _clean_message(result: planner.Plan) -> str:
    n = len(result.proposals)
    message = (
        f"{'One way' if n == 1 else f'{n} ways'} to pay {pounds(result.total)} that "
        f"keep{'s' if n == 1 else ''} every benefit rule within its limit."
    )
    reduced = [p for p in result.proposals if p.harm.reduction > 0]
    if reduced and len(reduced) == n:
        message += (
            f" Each still leads to an estimated reduction in {_taper_names(reduced[0].verdicts)}"
            f" (a taper, not a lost benefit); the smallest is about "
            f"{pounds(min(p.harm.reduction for p in reduced))}."
        )
    return message


def _least_harm_message(result: planner.Plan) -> str:
    message = (
        f"There is no way to pay {pounds(result.total)} by {day_text(result.horizon_end)} that keeps every "
        "benefit rule within its limit, in the ways the person is happy to be paid."
    )
    hours_over = [v for v in result.proposals[0].verdicts if v.status == "over" and v.measure == "hours"]
    if hours_over:
        v = hours_over[0]
        message += (
            f" The hours worked in the week from {day_text(v.period_start)} break the {v.title}: "
            "no payment date changes that. Fewer hours are needed."
        )
    return message + (
        " Below is the option that does the least harm. Do not use it without talking to the person "
        "and a benefits adviser first."
    )


def _no_money_message(result: planner.Plan) -> str:
    proposal = result.proposals[0]
    what = _what(proposal.payments[0].kind)
    if proposal.clean:
        return (
            f"The person chose not to be paid in money for their time: record {what} instead of {pounds(result.total)}."
        )
    bad = [v for v in proposal.verdicts if v.status == "over"]
    if any(v.measure == "hours" for v in bad):
        why = "the hours worked still break a rule: fewer hours are needed"
    elif bad[0].notional_counted > 0:
        why = (
            f"DWP may treat the money offered as earnings (notional earnings), which takes the {bad[0].title} over "
            f"its limit from {day_text(bad[0].period_start)} to {day_text(bad[0].period_end)}, unless the "
            "service-user exemption applies"
        )
    else:
        why = (
            f"the {bad[0].title} is already over its limit from {day_text(bad[0].period_start)} to "
            f"{day_text(bad[0].period_end)} (recording {what} adds nothing to it)"
        )
    return f"The person chose not to be paid in money, but {why}. Talk to the person and a benefits adviser first."


_PLAN_MESSAGES = {
    planner.OUTCOME_CLEAN: _clean_message,
    planner.OUTCOME_LEAST_HARM: _least_harm_message,
    planner.OUTCOME_NO_MONEY: _no_money_message,
}


def proposal(p: planner.Proposal) -> planner.Proposal:
    """The proposal with its title, explanation and verdicts' notes in words."""
    return dataclasses.replace(
        p, title=proposal_title(p), explanation=proposal_explanation(p), verdicts=tuple(verdicts(p.verdicts))
    )


def plan(result: planner.Plan) -> planner.Plan:
    """The plan with its message and every proposal in words."""
    return dataclasses.replace(
        result, message=_PLAN_MESSAGES[result.outcome](result), proposals=tuple(proposal(p) for p in result.proposals)
    )
