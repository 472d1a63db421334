"""The contributor's own bank details, at /me/bank-details: shown masked; saving asks for the
password again. create_app imports this module beside tracker.me.views."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_login import current_user

from tracker import pages
from tracker.auth.access import roles_required
from tracker.extensions import limiter
from tracker.me import bp
from tracker.runs import accounts
from tracker.runs import presenters as present
from tracker.runs.forms import MyBankDetailsForm
from tracker.runs.views import held_details
from tracker.timeutil import utcnow


def _save(form: MyBankDetailsForm) -> pages.Done:
    details = accounts.parse_bank_details(form.data)
    accounts.save_own_bank_details(current_user, details, password=form.password.data, now=utcnow())
    return pages.Done(url_for("me.bank_details"), "Your bank details are saved. We have noted the change.")


def _password_limit() -> str:
    return current_app.config["SIGN_IN_LIMIT"]  # typing the password again is throttled as signing in is


@bp.route("/bank-details", methods=["GET", "POST"])
@limiter.limit(_password_limit, methods=["POST"])
@roles_required("contributor")
def bank_details():
    form = MyBankDetailsForm()
    if done := pages.posted(form, lambda: _save(form)):
        return done
    form.password.data = ""
    held, problem = held_details(current_user.person, "own space")
    return render_template(
        "me/bank_details.html", form=form, problem=problem, masked=present.masked_text(held) if held else None
    ), pages.status(form)
