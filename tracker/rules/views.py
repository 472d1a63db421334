"""Benefit-rule administration pages: the list, one rule with its history, edit, confirm, retire and
load a rule pack.

The blueprint lives here, not in tracker/rules/__init__.py, so the pure engine package imports
without Flask. Staff (admin, finance, coordinator) may read; only admins change rules. Every change
goes through tracker.rules.service, which writes a new revision and an audit event. Views follow
the people pages: the form parses what was typed, the service (through pack.parse_rule) decides
what is allowed, its ValidationFailed messages go onto the fields (422), and on success the view
commits once, flashes and redirects.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from tracker.auth.access import roles_required
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.money import format_money
from tracker.people.models import PREFERENCE_LABELS
from tracker.engine import pack, periods
from tracker.rules import bp, service
from tracker.engine.core import BENEFIT_NAMES, BENEFITS, PAYMENT_KINDS, Rule
from tracker.rules.forms import (CONFIDENCE_CHOICES, DATE_BASIS_CHOICES, EXPENSES_CHOICES, ConfirmForm, InForceForm,
                                 LoadForm, RetireForm, RuleForm, changes_from, decimal_text, form_data)
from tracker.rules.models import RuleRevision


STAFF = ("admin", "finance", "coordinator")
ADMINS = ("admin",)
MAX_LOAD_ERRORS = 500

# ---- plain words ------------------------------------------------------------------------------

FIELD_LABELS = {
    "code": "Code",
    "family": "Family (all versions of this rule)",
    "benefit": "Benefit",
    "title": "Title",
    "measure": "What it adds up",
    "kind": "Kind of rule",
    "limit": "Limit",
    "breach": "When it is broken",
    "period": "Period",
    "week_start": "Week starts on",
    "counts": "What counts",
    "counts.kinds": "Payment kinds that count",
    "counts.training_at_value": "Training counts at its declared value",
    "counts.expenses": "Reimbursed expenses",
    "counts.other_income": "Income declared from elsewhere counts",
    "date_basis": "Count money by",
    "warn_at": "Warning level",
    "severity": "Severity",
    "taper_rate": "Taper rate",
    "applies_when": "Applies to",
    "applies_when.benefit": "Applies to people receiving",
    "applies_when.attributes": "Only when the claim says",
    "effective_from": "In force from",
    "effective_to": "In force until",
    "confidence": "How sure we are of the figure",
    "source": "Official source",
    "sources": "Other sources",
    "notes": "Notes for admins",
    "message": "Reminder added to every check",
    "reason": "Reason",
    "rule": "Rule",
    "pack": "The file",
}
CONFIDENCE_WORDS = {
    "confirmed": "Confirmed from legislation, an official text or CPAG",
    "secondary": "From a reputable secondary source",
    "derived": "Derived from a formula",
    "unconfirmed": "Figure not verified",
}
CHANGE_WORDS = {
    "loaded": "Loaded from a rule pack",
    "edited": "Edited",
    "confirmed": "Figure confirmed",
    "retired": "Retired",
}
STATUS_WORDS = {"active": "In use", "superseded": "Replaced by a later revision", "retired": "Retired"}
SEVERITY_WORDS = {"block": "Blocks a payment", "warn": "Warns"}
KIND_WORDS = {
    "cliff": "A limit: going over it breaks the rule",
    "taper": "A taper: above the limit the benefit is reduced, but not lost",
    "info": "Information only: it never blocks a payment",
}
MEASURE_WORDS = {"earnings": "Earnings (money)", "hours": "Hours worked"}
BREACH_WORDS = {
    "above": "When the total is more than the limit (exactly at the limit is not over)",
    "at_or_above": "When the total reaches the limit",
}
DATE_BASIS_WORDS = dict(DATE_BASIS_CHOICES)
EXPENSES_WORDS = dict(EXPENSES_CHOICES)
CONFIDENCE_CHOICE_WORDS = dict(CONFIDENCE_CHOICES)


def benefit_name(code: str | None) -> str:
    if code == "TAX":
        return "Income tax: the trading allowance"
    return BENEFIT_NAMES.get(code or "", code or "")


def _number(value: Decimal) -> str:
    return decimal_text(value)


def figure_text(rule: Rule) -> str:
    """£196.00, 16 hours, or a plain sentence for a rule with no figure."""
    if rule.limit is None:
        return "No figure (information only)"
    if rule.measure == "hours":
        n = _number(rule.limit)
        return f"{n} hour" if rule.limit == 1 else f"{n} hours"
    return format_money(rule.limit)


def taper_text(rule: Rule) -> str:
    if rule.taper_rate is None:
        return ""
    if rule.taper_rate == 1:
        return "Pound for pound: £1 less benefit for each £1 over the limit"
    pence = _number(rule.taper_rate * 100)
    return f"{pence}p less benefit for each £1 over the limit"


def period_text(rule: Rule) -> str:
    try:
        name, n = periods.parse_period(rule.period)
    except periods.PeriodError:
        return rule.period
    day = (rule.week_start or "monday").capitalize()
    return {
        "week": f"Each week, starting on {day}",
        "uc_assessment_period": "Each Universal Credit assessment period (monthly, from the person's own start day)",
        "calendar_month": "Each calendar month",
        "tax_year": "Each tax year (6 April to 5 April)",
        "rolling_weeks": f"Blocks of {n} weeks from the start of the claim",
        "rolling_days": f"Blocks of {n} days from the start of the claim",
        "per_payment": "Each payment on its own",
        "none": "Each day on its own",
    }.get(name, rule.period)


def warn_text(rule: Rule) -> str:
    percent = _number(rule.warn_at * 100)
    if rule.limit is None:
        return f"{percent}% of the limit"
    level = rule.limit * rule.warn_at
    if rule.measure == "hours":
        return f"{percent}% of the limit ({_number(level.quantize(Decimal('0.01')))} hours)"
    return f"{percent}% of the limit ({format_money(level)})"


def kinds_text(kinds) -> str:
    order = {k: i for i, k in enumerate(PAYMENT_KINDS)}
    names = [PREFERENCE_LABELS.get(k, k) for k in sorted(kinds, key=lambda k: (order.get(k, len(order)), str(k)))]
    return ", ".join(names) if names else "None"


def attributes_text(attributes: dict) -> str:
    if not attributes:
        return ""
    parts = []
    for k, v in sorted(attributes.items()):
        if isinstance(v, bool):
            v = "yes" if v else "no"
        parts.append(f"{k.replace('_', ' ')}: {str(v).replace('_', ' ')}")
    return "; ".join(parts)


def severity_text(rule: Rule) -> str:
    return SEVERITY_WORDS[rule.effective_severity]


def summary(row: RuleRevision, rule: Rule) -> dict:
    """What the list shows for one rule."""
    return {
        "code": rule.code,
        "title": rule.title,
        "benefit": rule.benefit,
        "figure": figure_text(rule),
        "taper": taper_text(rule),
        "period": period_text(rule),
        "effective_from": rule.effective_from,
        "effective_to": rule.effective_to,
        "confidence": rule.confidence,
        "confidence_words": CONFIDENCE_WORDS[rule.confidence],
        "severity": severity_text(rule),
        "status": STATUS_WORDS.get(row.status, row.status),
        "revision": row.revision,
    }


def grouped(pairs) -> list[tuple[str, str, list[dict]]]:
    """[(benefit code, benefit name, [summary])] in the order of engine.BENEFITS."""
    by_benefit: dict[str, list[dict]] = {}
    for row, rule in pairs:
        by_benefit.setdefault(rule.benefit, []).append(summary(row, rule))
    out = []
    for code in BENEFITS + tuple(sorted(set(by_benefit) - set(BENEFITS))):
        items = by_benefit.get(code)
        if items:
            items.sort(key=lambda s: (s["title"], s["effective_from"], s["code"]))
            out.append((code, benefit_name(code), items))
    return out


def value_text(key: str, value) -> str:
    """One stored field value in plain words (for the revision diff)."""
    if value is None or value == "" or value == [] or value == {}:
        return "(none)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if key == "counts.kinds":
        return kinds_text(value)
    if key == "sources":
        return "; ".join(f"{s.get('title')} ({s.get('url')})" if isinstance(s, dict) else str(s) for s in value)
    if key == "applies_when.attributes" and isinstance(value, dict):
        return attributes_text(value)
    if key in ("effective_from", "effective_to"):
        try:
            d = date.fromisoformat(value)
            return f"{d.day} {d:%B %Y}"
        except (TypeError, ValueError):
            return str(value)
    if key == "warn_at":
        try:
            return f"{_number(Decimal(str(value)) * 100)}%"
        except ArithmeticError:
            return str(value)
    if key == "limit":
        return str(value)
    if key == "severity":
        return {"block": "Block", "warn": "Warn"}.get(value, str(value))
    if key == "confidence":
        return CONFIDENCE_CHOICE_WORDS.get(value, str(value))
    if key == "date_basis":
        return DATE_BASIS_WORDS.get(value, str(value))
    if key == "counts.expenses":
        return EXPENSES_WORDS.get(value, str(value))
    if key in ("benefit", "applies_when.benefit"):
        return benefit_name(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _flat(definition: dict | None) -> dict:
    out = {}
    for k, v in (definition or {}).items():
        if k in ("counts", "applies_when") and isinstance(v, dict):
            for kk, vv in v.items():
                out[f"{k}.{kk}"] = vv
        else:
            out[k] = v
    return out


def diff(before: dict | None, after: dict | None) -> list[dict]:
    """Field-by-field changes between two stored definitions: [{field, label, before, after}]."""
    a, b = _flat(before), _flat(after)
    order = list(pack.FIELDS)
    keys = sorted(set(a) | set(b), key=lambda k: (order.index(k.split(".")[0]) if k.split(".")[0] in order
                                                   else len(order), k))
    out = []
    for k in keys:
        if a.get(k) != b.get(k):
            out.append({"field": k, "label": FIELD_LABELS.get(k, k), "before": value_text(k, a.get(k)),
                        "after": value_text(k, b.get(k))})
    return out


def when_text(value) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y} at {value:%H:%M} UTC"


def _helpers() -> dict:
    return {
        "benefit_name": benefit_name, "figure_text": figure_text, "taper_text": taper_text,
        "period_text": period_text, "warn_text": warn_text, "kinds_text": kinds_text,
        "attributes_text": attributes_text, "severity_text": severity_text, "when_text": when_text,
        "FIELD_LABELS": FIELD_LABELS, "CONFIDENCE_WORDS": CONFIDENCE_WORDS, "CHANGE_WORDS": CHANGE_WORDS,
        "STATUS_WORDS": STATUS_WORDS, "KIND_WORDS": KIND_WORDS, "MEASURE_WORDS": MEASURE_WORDS,
        "BREACH_WORDS": BREACH_WORDS, "DATE_BASIS_WORDS": DATE_BASIS_WORDS, "EXPENSES_WORDS": EXPENSES_WORDS,
        "is_admin": current_user.role in ADMINS,
    }


def _render(template: str, **ctx):
    return render_template(template, **_helpers(), **ctx)


# ---- form helpers -------------------------------------------------------------------------------

# Rule-check messages written for rule-pack authors, reworded for the form's labels.
FORM_MESSAGES = {
    ("effective_to", "effective_to is before effective_from."):
        "The date in “In force until” must be on or after the date in “In force from”.",
    ("title", "This field is required."): "Enter a title.",
    ("source", "This field is required."): "Enter the address of the official source.",
    ("effective_from", "This field is required."): "Enter the date the rule starts, like 2025-04-07.",
}

FORM_NAMES = {
    "counts.kinds": "counts_kinds",
    "counts.training_at_value": "counts_training_at_value",
    "counts.expenses": "counts_expenses",
    "counts.other_income": "counts_other_income",
}


def _status(form) -> int:
    return 422 if form.errors else 200


def _put_errors(form, fields: dict) -> None:
    """Put a ValidationFailed's (or a RuleError's) per-field messages onto the form's fields.

    "counts.kinds" goes to counts_kinds; "warn_at" messages are about the fraction, so they are
    reworded for the percentage box; a message for no field on this form goes to the form itself
    (shown in the error summary).
    """
    for key, messages in fields.items():
        name = FORM_NAMES.get(key, key)
        messages = [FORM_MESSAGES.get((name, m), m) for m in messages]
        if name == "warn_at":
            messages = ["The percentage must be more than 0 and at most 100."]
        if name in form and name not in ("csrf_token", "revision"):
            for m in messages:
                if m not in form[name].errors:
                    form[name].errors = list(form[name].errors) + [m]
        else:
            label = FIELD_LABELS.get(key)
            for m in messages:
                text = f"{label}: {m}" if label and key not in ("rule", "pack") else m
                if text not in form.form_errors:
                    form.form_errors.append(text)


def _row_or_404(code: str) -> RuleRevision:
    if not pack.CODE_RE.match(code):
        abort(404)  # not a rule code at all (and never sent to the database)
    try:
        return service.current(code)
    except NotFound:
        abort(404)


def _rule(row: RuleRevision) -> Rule:
    return pack.parse_rule(row.definition)


def _family_clash(row: RuleRevision, changes: dict) -> dict[str, list[str]]:
    """Messages when the edited dates would put two versions of the rule's family in force on one day
    (the pack loader refuses that too). Empty when there is no clash or the rule itself is invalid
    (the service reports that)."""
    try:
        edited = pack.parse_rule({**row.definition, **changes, "code": row.code})
    except pack.RuleError:
        return {}
    others = []
    for other in db.session.scalars(sa.select(RuleRevision).where(
            RuleRevision.family == edited.family, RuleRevision.status == "active",
            RuleRevision.code != row.code)):
        try:
            others.append(pack.parse_rule(other.definition))
        except pack.RuleError:
            continue
    try:
        pack.check_pack([edited] + others)
    except pack.RuleError as e:
        out: dict[str, list[str]] = {}
        for messages in e.fields.values():
            for m in messages:
                if "in force on" not in m:
                    continue
                name = "effective_to" if m.startswith(f"{row.code} and ") else "effective_from"
                out.setdefault(name, []).append(
                    m.replace("are both in force on", "would both be in force on")
                    + " Change the dates so that the versions do not overlap.")
        return out
    return {}


def _rule_errors_too(form, row: RuleRevision) -> None:
    """When the form itself has errors (a limit that is not a number, say), also show what the rule
    checks say about the other fields, so that every problem is listed at once."""
    skip = {name for name, errs in form.errors.items() if errs and name is not None}
    try:
        pack.parse_rule({**row.definition, **changes_from(form, skip), "code": row.code})
    except pack.RuleError as e:
        _put_errors(form, {k: v for k, v in e.fields.items() if FORM_NAMES.get(k, k) not in skip})


# ---- the list -----------------------------------------------------------------------------------

@bp.get("/")
@roles_required(*STAFF)
def index():
    form = InForceForm(request.args)
    on = None
    if (request.args.get("on") or "").strip():
        if form.validate():
            on = form.on.data
    pairs = service.rules_in_force(on)
    retired = []
    if on is None and not form.errors:
        rows = db.session.scalars(sa.select(RuleRevision).where(RuleRevision.status == "retired")
                                  .order_by(RuleRevision.benefit, RuleRevision.code))
        for row in rows:
            try:
                retired.append(summary(row, _rule(row)))
            except pack.RuleError:
                continue
    return _render("rules/index.html", form=form, on=on, groups=grouped(pairs), retired=retired,
                   count=len(pairs)), _status(form)


# ---- loading a rule pack --------------------------------------------------------------------------
# Registered before /<code> so that "load" is never read as a rule code.

_LOAD_KEY = re.compile(r"^rules\[(\d+)\](?: \((.*)\))?\.(.+)$")


def _load_errors(fields: dict) -> list[dict]:
    """ValidationFailed fields from a pack as rows: [{where, field, message}]."""
    out = []
    for key, messages in fields.items():
        m = _LOAD_KEY.match(key)
        if m:
            n, label, field = m.groups()
            where = f"Rule {int(n) + 1}" + (f" ({label})" if label else "")
            field_label = FIELD_LABELS.get(field, field)
            if field_label != field:
                field_label = f"{field_label} ({field})"
        elif key.startswith("family "):
            where, field_label = f"Versions of {key.split(' ', 1)[1]}", "effective_from, effective_to"
        else:
            where, field_label = "The whole file", FIELD_LABELS.get(key, key)
        for message in messages:
            out.append({"where": where, "field": field_label, "message": message})
    return out


@bp.route("/load", methods=["GET", "POST"])
@roles_required(*ADMINS)
def load():
    form = LoadForm()
    errors: list[dict] = []
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read()
        filename = upload.filename or "the file"
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            form.file.errors.append("The file must be a text file (UTF-8), like the rule pack in the docs.")
        else:
            try:
                counts = service.load_text(raw.decode("utf-8"), actor=current_user, source=filename[:100])
            except ValidationFailed as e:
                db.session.rollback()
                errors = _load_errors(e.fields)
                form.file.errors.append(f"{filename} has {len(errors)} "
                                        f"{'error' if len(errors) == 1 else 'errors'}, listed below. "
                                        "Nothing was loaded.")
            except (ValueError, TypeError, ArithmeticError, RecursionError) as e:
                # The YAML reader and the rule checks can fail on some malformed files
                # (a date such as 2025-02-30, a number too large to hold): say so, load nothing.
                db.session.rollback()
                form.file.errors.append(f"{filename} could not be read as a rule pack ({e or type(e).__name__}). "
                                        "Nothing was loaded.")
            else:
                db.session.commit()
                flash(f"{filename} has been loaded: {counts['added']} added, {counts['updated']} updated, "
                      f"{counts['unchanged']} unchanged.", "success")
                return redirect(url_for("rules.index"))
    shown = errors[:MAX_LOAD_ERRORS]
    return _render("rules/load.html", form=form, errors=shown, hidden=len(errors) - len(shown)), _status(form)


# ---- one rule -------------------------------------------------------------------------------------

def _detail(row: RuleRevision, *, confirm_form=None, retire_form=None):
    rule = _rule(row)
    revisions = service.history(row.code)
    changes = []
    for i, rev in enumerate(revisions):
        previous = revisions[i + 1] if i + 1 < len(revisions) else None
        changes.append((rev, diff(previous.definition, rev.definition) if previous else None))
    versions = list(db.session.scalars(sa.select(RuleRevision).where(
        RuleRevision.family == row.family, RuleRevision.code != row.code,
        RuleRevision.status.in_(("active", "retired"))).order_by(RuleRevision.code)))
    version_rules = []
    for v in versions:
        try:
            version_rules.append((v, _rule(v)))
        except pack.RuleError:
            continue
    version_rules.sort(key=lambda vr: vr[1].effective_from)
    admin = current_user.role in ADMINS
    active = row.status == "active"
    if confirm_form is None and admin and active and rule.confidence == "unconfirmed":
        confirm_form = ConfirmForm(prefix="confirm", formdata=None)
    if retire_form is None and admin and active:
        retire_form = RetireForm(prefix="retire", formdata=None)
    return _render("rules/detail.html", row=row, rule=rule, changes=changes, versions=version_rules,
                   confirm_form=confirm_form, retire_form=retire_form,
                   can_edit=admin and active)


@bp.get("/<code>")
@roles_required(*STAFF)
def detail(code: str):
    return _detail(_row_or_404(code))


@bp.route("/<code>/edit", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit(code: str):
    row = _row_or_404(code)
    if row.status == "retired":
        flash("A retired rule cannot be changed. Load it again in a rule pack to bring it back.", "error")
        return redirect(url_for("rules.detail", code=row.code))
    rule = _rule(row)
    form = RuleForm(data=form_data(row.definition, row.revision)) if request.method == "GET" else RuleForm()
    status = None
    if form.validate_on_submit():
        changes = form.changes()
        clash = _family_clash(row, changes)
        if form.revision.data and form.revision.data != str(row.revision):
            form.form_errors.append(
                f"Someone else changed this rule while you were editing it (it is now revision {row.revision}). "
                "Check the rule's page for what they changed; save again to replace it with what is below.")
            form.revision.data = str(row.revision)
            status = 409
        elif clash:
            _put_errors(form, clash)
        else:
            try:
                new = service.edit(row.code, changes, actor=current_user, reason=form.reason.data)
            except ValidationFailed as e:
                db.session.rollback()
                _put_errors(form, e.fields)
            except Conflict as e:
                db.session.rollback()
                flash(e.message, "error")
                return redirect(url_for("rules.detail", code=code))
            else:
                revision = new.revision
                db.session.commit()
                flash(f"{code} has been changed (revision {revision}).", "success")
                return redirect(url_for("rules.detail", code=code))
    elif request.method == "POST":
        _rule_errors_too(form, row)
    if rule.kind != "info":
        form.limit.flags.required = True  # shown without "(optional)"; the rule checks say when it is missing
    return _render("rules/edit.html", row=row, rule=rule, form=form), status or _status(form)


def _rule_action(code: str, refusals: list, form_cls, prefix: str, act, done: str):
    """Confirm or retire a rule: refuse plainly where the rule's state does not allow it, else
    validate the reason, call the service, commit once and go back to the rule's page."""
    row = _row_or_404(code)
    for refused, message, category in refusals:
        if refused(row):
            flash(message, category)
            return redirect(url_for("rules.detail", code=code))
    form = form_cls(prefix=prefix)
    if form.validate_on_submit():
        try:
            act(code, actor=current_user, reason=form.reason.data)
        except ValidationFailed as e:
            db.session.rollback()
            _put_errors(form, e.fields)
        except Conflict as e:
            db.session.rollback()
            flash(e.message, "info")
            return redirect(url_for("rules.detail", code=code))
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("rules.detail", code=code))
    return _detail(row, **{f"{prefix}_form": form}), 422


@bp.post("/<code>/confirm")
@roles_required(*ADMINS)
def confirm(code: str):
    return _rule_action(code, [
        (lambda r: r.status == "retired", "A retired rule cannot be confirmed.", "error"),
        (lambda r: r.definition.get("confidence") != "unconfirmed", "This rule's figure is already confirmed.", "info"),
    ], ConfirmForm, "confirm", service.confirm, f"The figure of {code} is now marked as confirmed.")


@bp.post("/<code>/retire")
@roles_required(*ADMINS)
def retire(code: str):
    return _rule_action(code, [
        (lambda r: r.status == "retired", "This rule is already retired.", "info"),
    ], RetireForm, "retire", service.retire, f"{code} has been retired. Payments are no longer checked against it.")
