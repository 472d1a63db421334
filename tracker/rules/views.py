"""Benefit-rule administration pages: the list, one rule with its history, edit, confirm, retire and
load a rule pack.

The blueprint lives here, not in tracker/rules/__init__.py, so the pure engine package imports
without Flask. Staff (admin, finance, coordinator) may read; only admins change rules. Every change
goes through tracker.rules.service, which writes a new revision and an audit event. Views follow
the people pages: the form parses what was typed, the service (through pack.parse_rule) decides
what is allowed, and ``tracker.pages.submit`` owns the commit: the service's ValidationFailed
messages go onto the fields (422, reworded by tracker.rules.presenters), and on success it commits
once, flashes and redirects. The wording and the table rows live in tracker.rules.presenters.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import pages
from tracker.auth.access import roles_required
from tracker.engine import pack
from tracker.engine.core import Rule
from tracker.errors import NotFound, ValidationFailed
from tracker.extensions import db
from tracker.rules import bp, service
from tracker.rules import presenters as present
from tracker.rules.forms import ConfirmForm, InForceForm, LoadForm, RetireForm, RuleForm, changes_from, form_data
from tracker.rules.models import RuleRevision
from tracker.timeutil import today
from tracker.vocab import STAFF_ROLES

#: Only admins change rules.
ADMIN = "admin"
MAX_LOAD_ERRORS = 500


def _render(template: str, **ctx):
    return render_template(template, **present.helpers(), is_admin=current_user.role == ADMIN, **ctx)


# ---- form helpers -------------------------------------------------------------------------------


def _put_rule_errors(form, fields: dict[str, list[str]]) -> None:
    pages.put_errors(form, present.form_errors((f.short_name for f in form), fields))


def _submit(form, action: Callable[[], pages.Done], code: str, conflict_category: str) -> Response | None:
    """``pages.submit`` with the rule checks' messages reworded for the form. A Conflict (the rule
    changed state meanwhile: retired, already confirmed) is said on the rule's own page instead."""
    invalid: list[ValidationFailed] = []

    def on_error(e: ValidationFailed) -> None:
        invalid.append(e)
        _put_rule_errors(form, e.fields or {"rule": [e.message]})

    done = pages.submit(form, action, on_error=on_error)
    if done is None and not invalid:
        flash(form.form_errors.pop(), conflict_category)
        return redirect(url_for("rules.detail", code=code))
    return done


def _row_or_404(code: str) -> RuleRevision:
    if not pack.CODE_RE.match(code):
        abort(404)  # not a rule code at all (and never sent to the database)
    try:
        return service.current(code)
    except NotFound:
        abort(404)


def _rule(row: RuleRevision) -> Rule:
    return pack.parse_rule(row.definition)


def _parsed(rows) -> list[tuple[RuleRevision, Rule]]:
    """(row, rule) for each stored revision that still parses; the others are left out."""
    out = []
    for row in rows:
        try:
            out.append((row, _rule(row)))
        except pack.RuleError:
            continue
    return out


def _family_clash(row: RuleRevision, changes: dict) -> dict[str, list[str]]:
    """Messages when the edited dates would put two versions of the rule's family in force on one day
    (the pack loader refuses that too). Empty when there is no clash or the rule itself is invalid
    (the service reports that)."""
    try:
        edited = pack.parse_rule({**row.definition, **changes, "code": row.code})
    except pack.RuleError:
        return {}
    others = _parsed(
        db.session.scalars(
            sa.select(RuleRevision).where(
                RuleRevision.family == edited.family, RuleRevision.status == "active", RuleRevision.code != row.code
            )
        )
    )
    try:
        pack.check_pack([edited] + [rule for _, rule in others])
    except pack.RuleError as e:
        return present.clash_messages(row.code, (m for messages in e.fields.values() for m in messages))
    return {}


def _rule_errors_too(form, row: RuleRevision) -> None:
    """When the form itself has errors (a limit that is not a number, say), also show what the rule
    checks say about the other fields, so that every problem is listed at once."""
    skip = {name for name, errs in form.errors.items() if errs and name is not None}
    try:
        pack.parse_rule({**row.definition, **changes_from(form, skip), "code": row.code})
    except pack.RuleError as e:
        _put_rule_errors(form, {k: v for k, v in e.fields.items() if present.form_name(k) not in skip})


