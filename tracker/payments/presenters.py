"""What the payment pages say: words, figures and table rows built from payments, contributions
and the benefit check's JSON. Nothing here writes; the views load, check access, call the forms and
services, and hand these to the templates.

The contribution pages share the list pieces at the end (``query_person``, ``page_args``,
``list_page``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user
from wtforms import Form

from tracker import keyset, pages, timeutil
from tracker.auth.access import visible_person_or_404
from tracker.contributions.models import Contribution
from tracker.engine import effects
from tracker.errors import DomainError
from tracker.money import ZERO, format_money
from tracker.payments import queries, service
from tracker.payments.forms import MAX_SUGGESTED, PaymentForm, list_filters, suggestion_fields
from tracker.payments.models import Payment
from tracker.people.forms import select_choices
from tracker.people.models import Person
from tracker.rules import redaction, wording
from tracker.vocab import KIND_LABELS, NON_MONEY_KINDS, PAYMENT_KINDS, VERDICT_STATUS_WORDS, benefit_name

CHANGED = (
    "Someone else changed this payment at the same moment, so your change was not made. "
    "The page now shows the payment as it is."
)
EXPIRED = "This form has expired. Please try again."
RECORDER_APPROVES = "You recorded this payment, so you cannot approve it. Someone else in finance must approve it."
RECORD_BLOCKED = (
    "This payment would break a benefit rule, so it was not recorded. Use one of the suggestions, "
    "or give a reason to override the check."
)
PAY_BLOCKED = (
    "Paid on this date, the payment would break a benefit rule, so it was not marked as paid. "
    "Pick another date, or give a reason to override the check."
)
BLOCKED_NOTE = (
    "This payment would break a benefit rule. Use one of the suggestions, or give a reason to "
    "override the check before you record it."
)
SUGGESTION_UNREADABLE = "That suggestion could not be read. Check the payment again to see new suggestions."
SUGGESTION_STALE = (
    "The suggestion no longer fits the benefit rules, because something changed since "
    "the check. Nothing was saved. The check below is up to date."
)
OFFERED_TOO_LOW = "The amount offered cannot be less than the amount paid."
SAY_WHY = "Say why: for example, what the person asked for, and when they told you."
MOVE_DONE = {
    "approve": "The payment has been approved. It can now be paid.",
    "pay": "The payment has been marked as paid.",
    "cancel": "The payment has been cancelled.",
    "reverse": "A reversal has been recorded as a draft. It nets the payment out once someone else in finance "
    "approves it.",
}
REVERSAL_APPROVED = "The reversal has been approved: it now nets the payment out."
REVERSAL_CANCELLED = "The reversal has been cancelled: the payment counts as before."
OVERRIDER_APPROVES = (
    "You overrode the benefit check for this payment, so you cannot approve it. Someone else in finance must "
    "approve it."
)
_MOVE_WORDS = {"approve": "approved", "pay": "paid", "cancel": "cancelled", "reverse": "reversed"}
_STATE_WORDS = {
    "draft": "still a draft",
    "approved": "already approved",
    "paid": "already paid",
    "cancelled": "cancelled",
}
_MOVE_HINTS = {
    ("paid", "cancel"): " To correct it, reverse it instead.",
    ("draft", "pay"): " It must be approved first.",
}
#: The method a payment of each kind is most likely paid by (the pay form's first choice).
_DEFAULT_METHODS = {
    "cash": "cash",
    "bank_transfer": "bank transfer",
    "voucher": "voucher",
    "training": "training place",
    "charity": "charity donation",
}


# ---- words and figures ---------------------------------------------------------------------------


def day_text(raw: date | str) -> str:
    """7 April 2025; text that is not a date is shown as it is."""
    try:
        d = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        return str(raw)
    return timeutil.day_text(d)


def figure(measure: str | None, raw: object) -> str:
    """A check's figure: money, or hours for an hours rule."""
    if raw is None or raw == "":
        return ""
    try:
        value = Decimal(str(raw))
    except ArithmeticError:
        return str(raw)
    if measure == "hours":
        text = f"{value.quantize(Decimal('0.01')).normalize():f}"
        return f"{text} hour" if value == 1 else f"{text} hours"
    return format_money(value)


def sees_benefit_names(role: str) -> bool:
    """Finance sees totals, limits and headroom, but not which benefits a person receives
    (special-category data), as in the position API (``tracker.rules.redaction``)."""
    return redaction.sees_benefits(role)


