from urllib.parse import unquote, urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user

from tracker.auth import accounts as accounts  # noqa: F401  (the account pages add their routes to bp)
from tracker.auth import bp, service, throttle
from tracker.auth import two_factor_pages as two_factor_pages  # the code step and set-up pages
from tracker.auth.forms import EmptyForm, SignInForm
from tracker.extensions import db, limiter


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only, else the home page."""
    return target if target and _is_local_path(target) else url_for("home.index")


def _is_local_path(target: str) -> bool:
    """A relative path: one leading slash, no scheme, no backslash or control character, and the same
    once percent-decoded (``/%09/evil.example`` and ``/%2F/evil`` are refused)."""
    decoded = unquote(target)
    for text in (target, decoded):
        if not text.startswith("/") or text.startswith(("//", "/\\")) or "\\" in text:
            return False
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            return False
    stripped = "".join(ch for ch in decoded if not ch.isspace())
    return not stripped.startswith(("//", "/\\")) and not urlsplit(target).scheme and not urlsplit(target).netloc


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_LIMIT"]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        account = (form.email.data or "").strip().lower()
        wait = throttle.wait_seconds("SIGN_IN_ACCOUNT_LIMIT", "sign-in-account", account)
        if wait:
            return throttle.too_many(wait, "failed sign-ins")
        user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.count_failure("SIGN_IN_ACCOUNT_LIMIT", "sign-in-account", account)
            form.password.errors.append("The email address or password is not right.")
        elif user.has_two_factor:
            return two_factor_pages.ask_for_code(user, _safe_next(request.args.get("next")))
        else:
            return two_factor_pages.finish_sign_in(user, _safe_next(request.args.get("next")))
    status = 422 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out():
    form = EmptyForm()
    if form.validate_on_submit():
        service.end_sessions(current_user)
        db.session.commit()
        logout_user()
        flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))
