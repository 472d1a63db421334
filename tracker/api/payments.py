"""Payments: what-if checks and recording (which runs the check)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import g, jsonify, request
from pydantic import BaseModel

from tracker.api import bp, openapi
from tracker.api.base import (
    current_api_user,
    found_or_404,
    own_row_or_404,
    parse_body,
    parse_person_body,
    require_role,
    visible_person_or_404,
    writes,
)
from tracker.api.schemas import ApproveManyIn, EmptyIn, PayIn, PaymentIn, ReasonIn
from tracker.earnings.sources import add_sources
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.money import money_str
from tracker.payments import approvals, methods, service
from tracker.payments.models import Payment
from tracker.people.models import Person
from tracker.rules import checks, redaction
from tracker.timeutil import parse_day, today, utcnow
from tracker.vocab import FINANCE_ROLES, STAFF_ROLES


def payment_json(p: Payment, contribution_ids: list[int] | None = None) -> dict:
    if contribution_ids is None:
        contribution_ids = [c.id for c in p.contributions]
    return {
        "id": p.id,
        "person_id": p.person_id,
        "kind": p.kind,
        "amount": money_str(p.amount),
        "benefit_value": money_str(p.benefit_value),
        "currency": p.currency,
        "status": p.status,
        "paid_on": p.paid_on.isoformat(),
        "due_on": (p.due_on or p.paid_on).isoformat(),
        "covers_from": p.covers_from.isoformat() if p.covers_from else None,
        "covers_to": p.covers_to.isoformat() if p.covers_to else None,
        "contribution_ids": contribution_ids,
        "note": p.note,
        "charity_name": p.charity_name,
        "reversal_of_id": p.reversal_of_id,
        "import_batch_id": p.import_batch_id,
    }


def _input() -> tuple[Person, service.PaymentInput]:
    body, person = parse_person_body(PaymentIn)
    return person, service.parse_payment(body.model_dump())


def _shown(check: dict | None, person_id: int, where: str, entity) -> dict | None:
    """The check as the caller may see it: neutral for finance; a staff view of the benefit names
    is audited (``benefits.viewed``, in the caller's transaction)."""
    user = current_api_user()
    if check is None or redaction.hides_for(user):
        return redaction.check_for(user, check)
    if user.role != "contributor" and check.get("verdicts"):
        from tracker.audit import service as audit

        audit.record(user, "benefits.viewed", entity, person_id=person_id, after={"where": where})
        g.view_audited = True
    return check


def _keep_view_audit() -> None:
    """A read commits only the ``benefits.viewed`` event a staff view wrote (a new row, or a repeated
    view counted on an open one); otherwise nothing."""
    if g.pop("view_audited", False):
        db.session.commit()


@contextmanager
def _redacted_refusal() -> Iterator[None]:
    """A 409 ``benefit_rule_block`` carries the check: neutral for finance, like the answer."""
    try:
        yield
    except Conflict as e:
        if "check" in e.extra:
            e.extra["check"] = redaction.check_for(current_api_user(), e.extra["check"])
        raise


@bp.post("/payments/check")
def check_payment():
    require_role(*STAFF_ROLES)
    person, p = _input()
    _, _, body = service.check_payment(person, p, today=today())
    add_sources(person.id, body["verdicts"])  # whose money makes up each total
    shown = _shown(body, person.id, "check api", person)
    _keep_view_audit()
    return jsonify(shown)


@bp.post("/payments")
@writes
def create_payment():
    require_role(*FINANCE_ROLES)
    person, p = _input()
    service.check_choice(person, p)
    with _redacted_refusal():
        payment, check = service.record_payment(person, p, actor=current_api_user(), today=today())
    return jsonify({**payment_json(payment), "check": _shown(check, person.id, "payment api", payment)}), 201


@bp.get("/people/<int:person_id>/position")
def person_position(person_id: int):
    person = visible_person_or_404(person_id)
    raw = request.args.get("on")
    try:
        on = parse_day(raw) if raw else today()
    except ValueError as e:
        raise ValidationFailed({"on": [str(e)]}) from None
    verdicts = add_sources(person.id, [v.to_dict(position=True) for v in checks.position(person.id, on)])
    # Finance sees totals and headroom, not which benefits the person receives.
    shown = _shown({"verdicts": verdicts}, person.id, "position api", person)
    _keep_view_audit()
    return jsonify({"on": on.isoformat(), "verdicts": (shown or {})["verdicts"], "notice": checks.NOTICE})


@bp.get("/payments/<int:payment_id>")
def get_payment(payment_id: int):
    payment = own_row_or_404(Payment, payment_id)
    check = _shown(checks.with_effects(payment.check_snapshot), payment.person_id, "payment api", payment)
    _keep_view_audit()
    return jsonify({**payment_json(payment), "check": check})


def _payment_for_finance(payment_id: int) -> Payment:
    """The payment an approve, pay, cancel or reverse acts on: finance's (and admin's) to move."""
    require_role(*FINANCE_ROLES)
    return found_or_404(Payment, payment_id)


def _move_request(payment_id: int, model: type[BaseModel]) -> tuple[Payment, Any]:
    """The payment a pay, cancel or reverse acts on, then the move's body."""
    return _payment_for_finance(payment_id), parse_body(model)


def _optional_empty_body():
    if request.get_data():
        parse_body(EmptyIn)


@bp.post("/payments/<int:payment_id>/approve")
@writes
def approve_payment(payment_id: int):
    payment = _payment_for_finance(payment_id)
    _optional_empty_body()
    service.approve(payment, actor=current_api_user(), now=utcnow())
    return jsonify(payment_json(payment)), 200


@bp.post("/payments/<int:payment_id>/pay")
@writes
def pay_payment(payment_id: int):
    payment, body = _move_request(payment_id, PayIn)
    with _redacted_refusal():
        payment, check = methods.pay(
            payment,
            actor=current_api_user(),
            paid_on=body.paid_on,
            method=body.method,
            method_note=body.method_note,
            reference=body.reference,
            now=utcnow(),
            today=today(),
            override_reason=body.override_reason,
        )
    out = payment_json(payment)
    if check is not None:
        out["check"] = _shown(check, payment.person_id, "payment api", payment)
    if payment.status == "draft":
        out["message"] = service.BACK_TO_DRAFT
    return jsonify(out), 200


@bp.post("/payments/<int:payment_id>/cancel")
@writes
def cancel_payment(payment_id: int):
    payment, body = _move_request(payment_id, ReasonIn)
    service.cancel(payment, actor=current_api_user(), reason=body.reason, now=utcnow())
    return jsonify(payment_json(payment)), 200


@bp.post("/payments/<int:payment_id>/reverse")
@writes
def reverse_payment(payment_id: int):
    payment, body = _move_request(payment_id, ReasonIn)
    entry = service.reverse(payment, actor=current_api_user(), reason=body.reason, now=utcnow())
    return jsonify(payment_json(entry)), 201


@bp.post("/payments/approve")
@writes
def approve_payments():
    """Bulk approval by a second person: each id is approved or refused on its own (partial success)."""
    body = parse_body(ApproveManyIn, roles=("admin", "finance"))
    outcomes = approvals.approve_many(body.ids, actor=current_api_user(), now=utcnow(), today=today())
    return jsonify({"results": [o.as_json() for o in outcomes]}), 200


APPROVE_RESULTS = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "status"],
                "properties": {
                    "id": {"type": "integer"},
                    "status": {"enum": ["approved", "refused"]},
                    "code": {
                        "enum": [
                            approvals.NOT_FOUND,
                            approvals.NOT_DRAFT,
                            approvals.RECORDER,
                            approvals.BLOCKED,
                            "payment_changed",
                        ]
                    },
                    "message": {"type": "string"},
                },
            },
        }
    },
}
openapi.register(
    "/payments/approve",
    {
        "post": openapi.operation(
            "Approve many drafts as a second person: each is approved or refused on its own, with the reason "
            "(its recorder may not approve it; the benefit check is run again)",
            body="ApproveManyIn",
            ok_schema=APPROVE_RESULTS,
            errors=(401, 403, 422),
            idempotent=True,
        )
    },
    [ApproveManyIn],
)