def kind_phrase(kind: str) -> str:
    """A payment kind inside a sentence, as the suggestions word it ("vouchers")."""
    return KIND_LABELS.get(kind, kind).lower()


def refusal(payment: Payment, move: str) -> str | None:
    """A plain refusal when the move is not allowed from the payment's state; None when it is."""
    if move in service.allowed_moves(payment):
        return None
    if payment.reversal_of_id is not None:
        return f"This reversal entry is {payment.status}: it cannot be changed."
    if move == "reverse" and payment.status == "paid":
        return "This payment has already been reversed."
    state = _STATE_WORDS.get(payment.status, payment.status)
    return f"This payment is {state}, so it cannot be {_MOVE_WORDS[move]}.{_MOVE_HINTS.get((payment.status, move), '')}"


def refused_move(e: DomainError) -> str:
    """What a refusal from the payment's state machine says on the page."""
    if e.code == service.RECORDER:
        return RECORDER_APPROVES
    if e.code == service.OVERRIDER:
        return OVERRIDER_APPROVES
    if e.code == "payment_changed":
        return CHANGED
    return e.message


def approve_refusal(payment: Payment, user) -> str | None:
    """Why ``user`` may not approve the payment (they recorded it or gave its override), in words;
    None when they may."""
    code = service.approver_refusal(payment, user)
    if code is None:
        return None
    return OVERRIDER_APPROVES if code == service.OVERRIDER else RECORDER_APPROVES


def move_done(move: str, payment: Payment) -> str:
    """What the page says after a move: a paying that needed an override left the payment in draft."""
    if payment.reversal_of_id is not None and move == "approve":
        return REVERSAL_APPROVED
    if payment.reversal_of_id is not None and move == "cancel":
        return REVERSAL_CANCELLED
    if move == "pay" and payment.status == "draft":
        return service.BACK_TO_DRAFT
    return MOVE_DONE[move]


def confirm_words(payment: Payment, move: str) -> dict[str, str]:
    """What the confirm page for cancelling or reversing says will happen, before anything is done."""
    amount, name = format_money(payment.amount), payment.person.name
    if move == "reverse":
        return {
            "heading": f"Reverse the payment of {amount} to {name}?",
            "what": f"A reversal of {format_money(-payment.amount)} will be recorded as a draft; it counts once "
            "someone else in finance approves it. Until then the payment still counts in the benefit checks. "
            "The payment itself is never changed or deleted.",
            "hint": "Why the payment is being reversed, for example “paid to the wrong person”.",
            "button": "Yes, reverse the payment",
        }
    if payment.reversal_of_id is not None:
        return {
            "heading": f"Cancel the reversal of {format_money(-payment.amount)} for {name}?",
            "what": "The reversal will be cancelled and will never count: the payment it was reversing counts "
            "as before. This cannot be undone, but the payment can be reversed again.",
            "hint": "Why the reversal is being cancelled, for example “the payment was right”.",
            "button": "Yes, cancel the reversal",
        }
    return {
        "heading": f"Cancel the payment of {amount} to {name}?",
        "what": f"The payment will be cancelled: it will not be paid, and it will no longer count in {name}’s "
        "benefit checks. This cannot be undone; to pay them later, record a new payment.",
        "hint": "Why the payment is being cancelled, for example “recorded twice”.",
        "button": "Yes, cancel the payment",
    }


def default_method(payment: Payment) -> str:
    return _DEFAULT_METHODS.get(payment.kind, "no money (certificate or decline)")


def recorded_message(payment: Payment, name: str) -> str:
    overridden = " with your reason to override the benefit check" if payment.override_reason else ""
    return (
        f"A payment of {format_money(payment.amount)} to {name} has been recorded as a draft{overridden}. "
        "Someone else in finance must approve it."
    )


def suggestion_recorded_message(made: list[Payment], name: str) -> str:
    parts = [f"{format_money(p.amount)} {kind_phrase(p.kind)} on {day_text(p.paid_on)}" for p in made]
    many = len(made) != 1
    return (
        f"Recorded {len(made)} draft payment{'s' if many else ''} for {name}, as suggested: "
        f"{'; '.join(parts)}. Someone else in finance must approve {'them' if many else 'it'}."
    )


def suggestion_refused(messages: Iterable[str]) -> str:
    return "That suggestion could not be used: " + " ".join(messages) + " Nothing was saved."


def note_with(note: str | None, explanation: str) -> str:
    """The note kept with a payment recorded from a suggestion."""
    text = ((note or "").strip() + "\n" if (note or "").strip() else "") + "Recorded from a suggestion: " + explanation
    return text[:1000]


