"""Second-factor pages: the code step of signing in, setting up an authenticator app, and recovery codes.

Signing in with a second factor takes two steps. A correct password does not sign anyone in: it leaves
a short-lived marker in the (signed) session naming the user and their session token. Only a correct
one-time code, or an unused recovery code, entered within ``PENDING_SECONDS`` signs them in. Wrong
codes are throttled per account like wrong passwords (``SIGN_IN_ACCOUNT_LIMIT``), and per address
(``SIGN_IN_LIMIT``).

With ``REQUIRE_2FA`` on, an admin or finance user without a second factor is sent to set one up, and
can open no other page (``enrol_first``) until they have.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from tracker import pages
from tracker.auth import bp, throttle, timeouts, totp, two_factor
from tracker.auth.forms import CodeForm, RecoveryCodeForm
from tracker.auth.models import User
from tracker.errors import ValidationFailed
from tracker.extensions import db, limiter
from tracker.timeutil import utcnow

#: How long after a correct password the code may be entered.
PENDING_SECONDS = 5 * 60
PENDING, SETUP, NEW_CODES = "2fa_pending", "2fa_setup", "2fa_new_codes"
#: Wrong codes count against the account under SIGN_IN_ACCOUNT_LIMIT, apart from wrong passwords.
CODE_SCOPE = "sign-in-code"
#: Pages a user who must set up a second factor may still open.
OPEN_WHILE_ENROLLING = {None, "static", "auth.two_factor", "auth.sign_out", "ops.healthz", "ops.readyz"}


def _me() -> User:
    """The signed-in user itself (services record it on audit events), not Flask-Login's proxy."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_LIMIT"]


# ---- signing in -------------------------------------------------------------------------------------


def finish_sign_in(user: User, target: str) -> Response:
    """Sign the user in (their password, and their code if they have a second factor, are right)."""
    user.last_sign_in_at = utcnow()
    db.session.commit()
    for key in (PENDING, SETUP, NEW_CODES):  # nothing of whoever used this browser before
        session.pop(key, None)
    login_user(user)
    timeouts.started()
    return redirect(url_for("auth.two_factor") if two_factor.must_enrol(user) else target)


def ask_for_code(user: User, target: str) -> Response:
    """After a correct password: remember who is half signed in, and ask for their code."""
    session[PENDING] = {"uid": user.id, "token": user.session_token, "at": int(time.time()), "next": target}
    return redirect(url_for("auth.sign_in_code"))


def _pending_user() -> User | None:
    data = session.get(PENDING)
    if not isinstance(data, dict):
        return None
    uid, at = data.get("uid"), data.get("at")
    if not isinstance(uid, int) or not isinstance(at, int) or not 0 <= time.time() - at <= PENDING_SECONDS:
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_token != data.get("token") or not user.has_two_factor:
        return None
    return user


def _too_many(wait: int) -> tuple[str, int]:
    return throttle.too_many(wait, "wrong codes")


def _code_wait(user: User) -> int:
    return throttle.wait_seconds("SIGN_IN_ACCOUNT_LIMIT", CODE_SCOPE, str(user.id))


def _count_wrong_code(user: User) -> None:
    throttle.count_failure("SIGN_IN_ACCOUNT_LIMIT", CODE_SCOPE, str(user.id))


def _second_step(form: FlaskForm, check: Callable[[User, str | None], bool], template: str, wrong: str):
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash("Please sign in again.", "info")
        return redirect(url_for("auth.sign_in"))
    if form.validate_on_submit():
        wait = _code_wait(user)
        if wait:
            return _too_many(wait)
        if check(user, form.code.data):  # type: ignore[attr-defined]
            return finish_sign_in(user, str(session[PENDING].get("next") or url_for("home.index")))
        db.session.rollback()
        _count_wrong_code(user)
        form.code.errors.append(wrong)  # type: ignore[attr-defined]
    return render_template(template, form=form), pages.status(form)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in_code():
    return _second_step(CodeForm(), two_factor.check_code, "auth/two_factor/code.html", two_factor.WRONG_CODE)


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in_recovery():
    return _second_step(
        RecoveryCodeForm(),
        two_factor.use_recovery_code,
        "auth/two_factor/recovery.html",
        two_factor.WRONG_RECOVERY_CODE,
    )


