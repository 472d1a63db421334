"""Every writer of a person's ledger raises the ledger event (tracker.rules.ledger) in its own
transaction: the person's ledger_version goes up, and a change to claims drops kept positions."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.people.models import BenefitClaim, Person
from tracker.risks.models import RiskPosition
from tracker.rules import ledger

DAY = date(2025, 4, 9)
NOW = datetime(2025, 4, 9, 12, 0)
CA = [{"benefit": "CA", "start_on": date(2024, 1, 1)}]


def version(pid: int) -> int:
    return db.session.scalar(sa.select(Person.ledger_version).where(Person.id == pid))


def kept_rows(pid: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RiskPosition).where(RiskPosition.person_id == pid))


def keep_a_position(pid: int) -> None:
    """A kept row, committed, as a dashboard view leaves it."""
    db.session.execute(RiskPosition.__table__.delete().where(RiskPosition.person_id == pid))
    db.session.execute(
        RiskPosition.__table__.insert().values(
            person_id=pid, benefit="", on_date=DAY, rules_key="k", ledger_version=version(pid), status="ok", room=None
        )
    )
    db.session.commit()


@pytest.fixture
def actors(make_user):
    return SimpleNamespace(
        recorder=SimpleNamespace(id=make_user("finance")), approver=SimpleNamespace(id=make_user("finance"))
    )


@pytest.fixture
def carer(rules, make_person):
    return make_person("Carer", claims=CA)


def raises_the_version(pid: int, write) -> None:
    """``write()`` raises the person's ledger_version in the same transaction as its rows."""
    before = version(pid)
    write()
    assert version(pid) == before + 1
    db.session.rollback()
    assert version(pid) == before  # the event is part of the writer's transaction


def test_changed_and_claims_changed(app, carer, make_person):
    other = make_person("Other", claims=CA)
    with app.app_context():
        keep_a_position(carer)
        keep_a_position(other)
        ledger.changed(db.session, iter([carer, carer, None]))
        assert (version(carer), kept_rows(carer), kept_rows(other)) == (1 + version(other), 1, 1)
        ledger.claims_changed(db.session, (p for p in [carer]))
        assert (kept_rows(carer), kept_rows(other)) == (0, 1)
        db.session.rollback()


def test_payments_raise_the_event(app, carer, actors):
    from tracker.payments import service as payments

    with app.app_context():
        person = db.session.get(Person, carer)
        data = {"kind": "cash", "amount": "20.00", "paid_on": DAY}
        raises_the_version(
            carer,
            lambda: payments.record_payment(person, payments.parse_payment(data), actor=actors.recorder, today=DAY),
        )
        payment, _ = payments.record_payment(person, payments.parse_payment(data), actor=actors.recorder, today=DAY)
        db.session.commit()
        raises_the_version(carer, lambda: payments.cancel(payment, actor=actors.approver, reason="Wrong", now=NOW))
        raises_the_version(carer, lambda: payments.approve(payment, actor=actors.approver, now=NOW))
        payments.approve(payment, actor=actors.approver, now=NOW)
        db.session.commit()
        raises_the_version(
            carer,
            lambda: payments.pay(
                payment, actor=actors.approver, paid_on=DAY, method="cash", reference=None, now=NOW, today=DAY
            ),
        )
        payments.pay(payment, actor=actors.approver, paid_on=DAY, method="cash", reference=None, now=NOW, today=DAY)
        db.session.commit()
        raises_the_version(carer, lambda: payments.reverse(payment, actor=actors.approver, reason="Twice", now=NOW))


def test_expenses_other_income_and_contributions_raise_the_event(app, carer, actors):
    from tracker.contributions import service as contributions
    from tracker.payments import expenses

    with app.app_context():
        person = db.session.get(Person, carer)
        raises_the_version(
            carer,
            lambda: expenses.record_expense(
                person,
                {"amount": "4.00", "incurred_on": DAY, "paid_on": DAY, "description": "Bus"},
                actor=actors.recorder,
            ),
        )
        raises_the_version(
            carer,
            lambda: expenses.record_other_income(
                person, {"amount": "40.00", "received_on": DAY, "source": "A shop job"}, actor=actors.recorder
            ),
        )
        raises_the_version(
            carer,
            lambda: contributions.record_contribution(
                person, {"hours": "2", "worked_on": DAY, "rate": "10.00"}, actor=actors.recorder
            ),
        )
        raises_the_version(
            carer,
            lambda: contributions.record_session(
                None, DAY, [{"person_id": carer, "hours": "2", "rate": "10.00"}], actor=actors.recorder
            ),
        )


def test_claims_and_consent_raise_the_event_and_drop_kept_positions(app, carer):
    from tracker.people import service as people

    def drops(write) -> None:
        keep_a_position(carer)
        before = version(carer)
        write()
        assert (version(carer), kept_rows(carer)) == (before + 1, 0)
        db.session.rollback()
        assert (version(carer), kept_rows(carer)) == (before, 1)

    with app.app_context():
        person = db.session.get(Person, carer)
        drops(lambda: people.add_claim(person, "JSA", date(2024, 1, 1), None, None, actor=None))
        claim = db.session.scalar(sa.select(BenefitClaim).where(BenefitClaim.person_id == carer))
        drops(lambda: people.update_claim(claim, date(2024, 2, 1), None, None, actor=None))
        drops(lambda: people.remove_claim(claim, actor=None))
        drops(lambda: people.withdraw_consent(db.session.get(Person, carer), DAY, actor=None))


def test_an_import_and_its_approval_and_rejection_raise_the_event(app, carer, actors):
    from tracker.imports import batches
    from tracker.imports import service as imports

    def imported(amount: str):
        data = f"person_id,kind,amount,paid_on\n{carer},cash,{amount},2025-04-01\n".encode()
        result = imports.check_file("payments", "p.csv", data, today=DAY)
        assert result.ok, result.problems
        batch = batches.start("payments", "p.csv", result.sha256, 1, actor=actors.recorder)
        return result, batch

    with app.app_context():
        result, batch = imported("10.00")
        raises_the_version(carer, lambda: imports.import_checked(result, batch, actor=actors.recorder, now=NOW))
        result, batch = imported("11.00")
        batches.write(batch, result, actor=actors.recorder, now=NOW)
        db.session.commit()
        raises_the_version(carer, lambda: batches.approve(batch, actor=actors.approver, now=NOW))
        raises_the_version(carer, lambda: batches.reject(batch, actor=actors.approver, now=NOW))


def test_a_partners_earnings_raise_the_event_when_recorded_and_removed(app, carer, actors):
    from tracker.people import household

    with app.app_context():
        person = db.session.get(Person, carer)
        raises_the_version(
            carer, lambda: household.record(person, {"amount": "40.00", "received_on": DAY}, actor=actors.recorder)
        )
        row = household.record(person, {"amount": "40.00", "received_on": DAY}, actor=actors.recorder)
        db.session.commit()
        raises_the_version(carer, lambda: household.remove(row, actor=actors.recorder))