# ---- the benefit check in rows --------------------------------------------------------------------


def _period_text(period: Mapping) -> str:
    start, end = period.get("start"), period.get("end")
    if not (start and end):
        return ""
    return day_text(start) if start == end else f"{day_text(start)} to {day_text(end)}"


def _headroom_text(measure: str | None, headroom: object) -> str:
    if headroom in (None, ""):
        return "Not applicable"
    try:
        h = Decimal(str(headroom))
    except ArithmeticError:
        h = None
    if h is not None and h < 0:
        return f"None: {figure(measure, -h)} over the limit"
    return figure(measure, headroom) or "Not applicable"


def _reduction_text(v: Mapping) -> str | None:
    raw = v.get("estimated_reduction")
    return format_money(Decimal(str(raw))) if raw not in (None, "") else None


def _source(v: Mapping) -> str | None:
    source = v.get("source")
    return source if str(source or "").startswith(("http://", "https://")) else None


def _named(v: Mapping) -> dict:
    """The parts of a verdict that name the rule and the benefit (hidden from finance)."""
    return {
        "title": v.get("title") or v.get("rule"),
        "rule": v.get("rule"),
        "benefit": benefit_name(v.get("benefit")),
        "notes": [n for n in (v.get("notes") or []) if n],
        "source": _source(v),
    }


def _unnamed(v: Mapping) -> dict:
    """The same parts for a reader who may not see benefit names: a neutral description instead."""
    if redaction.is_tax(v):  # the trading allowance (tax) keeps its name
        return _named(v)
    shown = redaction.verdict(v)
    return {
        "title": shown["title"],
        "rule": None,
        "benefit": "",
        "notes": [],
        "source": None,
        "description": shown["description"],
    }


def verdict_row(v: Mapping, *, names: bool = True) -> dict:
    """One verdict (the engine's JSON) in words: never colour alone."""
    measure, status = v.get("measure"), v.get("status")
    return {
        **(_named(v) if names else _unnamed(v)),
        "period": _period_text(v.get("period") or {}),
        "measure": "Hours worked" if measure == "hours" else "Earnings",
        "before": figure(measure, v.get("total_before")),
        "after": figure(measure, v.get("total_after", v.get("total"))),
        "limit": figure(measure, v.get("limit")) if v.get("limit") is not None else "No limit",
        "headroom": _headroom_text(measure, v.get("headroom")),
        "status": status,
        "status_word": VERDICT_STATUS_WORDS.get(str(status), str(status)),
        "effect": effects.of_json(v),
        "effect_word": wording.json_effect_text(v if names else redaction.verdict(v)),
        "blocks": status in ("over", "unknown") and v.get("severity") == "block",
        "warns": status == "over" and v.get("severity") != "block",
        "unverified": v.get("confidence") == "unconfirmed",
        "reduction": _reduction_text(v),
    }


def verdict_rows(verdicts: Iterable[Mapping] | None, *, names: bool = True) -> list[dict]:
    """Verdicts in words for the page. Without ``names`` the rule, the benefit, the notes and the
    source are left out."""
    return [verdict_row(v, names=names) for v in verdicts or []]


def without_names(text: str, verdicts: Iterable[Mapping] | None) -> str:
    """A suggestion's explanation without the names of the rules it mentions."""
    return redaction.scrub(text, verdicts)


def suggestion_payment(p: Mapping) -> dict:
    return {
        "kind": KIND_LABELS.get(p["kind"], p["kind"]),
        "amount": format_money(Decimal(p["amount"])),
        "paid_on": day_text(p["paid_on"]),
    }


def suggestion_views(check: Mapping | None, form: PaymentForm, names: bool) -> list[dict]:
    """The check's suggestions, each with the hidden fields its "use this suggestion" button posts."""
    out = []
    for n, s in enumerate((check or {}).get("suggestions") or [], start=1):
        explanation = s.get("explanation") or ""
        if not names:
            explanation = without_names(explanation, (check or {}).get("verdicts"))
        payments = (s.get("payments") or [])[:MAX_SUGGESTED]
        out.append(
            {
                "number": n,
                "kind": s.get("kind"),
                "explanation": explanation,
                "payments": [suggestion_payment(p) for p in payments],
                "hidden": suggestion_fields(form, explanation, payments),
            }
        )
    return out


# ---- a new payment ---------------------------------------------------------------------------------


