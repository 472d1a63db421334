"""The test builders themselves: their defaults make valid rows, their rows count where the app's
own would, and keyword overrides apply."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from tests import builders as b
from tracker.auth.models import ApiToken, User
from tracker.engine.core import Verdict
from tracker.extensions import db
from tracker.payments.models import Payment
from tracker.people.models import Person
from tracker.rules import checks


def test_defaults_make_valid_rows(ctx) -> None:
    person = b.person()
    act = b.activity()
    work = b.contribution(person, activity=act)
    pay = b.payment(person, contributions=[work])
    spent = b.expense(person)
    earned = b.other_income(person)
    staff = b.user()
    db.session.commit()  # every check constraint holds

    assert person.name == "Alex Example" and person.consent.given_on == b.CONSENT_ON and person.claims == []
    assert (pay.kind, pay.status, pay.amount, pay.paid_on) == ("cash", "paid", Decimal("50.00"), b.PAID_ON)
    assert isinstance(pay.amount, Decimal) and pay.contributions == [work] and work.activity_id == act.id
    assert spent.paid_on == spent.incurred_on and isinstance(spent.amount, Decimal)
    assert earned.person_id == person.id and isinstance(earned.amount, Decimal)
    assert staff.role == "coordinator" and staff.person_id is None


def test_a_contributor_gets_a_person_and_a_token_works(app, client) -> None:
    with app.app_context():
        contributor = b.user("contributor")
        finance = b.user("finance", email="fin@example.org")
        secret = b.token(finance)
        db.session.commit()
        assert contributor.person_id is not None
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 1
    assert b.Api(client, secret).get("/payments").status_code == 200
    resp = client.post("/sign-in", data={"email": "fin@example.org", "password": b.PASSWORD})
    assert resp.status_code == 302


def test_a_payment_built_for_a_person_counts_in_their_position(app, rules) -> None:
    pid = b.saved(app, b.person, "Carer", claims=[b.CA])
    on = date(2025, 4, 10)

    def carers_allowance() -> Verdict:
        with app.app_context():
            (verdict,) = [v for v in checks.position(pid, on) if v.family == "CA_EARN"]
            return verdict

    assert carers_allowance().total == Decimal("0.00")
    b.saved(app, b.payment, pid, "150.00", date(2025, 4, 9))
    b.saved(app, b.payment, pid, "40.00", date(2025, 4, 9), status="cancelled")  # a cancelled one does not
    verdict = carers_allowance()
    assert verdict.total == Decimal("150.00") and verdict.status == "ok"
    b.saved(app, b.payment, pid, "46.01", date(2025, 4, 13))
    assert carers_allowance().status == "over"


def test_overrides_apply(ctx) -> None:
    recorder, approver = b.user("finance"), b.user("admin")
    person = b.person(
        "Sam Jones",
        email="sam@example.org",
        preferences=["voucher", {"kind": "cash", "note": "n"}],
        consent=False,
        phone="0123",
    )
    uc = b.claim(
        person,
        "UC",
        date(2024, 4, 1),
        attributes={"ap_start_day": 15, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
    )
    first = b.payment(person, "10.00")
    entry = b.payment(
        person,
        "-10.00",
        date(2025, 5, 2),
        kind="voucher",
        status="approved",
        recorded_by=recorder,
        approved_by=approver.id,
        reversal_of=first,
        reason="wrong person",
    )
    declined = b.payment(person, "0", kind="declined", amount_offered="40.00")
    db.session.commit()

    assert person.consent is None and person.phone == "0123" and person.email == "sam@example.org"
    assert [(p.kind, p.note) for p in person.preferences] == [("voucher", None), ("cash", "n")]
    assert uc.attributes["ap_start_day"] == 15 and uc.start_on == date(2024, 4, 1)
    assert (entry.kind, entry.status, entry.amount, entry.paid_on) == (
        "voucher",
        "approved",
        Decimal("-10.00"),
        date(2025, 5, 2),
    )
    assert (entry.recorded_by_id, entry.approved_by_id, entry.reversal_of_id) == (recorder.id, approver.id, first.id)
    assert declined.amount_offered == Decimal("40.00") and declined.amount == Decimal("0.00")


def test_saved_commits_and_returns_the_id(app) -> None:
    pid = b.saved(app, b.person, "Kept")
    with app.app_context():
        db.session.remove()
        assert db.session.get(Person, pid).name == "Kept"
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