# ---- setting up, and recovery codes -------------------------------------------------------------------


@bp.before_app_request
def enrol_first() -> Response | None:
    """With REQUIRE_2FA on, admin and finance users set up a second factor before anything else."""
    if request.blueprint == "api" or request.endpoint in OPEN_WHILE_ENROLLING or not current_user.is_authenticated:
        return None
    if not two_factor.must_enrol(current_user):
        return None
    return redirect(url_for("auth.two_factor"))


def _setup_secret() -> str:
    """The secret being set up, kept sealed in the session until a code confirms it."""
    secret = two_factor.unseal(session.get(SETUP))
    if secret is None:
        secret = totp.new_secret()
        session[SETUP] = two_factor.seal(secret)
    return secret


def _show_once(codes: list[str]) -> None:
    session[NEW_CODES] = two_factor.seal(json.dumps(codes))


def _codes_to_show() -> list[str]:
    sealed = session.pop(NEW_CODES, None)
    shown = two_factor.unseal(sealed)
    return list(json.loads(shown)) if shown else []


def _on_wrong_code(form: FlaskForm) -> Callable[[ValidationFailed], None]:
    def on_error(error: ValidationFailed) -> None:
        if "code" in error.fields:
            _count_wrong_code(current_user)
        pages.put_errors(form, error.fields or {"": [error.message]})

    return on_error


def _setup_page(form: CodeForm) -> tuple[str, int]:
    secret = _setup_secret()
    issuer = str(current_app.config["ORGANISATION_NAME"])
    uri = totp.provisioning_uri(secret, current_user.email, issuer)
    return render_template(
        "auth/two_factor/setup.html",
        form=form,
        qr=totp.qr_svg(uri, "QR code to scan with your authenticator app"),
        secret=totp.grouped(secret),
        required=two_factor.required(current_user),
    ), pages.status(form)


def _status_page(form: CodeForm | None = None) -> tuple[str, int]:
    form = form or CodeForm(formdata=None)
    return render_template(
        "auth/two_factor/status.html",
        form=form,
        new_codes=_codes_to_show(),
        left=two_factor.codes_left(current_user),
        total=totp.RECOVERY_CODE_COUNT,
    ), pages.status(form)


def _with_code(form: CodeForm, make_codes: Callable[[], list[str]], message: str) -> Response | tuple | None:
    """A write that needs a right code from the signed-in user (throttled like sign-in); the recovery
    codes it makes are kept to be shown once. None: the form is shown again with its errors."""
    wait = _code_wait(current_user)
    if wait:
        return _too_many(wait)

    def action() -> pages.Done:
        _show_once(make_codes())
        session.pop(SETUP, None)
        return pages.Done(url_for("auth.two_factor"), message)

    return pages.submit(form, action, on_error=_on_wrong_code(form))


@bp.route("/account/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@login_required
def two_factor_page():
    if current_user.has_two_factor:
        return _status_page()
    form = CodeForm()
    if form.validate_on_submit():
        secret = _setup_secret()
        done = _with_code(
            form, lambda: two_factor.enrol(_me(), secret, form.code.data, actor=_me()), "Your second factor is set up."
        )
        if done:
            return done
    return _setup_page(form)


@bp.post("/account/two-factor/recovery-codes")
@login_required
def new_recovery_codes():
    if not current_user.has_two_factor:
        return redirect(url_for("auth.two_factor"))
    form = CodeForm()
    if form.validate_on_submit():
        done = _with_code(
            form,
            lambda: two_factor.new_recovery_codes(_me(), form.code.data, actor=_me()),
            "You have new recovery codes. The old ones no longer work.",
        )
        if done:
            return done
    return _status_page(form)