# ---- the list -----------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    """By default the rules in force today; ``?on=`` another day; ``?show=all`` every version in use
    (past, present and future) and the retired rules, each with where it stands today."""
    form = InForceForm(request.args)
    on = None
    if (request.args.get("on") or "").strip() and form.validate():
        on = form.on.data
    show_all = on is None and not form.errors and request.args.get("show") == "all"
    day = today()
    pairs = service.rules_in_force(None if show_all else (on or day))
    retired = []
    if show_all:
        rows = db.session.scalars(
            sa.select(RuleRevision)
            .where(RuleRevision.status == "retired")
            .order_by(RuleRevision.benefit, RuleRevision.code)
        )
        retired = [present.summary(row, rule, day) for row, rule in _parsed(rows)]
    return _render(
        "rules/index.html",
        form=form,
        on=on,
        show_all=show_all,
        groups=present.grouped(pairs, day),
        retired=retired,
        count=len(pairs),
        notional=present.notional_setting(current_app.config.get("ORGANISATION_PAYER")),
    ), pages.status(form)


# ---- loading a rule pack --------------------------------------------------------------------------
# Registered before /<code> so that "load" is never read as a rule code.


def _load(text: str, filename: str) -> pages.Done:
    try:
        counts = service.load_text(text, actor=current_user, source=filename[:100])
    except (ValueError, TypeError, ArithmeticError, RecursionError) as e:
        # The YAML reader and the rule checks can fail on some malformed files
        # (a date such as 2025-02-30, a number too large to hold): say so, load nothing.
        raise ValidationFailed({}, present.load_unreadable(filename, e)) from e
    return pages.Done(url_for("rules.index"), present.loaded(filename, counts))


def _upload(form: LoadForm) -> tuple[str | None, str]:
    """The uploaded pack's text (None, with the reason on the form, when it is not UTF-8) and name."""
    upload = form.file.data
    raw = upload.read()
    filename = upload.filename or "the file"
    try:
        return raw.decode("utf-8"), filename
    except UnicodeDecodeError:
        form.file.errors.append("The file must be a text file (UTF-8), like the rule pack in the docs.")
        return None, filename


@bp.route("/load", methods=["GET", "POST"])
@roles_required(ADMIN)
def load():
    form = LoadForm()
    errors: list[dict] = []

    def on_error(e: ValidationFailed) -> None:
        if not e.fields:  # not read as a rule pack at all
            form.file.errors.append(e.message)
            return
        errors.extend(present.load_errors(e.fields))
        form.file.errors.append(present.load_failed(filename, len(errors)))

    if form.validate_on_submit():
        text, filename = _upload(form)
        if text is not None:
            done = pages.submit(form, lambda: _load(text, filename), on_error=on_error)
            if done:
                return done
    shown = errors[:MAX_LOAD_ERRORS]
    return _render("rules/load.html", form=form, errors=shown, hidden=len(errors) - len(shown)), pages.status(form)


# ---- one rule -------------------------------------------------------------------------------------


def _versions(row: RuleRevision) -> list[tuple[RuleRevision, Rule]]:
    """Every version of the rule's family (in use or retired), this one included, in date order."""
    versions = _parsed(
        db.session.scalars(
            sa.select(RuleRevision)
            .where(RuleRevision.family == row.family, RuleRevision.status.in_(("active", "retired")))
            .order_by(RuleRevision.code)
        )
    )
    versions.sort(key=lambda vr: vr[1].effective_from)
    return versions


def _detail(row: RuleRevision, *, confirm_form=None, retire_form=None):
    rule = _rule(row)
    admin = current_user.role == ADMIN
    active = row.status == "active"
    if confirm_form is None and admin and active and rule.confidence != "confirmed":
        confirm_form = ConfirmForm(prefix="confirm", formdata=None)
    if retire_form is None and admin and active:
        retire_form = RetireForm(prefix="retire", formdata=None)
    return _render(
        "rules/detail.html",
        row=row,
        rule=rule,
        changes=present.history(service.history(row.code)),
        versions=_versions(row),
        today=today(),
        confirm_form=confirm_form,
        retire_form=retire_form,
        can_edit=admin and active,
    )


