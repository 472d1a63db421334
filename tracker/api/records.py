"""Activities, contributions, expenses and other income."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from tracker.api import bp
from tracker.api.base import created, current_api_user, list_json, parse_person_body, require_role, writes
from tracker.api.schemas import ActivityIn, ContributionIn, ExpenseIn, OtherIncomeIn
from tracker.contributions import service as contributions
from tracker.contributions.models import Activity, Contribution
from tracker.extensions import db
from tracker.money import money_str
from tracker.payments import expenses, queries
from tracker.payments.models import Expense
from tracker.picks import pick
from tracker.vocab import BENEFIT_INFO_ROLES, STAFF_ROLES


def activity_json(a: Activity) -> dict:
    return {
        **pick(a, ("id", "name", "description")),
        "default_rate": money_str(a.default_rate),
        **pick(a, ("rate_unit", "includes_preparation", "service_user_context", "consulting_body", "active")),
    }


def contribution_json(c: Contribution) -> dict:
    return {
        **pick(c, ("id", "person_id", "activity_id")),
        "worked_on": c.worked_on.isoformat(),
        "hours": str(c.hours),
        "preparation_hours": str(c.preparation_hours),
        "role": c.role,
        "description": c.description,
        "value_owed": money_str(c.value_owed),
    }


def expense_json(e: Expense) -> dict:
    return {
        **pick(e, ("id", "person_id")),
        "amount": money_str(e.amount),
        "currency": e.currency,
        "incurred_on": e.incurred_on.isoformat(),
        "paid_on": e.paid_on.isoformat(),
        **pick(e, ("description", "receipt_ref", "service_user_context")),
    }


@bp.post("/activities")
@writes
def create_activity():
    return created(ActivityIn, BENEFIT_INFO_ROLES, contributions.create_activity, activity_json)


@bp.get("/activities")
def list_activities():
    require_role(*STAFF_ROLES)
    rows = db.session.scalars(sa.select(Activity).order_by(Activity.name)).all()
    return jsonify({"items": [activity_json(a) for a in rows]})


@bp.post("/contributions")
@writes
def create_contribution():
    body, person = parse_person_body(ContributionIn, roles=BENEFIT_INFO_ROLES)
    c = contributions.record_contribution(person, body.model_dump(), actor=current_api_user())
    return jsonify(contribution_json(c)), 201


@bp.post("/expenses")
@writes
def create_expense():
    body, person = parse_person_body(ExpenseIn, roles=STAFF_ROLES)
    data = body.model_dump()
    if data.get("service_user_context") is None:
        data["service_user_context"] = "unknown"
    e = expenses.record_expense(person, data, actor=current_api_user())
    return jsonify(expense_json(e)), 201


@bp.post("/other-income")
@writes
def create_other_income():
    body, person = parse_person_body(OtherIncomeIn, roles=STAFF_ROLES)
    row = expenses.record_other_income(person, body.model_dump(), actor=current_api_user())
    return jsonify(
        {
            "id": row.id,
            "person_id": row.person_id,
            "amount": money_str(row.amount),
            "received_on": row.received_on.isoformat(),
            "source": row.source,
        }
    ), 201


def _page(query, f, order, to_json, *, many=None):
    """One page of a list as JSON (``many`` turns the page's rows into JSON at once instead)."""
    return jsonify(list_json(query, order, f, many or (lambda rows: [to_json(x) for x in rows])))


def _scope():
    user = current_api_user()
    return user.person_id if user.role == "contributor" else None


@bp.get("/contributions")
def list_contributions():
    f = queries.parse_filters(request.args)
    return _page(
        queries.contributions_query(f, person_scope=_scope()), f, queries.CONTRIBUTION_ORDER, contribution_json
    )


@bp.get("/expenses")
def list_expenses():
    f = queries.parse_filters(request.args)
    return _page(queries.expenses_query(f, person_scope=_scope()), f, queries.EXPENSE_ORDER, expense_json)


@bp.get("/payments")
def list_payments():
    from tracker.api.payments import payment_json

    def many(rows):
        links = queries.contribution_ids_for([p.id for p in rows])
        return [payment_json(p, links.get(p.id, [])) for p in rows]

    f = queries.parse_filters(request.args)
    query = queries.payments_query(f, person_scope=_scope(), eager=False)
    return _page(query, f, queries.payment_order(f.sort), None, many=many)
