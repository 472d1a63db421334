"""The home page's route: what each role needs first."""

import sqlalchemy as sa
from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.home import bp


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    return _home()


@login_required
def _home():
    from tracker.payments.models import Payment
    from tracker.payments.models import counts as counted_in_totals
    from tracker.people.models import Person

    role = current_user.role
    ctx: dict = {}
    if role == "contributor":
        from flask import abort

        from tracker.documents.models import Document

        person = db.session.get(Person, current_user.person_id) if current_user.person_id else None
        if person is None:
            abort(404)
        ctx["person"] = person
        ctx["recent_payments"] = db.session.scalars(
            sa.select(Payment)
            .where(Payment.person_id == person.id, counted_in_totals())  # a reversal shows once approved
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
            .limit(5)
        ).all()
        ctx["payment_status_words"] = {"draft": "Planned", "approved": "Approved, not paid yet", "paid": "Paid"}
        ctx["ready_documents"] = db.session.scalars(
            sa.select(Document)
            .where(Document.person_id == person.id, Document.status == "ready")
            .order_by(Document.created_at.desc(), Document.id.desc())
            .limit(3)
        ).all()
    else:
        ctx["people_count"] = db.session.scalar(sa.select(sa.func.count(Person.id)))
        counts = dict(
            db.session.execute(sa.select(Payment.status, sa.func.count(Payment.id)).group_by(Payment.status))
            .tuples()
            .all()
        )
        ctx["payment_counts"] = counts
    return render_template(f"home/{role}.html", **ctx)