@bp.get("/<code>")
@roles_required(*STAFF_ROLES)
def detail(code: str):
    return _detail(_row_or_404(code))


def _save_edit(form: RuleForm, row: RuleRevision) -> Response | int | None:
    """Save a valid edit: the redirect, or the status to show the form again with (the reason on it)."""
    changes = form.changes()
    if form.revision.data and form.revision.data != str(row.revision):
        form.form_errors.append(present.edited_meanwhile(row.revision))
        form.revision.data = str(row.revision)
        return 409
    clash = _family_clash(row, changes)
    if clash:
        _put_rule_errors(form, clash)
        return None

    def save() -> pages.Done:
        new = service.edit(row.code, changes, actor=current_user, reason=form.reason.data)
        return pages.Done(
            url_for("rules.detail", code=row.code), f"{row.code} has been changed (revision {new.revision})."
        )

    return _submit(form, save, row.code, "error")


@bp.route("/<code>/edit", methods=["GET", "POST"])
@roles_required(ADMIN)
def edit(code: str):
    row = _row_or_404(code)
    if row.status == "retired":
        flash("A retired rule cannot be changed. Load it again in a rule pack to bring it back.", "error")
        return redirect(url_for("rules.detail", code=row.code))
    rule = _rule(row)
    form = RuleForm(data=form_data(row.definition, row.revision)) if request.method == "GET" else RuleForm()
    status = None
    if form.validate_on_submit():
        outcome = _save_edit(form, row)
        if isinstance(outcome, Response):
            return outcome
        status = outcome
    elif request.method == "POST":
        _rule_errors_too(form, row)
    if rule.kind != "info":
        form.limit.flags.required = True  # shown without "(optional)"; the rule checks say when it is missing
    return _render("rules/edit.html", row=row, rule=rule, form=form), status or pages.status(form)


def _rule_action(code: str, refusals: list, form_cls, prefix: str, act, done: str):
    """Confirm or retire a rule: refuse plainly where the rule's state does not allow it, else
    validate the reason and hand the service call to the commit boundary, back to the rule's page."""
    row = _row_or_404(code)
    for refused, message, category in refusals:
        if refused(row):
            flash(message, category)
            return redirect(url_for("rules.detail", code=code))
    form = form_cls(prefix=prefix)
    if form.validate_on_submit():

        def action() -> pages.Done:
            act(code, actor=current_user, **{f.short_name: f.data for f in form if f.short_name != "csrf_token"})
            return pages.Done(url_for("rules.detail", code=code), done)

        submitted = _submit(form, action, code, "info")
        if submitted:
            return submitted
    return _detail(row, **{f"{prefix}_form": form}), 422


@bp.post("/<code>/confirm")
@roles_required(ADMIN)
def confirm(code: str):
    return _rule_action(
        code,
        [
            (lambda r: r.status == "retired", "A retired rule cannot be confirmed.", "error"),
            (
                lambda r: r.definition.get("confidence") == "confirmed",
                "This rule's figure is already confirmed.",
                "info",
            ),
        ],
        ConfirmForm,
        "confirm",
        service.confirm,
        f"The figure of {code} is now marked as confirmed.",
    )


@bp.post("/<code>/retire")
@roles_required(ADMIN)
def retire(code: str):
    return _rule_action(
        code,
        [(lambda r: r.status == "retired", "This rule is already retired.", "info")],
        RetireForm,
        "retire",
        service.retire,
        f"{code} has been retired. Payments are no longer checked against it.",
    )


@bp.app_context_processor
def uprating_banner():
    """``rules_awaiting_uprating()`` for the layout: admins see a banner from 1 March each year
    until next year's figures are loaded. Worked out only when the layout asks (admins only)."""

    def rules_awaiting_uprating() -> list:
        if not (current_user.is_authenticated and current_user.role == ADMIN):
            return []
        return service.awaiting_uprating(today())

    return {"rules_awaiting_uprating": rules_awaiting_uprating}