def contribution_label(c: Contribution) -> str:
    what = c.activity.name if c.activity else (c.description or "Contribution")
    hours = f"{c.hours.normalize():f}"
    prep = f" and {c.preparation_hours.normalize():f} preparation" if c.preparation_hours else ""
    return f"{day_text(c.worked_on)}: {what}, {hours} hours{prep}, {format_money(c.value_owed)} owed"


def owed(contributions: Iterable[Contribution]) -> Decimal:
    return sum((c.value_owed for c in contributions), ZERO)


def preferred(person: Person):
    return person.preferences[0] if person.preferences else None


def choices_text(person: Person) -> str:
    """The ways the person chose, most preferred first, in words ("" when they have not said)."""
    return "; then ".join(preference_text(pref) for pref in person.preferences)


def kind_choices_for(person: Person) -> list:
    """The kind select's choices: the person's own choices first, in their order, then the rest."""
    own = service.chosen_kinds(person)
    pairs = [(k, f"{KIND_LABELS[k]} (their choice {n})") for n, k in enumerate(own, start=1)]
    pairs += [(k, KIND_LABELS[k]) for k in PAYMENT_KINDS if k not in own]
    return select_choices([("", "Choose how the person is paid")] + pairs)


def kind_reason_needed(person: Person, kind: str) -> str:
    """The error when a payment of a kind the person did not choose has no reason."""
    return (
        f"Say why you chose “{KIND_LABELS.get(kind, kind)}”: {person.name} chose {choices_text(person)}. "
        "For example, “they asked for it by phone on 3 March”."
    )


def first_choice_declines(person: Person) -> bool:
    pref = preferred(person)
    return pref is not None and pref.kind == "declined"


def declined_note(person: Person) -> str:
    return f"Recorded as a decline: {person.name}’s first choice is not to be paid."


def unoffered_choices(person: Person, kind: str | None, check: Mapping | None) -> list[str]:
    """The person's own choices that the check did not offer: neither the kind checked nor a kind
    any suggestion pays in (the page never says "no other way fits" while one of them is left out)."""
    offered = {kind} | {p.get("kind") for s in (check or {}).get("suggestions") or [] for p in s.get("payments") or []}
    return [KIND_LABELS.get(k, k) for k in service.chosen_kinds(person) if k not in offered]


def prefill(person: Person, unpaid: list[Contribution], on: date) -> dict:
    """The new payment form as it first shows: everything unpaid, paid the way the person prefers."""
    total = owed(unpaid)
    pref = preferred(person)
    kind = pref.kind if pref else ""
    data: dict = {"contribution_ids": [str(c.id) for c in unpaid], "kind": kind, "paid_on": on}
    if kind in NON_MONEY_KINDS:
        data["amount"] = "0.00"
        if unpaid:
            data["amount_offered"] = str(total)
    elif unpaid:
        data["amount"] = str(total)
    if kind == "charity" and pref.note:
        data["charity_name"] = pref.note
    return data


# ---- month end -------------------------------------------------------------------------------------


def method_groups(paid: Iterable[Payment]) -> list[dict]:
    """Paid payments grouped by how they were paid, each group with its total."""
    groups: dict[str, dict] = {}
    for p in paid:
        method = p.method or "not recorded"
        g = groups.setdefault(method, {"method": method, "rows": [], "total": ZERO})
        g["rows"].append(p)
        g["total"] += p.amount
    return list(groups.values())


# ---- list pieces the payment and contribution pages share ---------------------------------------------


def query_person() -> Person | None:
    """The person named by ?person_id= (404 when it names no one this user may see); None when not given."""
    raw = request.args.get("person_id")
    if raw in (None, ""):
        return None
    pid = pages.parse_id(raw)
    if pid is None:
        abort(404)
    return visible_person_or_404(current_user, pid)


def page_args(f: queries.Filters | None) -> dict:
    """The query arguments a page link keeps."""
    if f is None:
        return {}
    args = f.as_args()
    if f.per_page != queries.Filters.per_page:
        args["per_page"] = f.per_page
    return args


def paginate(query, f: queries.Filters | None, order: keyset.Order):
    """A page of the list, read from the index on its order (no count of the whole list)."""
    if f is None:
        return None
    return keyset.list_page(query, order, f)


def list_page(
    build_query: Callable[[queries.Filters], sa.Select], order: keyset.Order
) -> tuple[Form, queries.Filters | None, object]:
    """A filtered list from ?person_id=&activity_id=&status=&kind=&from=&to=&page=&cursor=: (the
    filter form, the filters or None when they have errors, the page of rows or None)."""
    form, f = list_filters(request.args)
    return form, f, paginate(build_query(f), f, order) if f else None


# ---- month end: the owed queue, bulk approval ------------------------------------------------------

OWED_NONE_CHOSEN = "Choose at least one person to record payments for."
APPROVE_NONE_CHOSEN = "Choose at least one draft to approve."
_REFUSAL_WORDS = {"approver_is_recorder": RECORDER_APPROVES, "payment_changed": CHANGED}


def check_summary(check: Mapping | None) -> str:
    """The benefit check of paying it all now, in a few words."""
    verdicts = (check or {}).get("verdicts") or []
    if (check or {}).get("blocked"):
        return "Blocked: paying it all now would break a benefit rule"
    found = {effects.of_json(v) for v in verdicts}
    if "stops" in found:
        return "Over a limit: a warning, the payment can still be recorded"
    if "reduces" in found:
        return "Reduces a benefit: a warning, the payment can still be recorded"
    if "near" in found:
        return "Close to a limit"
    return "Within the limits" if verdicts else "No benefit rule applies"


def preference_text(pref) -> str:
    if pref is None:
        return "Not asked yet: checked as a bank transfer"
    label = KIND_LABELS.get(pref.kind, pref.kind)
    return f"{label}: {pref.note}" if pref.note else label


def owed_suggestions(check: Mapping | None, names: bool) -> list[dict]:
    """A blocked person's suggestions in words (to record one, open the new payment page)."""
    out = []
    for s in (check or {}).get("suggestions") or []:
        explanation = s.get("explanation") or ""
        if not names:
            explanation = without_names(explanation, (check or {}).get("verdicts"))
        out.append({"explanation": explanation, "payments": [suggestion_payment(p) for p in s.get("payments") or []]})
    return out


def owed_recorded_messages(outcome) -> list[tuple[str, str]]:
    """(category, message) flashes after recording from the owed queue."""
    out = []
    if outcome.made:
        names = ", ".join(f"{name} ({format_money(p.amount)})" for name, p in outcome.made)
        out.append(
            (
                "success",
                f"Recorded {len(outcome.made)} draft payment{'s' if len(outcome.made) != 1 else ''}: "
                f"{names}. Someone else in finance must approve them.",
            )
        )
    for name in outcome.blocked:
        out.append(
            (
                "error",
                f"Nothing was recorded for {name}: paying it all now would break a benefit rule. "
                "Use a suggestion on their new payment page, or give a reason to override the check.",
            )
        )
    for name, messages in outcome.refused:
        out.append(("error", f"Nothing was recorded for {name}: " + " ".join(messages)))
    return out


def approval_messages(outcomes, names: Mapping[int, str]) -> list[tuple[str, str]]:
    """(category, message) flashes after a bulk approval: the count, then each refusal with its reason."""
    approved = [o for o in outcomes if o.status == "approved"]
    out = []
    if approved:
        out.append(
            ("success", f"Approved {len(approved)} payment{'s' if len(approved) != 1 else ''}. They can now be paid.")
        )
    for o in outcomes:
        if o.status != "approved":
            who = f" to {names[o.id]}" if o.id in names else ""
            out.append(("error", f"Payment {o.id}{who} was not approved: {_REFUSAL_WORDS.get(o.code, o.message)}"))
    return out


# ---- the payments list: sortable columns -------------------------------------------------------------

SORT_COLUMNS = (("date", "Date received"), ("person", "Person"), ("amount", "Amount"), ("status", "Status"))


def sort_headers(f: queries.Filters | None, endpoint: str = "payments.index") -> dict[str, dict]:
    """For each sortable column: the link that sorts by it (the other way when it is the sort already),
    keeping the filters, and its ``aria-sort`` (None on the columns not sorted by)."""
    from flask import url_for

    args = page_args(f)
    args.pop("page", None)
    current = (f.sort if f else None) or "-date"
    out = {}
    for key, label in SORT_COLUMNS:
        on = current.removeprefix("-") == key
        descending = current.startswith("-")
        wanted = key if (on and descending) or (not on and key in ("person", "status")) else f"-{key}"
        out[key] = {
            "label": label,
            "href": url_for(endpoint, **{**args, "sort": wanted}),
            "aria_sort": ("descending" if descending else "ascending") if on else None,
        }
    return out


def people_options(form) -> list[str]:
    """The person filter's list of people to pick from as one types."""
    from tracker.payments.forms import choice_pairs, person_label

    return [person_label(int(value), name) for value, name in choice_pairs(form.person_id.choices) if value]
