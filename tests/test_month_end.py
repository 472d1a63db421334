"""Month end: the owed queue, bulk approval (pages and POST /api/v1/payments/approve), the sortable
payments list with its typed person filter, the fixed list of payment methods, and reconciliation."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.builders import assert_same, counting
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.payments.models import Payment

CA = {"benefit": "CA", "start_on": date(2024, 1, 1)}


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _audits(app, action: str) -> int:
    return _count(app, AuditEvent, AuditEvent.action == action)


def _payment(app, pid: int) -> Payment:
    with app.app_context():
        p = db.session.get(Payment, pid)
        db.session.expunge(p)
        return p


def add_work(app, person_id: int, *hours: str, day: int = 1) -> list[int]:
    """Contributions at £20.00 an hour, from 1 April 2025."""
    from tracker.contributions import service
    from tracker.contributions.models import Activity
    from tracker.people.models import Person

    with app.app_context():
        activity = db.session.scalar(sa.select(Activity).limit(1)) or service.create_activity(
            {"name": "Panel", "default_rate": "20.00", "rate_unit": "hour"}, actor=None
        )
        person = db.session.get(Person, person_id)
        ids = [
            service.record_contribution(
                person, {"activity_id": activity.id, "worked_on": date(2025, 4, day + n), "hours": h}, actor=None
            ).id
            for n, h in enumerate(hours)
        ]
        db.session.commit()
        return ids


def make_payment(
    app,
    person_id,
    *,
    status="draft",
    amount="50.00",
    kind="cash",
    paid_on=date(2025, 4, 9),
    method=None,
    reference=None,
    recorded_by=None,
    contributions=(),
) -> int:
    from tracker.contributions.models import Contribution

    with app.app_context():
        p = Payment(
            person_id=person_id,
            kind=kind,
            amount=Decimal(amount),
            paid_on=paid_on,
            status=status,
            method=method,
            reference=reference,
            recorded_by_id=recorded_by,
        )
        p.contributions = [db.session.get(Contribution, c) for c in contributions]
        db.session.add(p)
        db.session.commit()
        return p.id


@pytest.fixture
def people(rules, make_person):
    """A carer (Carer's Allowance: £196 a week) who prefers vouchers, and someone with no benefits."""
    return {
        "carer": make_person("Carer Person", preferences=[{"kind": "voucher", "note": "supermarket"}], claims=[CA]),
        "bea": make_person("Bea Cash", preferences=[{"kind": "cash"}]),
        "cy": make_person("Cy Nothing"),
    }


# ---- the owed queue ----------------------------------------------------------------------------


def test_owed_queue_lists_uncovered_work_by_person(app, client, login, people):
    add_work(app, people["carer"], "10", "5")  # £300.00: over £196 in one week
    bea = add_work(app, people["bea"], "2", "1")  # £60.00
    covered = add_work(app, people["cy"], "1")
    make_payment(app, people["cy"], contributions=covered)  # a live draft covers Cy's work
    cancelled = add_work(app, people["bea"], "4", day=20)
    make_payment(app, people["bea"], status="cancelled", contributions=cancelled)  # cancelled covers nothing
    login("finance")
    resp = client.get("/payments/owed?on=2025-04-09")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Carer Person" in page and "Bea Cash" in page and "Cy Nothing" not in page
    assert "£300.00" in page and "£140.00" in page  # Bea: £60.00 and the £80.00 the cancelled one left owed
    assert "Vouchers: supermarket" in page and "Cash" in page
    assert "Blocked: paying it all now would break a benefit rule" in page
    assert f'name="reason-{people["carer"]}"' in page
    assert "Carer&#39;s Allowance" not in page  # finance never sees benefit names
    assert bea


def test_owed_queue_date_is_typed_in_three_boxes(app, client, login, people):
    add_work(app, people["carer"], "10", "5")
    login("finance")
    page = client.get("/payments/owed?check-on-day=9&check-on-month=4&check-on-year=2025").get_data(as_text=True)
    assert "Carer Person" in page and "£300.00" in page
    for part, value in (("day", "9"), ("month", "4"), ("year", "2025")):
        # the check's boxes and the record form's boxes both hold the date checked
        assert (
            f'id="check-on-{part}" name="check-on-{part}" type="text" inputmode="numeric" '
            f'autocomplete="off" value="{value}"' in page
        )
        assert (
            f'id="on-{part}" name="on-{part}" type="text" inputmode="numeric" autocomplete="off" value="{value}"'
            in page
        )
    page = client.get("/payments/owed?check-on-day=31&check-on-month=4&check-on-year=2025").get_data(as_text=True)
    assert "Check paying on must be a real date" in page


def test_owed_queue_records_drafts_and_holds_back_the_blocked(app, client, login, people):
    add_work(app, people["carer"], "10", "5")
    bea_work = add_work(app, people["bea"], "2", "1")
    login("finance")
    before = _audits(app, "payment.recorded")
    resp = client.post(
        "/payments/owed", data={"on": "2025-04-09", "person_ids": [str(people["carer"]), str(people["bea"])]}
    )
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Recorded 1 draft payment: Bea Cash (£60.00)" in page
    assert "Nothing was recorded for Carer Person" in page
    assert _audits(app, "payment.recorded") == before + 1
    with app.app_context():
        made = db.session.scalars(sa.select(Payment)).all()
        assert [(p.person_id, p.kind, p.amount, p.status) for p in made] == [
            (people["bea"], "cash", Decimal("60.00"), "draft")
        ]
        assert sorted(c.id for c in made[0].contributions) == sorted(bea_work)
    # With a written reason the carer's payment is recorded, with the override audited.
    resp = client.post(
        "/payments/owed",
        data={
            "on": "2025-04-09",
            "person_ids": [str(people["carer"])],
            f"reason-{people['carer']}": "Agreed with the person and adviser.",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        carer = db.session.scalar(sa.select(Payment).where(Payment.person_id == people["carer"]))
        assert carer.kind == "voucher" and carer.amount == Decimal("300.00")
        assert carer.override_reason == "Agreed with the person and adviser."
    assert _audits(app, "payment.override") == 1
    assert "Nothing is owed" in client.get("/payments/owed?on=2025-04-09").get_data(as_text=True)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"on": "2025-04-09"}, "person_ids"),
        ({"on": "2025-02-30", "person_ids": ["1"]}, "on"),
        ({"person_ids": ["1"]}, "on"),
    ],
)
def test_owed_queue_bad_input_writes_nothing(app, client, login, people, data, field):
    add_work(app, people["bea"], "2")
    login("finance")
    resp = client.post("/payments/owed", data=data)
    assert resp.status_code == 422
    assert 'class="error-summary"' in resp.get_data(as_text=True)
    assert _count(app, Payment) == 0


def test_owed_queue_is_for_finance_only(app, client, login, people):
    for role in ("coordinator", "contributor"):
        login(role)
        assert client.get("/payments/owed").status_code == 403
        assert client.post("/payments/owed", data={"on": "2025-04-09"}).status_code == 403


def test_owed_queue_query_count_does_not_grow_with_people(app, client, login, rules, make_person):
    login("finance")
    first = [make_person(f"Owed {i:02d}", preferences=[{"kind": "cash"}], claims=[CA]) for i in range(3)]
    for pid in first:
        add_work(app, pid, "1", "1")
    assert client.get("/payments/owed?on=2025-04-09").status_code == 200
    with counting(app) as small:
        assert client.get("/payments/owed?on=2025-04-09").status_code == 200
    for i in range(20):
        pid = make_person(f"More {i:02d}", preferences=[{"kind": "voucher"}], claims=[CA])
        add_work(app, pid, "1", "2", "1")
    with counting(app) as large:
        page = client.get("/payments/owed?on=2025-04-09").get_data(as_text=True)
    assert "23 people are owed" in page
    assert_same(small, large, "GET /payments/owed (3 vs 23 people)")


# ---- bulk approval: the API --------------------------------------------------------------------


def _record(api, person_id, amount="50.00", paid_on="2025-04-09", kind="cash") -> int:
    resp = api.post("/payments", json={"person_id": person_id, "kind": kind, "amount": amount, "paid_on": paid_on})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_bulk_approve_reports_each_id(app, api_as, people):
    me, other = api_as("finance"), api_as("finance")
    mine = _record(me, people["bea"])
    theirs = [_record(other, people["bea"], "10.00"), _record(other, people["cy"], "20.00")]
    paid = make_payment(app, people["cy"], status="paid", method="cash")
    resp = me.post("/payments/approve", json={"ids": [*theirs, mine, 999999, paid, theirs[0]]})
    assert resp.status_code == 200
    results = resp.get_json()["results"]
    assert [(r["id"], r["status"], r.get("code")) for r in results] == [
        (theirs[0], "approved", None),
        (theirs[1], "approved", None),
        (mine, "refused", "approver_is_recorder"),
        (999999, "refused", "not_found"),
        (paid, "refused", "not_draft"),
    ]
    assert all(r["message"] for r in results if r["status"] == "refused")
    assert _payment(app, mine).status == "draft" and _payment(app, mine).approved_by_id is None
    assert [_payment(app, i).status for i in theirs] == ["approved", "approved"]
    assert _audits(app, "payment.approved") == 2


def test_bulk_approve_stops_at_a_new_block(app, api_as, people):
    recorder, approver = api_as("finance"), api_as("finance")
    # within £196 when recorded; vouchers, as the carer chose (another kind would need a reason)
    draft = _record(recorder, people["carer"], "150.00", "2025-04-09", kind="voucher")
    make_payment(app, people["carer"], status="paid", amount="100.00", paid_on=date(2025, 4, 8), method="cash")
    results = approver.post("/payments/approve", json={"ids": [draft]}).get_json()["results"]
    assert results == [
        {"id": draft, "status": "refused", "code": "benefit_rule_block", "message": results[0]["message"]}
    ]
    assert _payment(app, draft).status == "draft"
    assert _audits(app, "payment.approved") == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ids": []}, "ids"),
        ({"ids": ["1"]}, "ids.0"),
        ({"ids": [0]}, "ids.0"),
        ({"ids": list(range(1, 502))}, "ids"),
        ({"ids": [1], "x": 1}, "x"),
        ({}, "ids"),
        ({"ids": [2**63]}, "ids.0"),
    ],
)
def test_bulk_approve_bad_input_is_422_and_writes_nothing(app, api_as, people, body, field):
    other, me = api_as("finance"), api_as("finance")
    pid = _record(other, people["bea"])
    resp = me.post("/payments/approve", json=body)
    assert resp.status_code == 422
    assert field in resp.get_json()["error"]["fields"]
    assert _payment(app, pid).status == "draft"


def test_bulk_approve_is_refused_to_other_roles(app, api_as, people):
    pid = _record(api_as("finance"), people["bea"])
    for role in ("coordinator", "contributor"):
        assert api_as(role).post("/payments/approve", json={"ids": [pid]}).status_code == 403
    assert _payment(app, pid).status == "draft"


def test_bulk_approve_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "post" in doc["paths"]["/payments/approve"]
    assert "ApproveManyIn" in doc["components"]["schemas"]


# ---- bulk approval: the page -------------------------------------------------------------------


def test_bulk_approve_page(app, client, login, people):
    me = login("finance")
    other = make_payment(app, people["bea"], amount="10.00")
    mine = make_payment(app, people["cy"], amount="20.00", recorded_by=me)
    page = client.get("/payments/?status=draft&sort=amount").get_data(as_text=True)
    assert f'name="ids" value="{other}"' in page and "Approve the chosen drafts" in page
    assert 'name="back-sort" value="amount"' in page
    resp = client.post(
        "/payments/approve-selected",
        data={"ids": [str(other), str(mine)], "back-status": "draft", "back-sort": "amount", "back-evil": "x"},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/payments/?status=draft&sort=amount"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Approved 1 payment." in page
    assert f"Payment {mine} to Cy Nothing was not approved: You recorded this payment" in page
    assert _payment(app, other).status == "approved" and _payment(app, mine).status == "draft"
    resp = client.post("/payments/approve-selected", data={"ids": ["x"]})
    assert resp.status_code == 302
    assert "Choose at least one draft" in client.get(resp.headers["Location"]).get_data(as_text=True)


# ---- the payments list: sorting, the typed person filter, columns ------------------------------


def _rows(page: str) -> list[str]:
    return re.findall(r'<td data-label="Amount" class="num">([^<]+)</td>', page)


def test_list_sorts_by_column_and_keeps_the_filters(app, client, login, people):
    for amount, day in (("30.00", 3), ("10.00", 5), ("20.00", 4)):
        make_payment(app, people["bea"], amount=amount, paid_on=date(2025, 4, day), reference=f"REF-{amount}")
    make_payment(app, people["cy"], amount="99.00")
    login("finance")
    page = client.get(f"/payments/?person_id={people['bea']}&sort=amount").get_data(as_text=True)
    assert _rows(page) == ["£10.00", "£20.00", "£30.00"]
    assert f'aria-sort="ascending"><a href="/payments/?person_id={people["bea"]}&amp;sort=-amount"' in page
    assert page.count("aria-sort=") == 1
    assert "REF-10.00" in page and '<th scope="col">Payment</th>' in page
    assert _rows(client.get(f"/payments/?person_id={people['bea']}&sort=-amount").get_data(as_text=True)) == [
        "£30.00",
        "£20.00",
        "£10.00",
    ]
    assert _rows(client.get(f"/payments/?person_id={people['bea']}&sort=date").get_data(as_text=True)) == [
        "£30.00",
        "£20.00",
        "£10.00",
    ]
    by_person = client.get("/payments/?sort=-person").get_data(as_text=True).split("<tbody>")[1]
    assert by_person.index("Cy Nothing") < by_person.index("Bea Cash")
    resp = client.get("/payments/?sort=colour")
    assert resp.status_code == 422 and "Sort by one of" in resp.get_data(as_text=True)


def test_person_filter_is_typed(app, client, login, people, make_person):
    make_payment(app, people["bea"], amount="11.00")
    make_payment(app, people["cy"], amount="22.00")
    login("finance")
    page = client.get("/payments/").get_data(as_text=True)
    assert '<datalist id="people-list">' in page and f'<option value="Bea Cash (#{people["bea"]})">' in page
    for typed in ("bea cash", f"Bea Cash (#{people['bea']})", str(people["bea"])):
        page = client.get("/payments/", query_string={"person": typed}).get_data(as_text=True)
        assert _rows(page) == ["£11.00"], typed
    resp = client.get("/payments/", query_string={"person": "Nobody Here"})
    assert resp.status_code == 422 and "No one is called Nobody Here" in resp.get_data(as_text=True)
    make_person("Bea Cash")
    resp = client.get("/payments/", query_string={"person": "Bea Cash"})
    assert resp.status_code == 422 and "More than one person is called Bea Cash" in resp.get_data(as_text=True)
    # Pages and sort links keep the chosen person's id.
    page = client.get(f"/payments/?person_id={people['cy']}").get_data(as_text=True)
    assert f'value="Cy Nothing (#{people["cy"]})"' in page and f"person_id={people['cy']}&amp;sort=" in page


def test_sorted_list_query_count_does_not_grow_with_rows(app, client, login, people, make_person):
    login("finance")
    for i in range(3):
        make_payment(app, people["bea"], amount=f"{i + 1}.00")
    assert client.get("/payments/?sort=person").status_code == 200
    with counting(app) as small:
        assert client.get("/payments/?sort=person").status_code == 200
    for i in range(30):
        make_payment(app, make_person(f"Sorted {i:02d}"), amount="5.00")
    with counting(app) as large:
        page = client.get("/payments/?sort=person").get_data(as_text=True)
    assert len(_rows(page)) == 33
    assert_same(small, large, "GET /payments/?sort=person (3 vs 33 payments)")


# ---- payment methods ---------------------------------------------------------------------------


def test_api_pay_takes_the_fixed_methods_and_the_old_spellings(app, api_as, people):
    recorder, payer = api_as("finance"), api_as("finance")

    def approved() -> int:
        pid = _record(recorder, people["bea"], "10.00")
        assert payer.post(f"/payments/{pid}/approve").status_code == 200
        return pid

    for typed, stored in (
        ("bank transfer", "bank transfer"),
        ("Faster Payment", "bank transfer"),
        ("BACS", "bank transfer"),
        ("cash", "cash"),
        ("Voucher", "voucher"),
    ):
        pid = approved()
        resp = payer.post(f"/payments/{pid}/pay", json={"paid_on": "2025-04-09", "method": typed})
        assert resp.status_code == 200, (typed, resp.get_json())
        assert _payment(app, pid).method == stored
    pid = approved()
    for body, field in (
        ({"method": "gold bars"}, "method"),
        ({"method": "other"}, "method_note"),
        ({"method": "other", "method_note": "x" * 201}, "method_note"),
    ):
        resp = payer.post(f"/payments/{pid}/pay", json={"paid_on": "2025-04-09", **body})
        assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], body
        assert _payment(app, pid).status == "approved"
    resp = payer.post(
        f"/payments/{pid}/pay", json={"paid_on": "2025-04-09", "method": "other", "method_note": "prepaid card"}
    )
    assert resp.status_code == 200
    assert (_payment(app, pid).method, _payment(app, pid).method_note) == ("other", "prepaid card")


def test_pay_page_other_needs_a_note(app, client, login, people):
    login("finance")
    pid = make_payment(app, people["bea"], status="approved")
    resp = client.post(f"/payments/{pid}/pay", data={"pay-paid_on": "2025-04-09", "pay-method": "other"})
    assert resp.status_code == 422 and "Say how it was paid when the method is other" in resp.get_data(as_text=True)
    assert _payment(app, pid).status == "approved"
    resp = client.post(
        f"/payments/{pid}/pay",
        data={"pay-paid_on": "2025-04-09", "pay-method": "other", "pay-method_note": "postal order"},
    )
    assert resp.status_code == 302
    assert _payment(app, pid).method_note == "postal order"


def test_month_end_totals_group_by_the_fixed_method(app, client, login, people):
    for method in ("bank transfer", "bank transfer", "cash"):
        make_payment(app, people["bea"], status="paid", method=method, amount="10.00", paid_on=date(2025, 4, 3))
    login("finance")
    page = client.get("/payments/month-end?month=2025-04").get_data(as_text=True)
    assert "Paid by bank transfer: 2 entries, £20.00" in page and "Paid by cash: 1 entry, £10.00" in page


def test_migration_maps_free_text_methods(make_app, tmp_path):
    from flask_migrate import upgrade

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'methods.sqlite'}")
    with app.app_context():
        upgrade(revision="c63c447ca8b0")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO person (id, name, created_at, updated_at, ledger_version) "
                    "VALUES (1, 'P', '2025-01-01 00:00:00', '2025-01-01 00:00:00', 1)"
                )
            )
            for n, method in enumerate(
                ("Faster Payment", "faster payment", "BACS", "bank transfer", "Cash", "PayPal (old)", None), start=1
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO payment (id, person_id, kind, amount, currency, status, paid_on, "
                        "method, created_at, version) VALUES (:id, 1, 'cash', 100, 'GBP', 'paid', "
                        "'2025-04-01', :m, '2025-04-01 00:00:00', 1)"
                    ),
                    {"id": n, "m": method},
                )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT method, method_note FROM payment ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [("bank transfer", None)] * 4 + [
        ("cash", None),
        ("other", "PayPal (old)"),
        (None, None),
    ]


# ---- reconciliation ----------------------------------------------------------------------------


def _upload(client, text: str | bytes, *, start="2025-04-01", end="2025-04-30", output="page"):
    raw = text.encode() if isinstance(text, str) else text
    return client.post(
        "/payments/reconcile",
        data={"start": start, "end": end, "output": output, "statement": (io.BytesIO(raw), "statement.csv")},
        content_type="multipart/form-data",
    )


@pytest.fixture
def paid(app, people):
    return {
        "match": make_payment(
            app,
            people["bea"],
            status="paid",
            amount="150.00",
            reference="BACS-1",
            method="bank transfer",
            paid_on=date(2025, 4, 3),
        ),
        "differs": make_payment(
            app,
            people["bea"],
            status="paid",
            amount="60.00",
            reference="BACS-2",
            method="bank transfer",
            paid_on=date(2025, 4, 4),
        ),
        "no_line": make_payment(
            app,
            people["cy"],
            status="paid",
            amount="25.00",
            reference="=CMD()",
            method="cash",
            paid_on=date(2025, 4, 5),
        ),
        "outside": make_payment(
            app, people["cy"], status="paid", amount="5.00", reference="OLD", paid_on=date(2025, 3, 5)
        ),
    }


STATEMENT = "Date,Amount,Reference\n2025-04-03,-150.00,bacs-1\n2025-04-04,-65.00,BACS-2\n03/04/2025,-9.99,@SUM(A1)\n"


def test_reconciliation_matches_and_lists_both_sides(app, client, login, paid):
    login("finance")
    assert client.get("/payments/reconcile").status_code == 200
    resp = _upload(client, STATEMENT)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert re.search(r"<dt>Matched</dt><dd>1</dd>", page)
    assert re.search(r"<dt>Statement lines with no payment</dt><dd>1</dd>", page) and "@SUM(A1)" in page
    assert re.search(r"<dt>Paid payments with no statement line</dt><dd>1</dd>", page) and "=CMD()" in page
    assert re.search(r"<dt>Reference found, amount differs</dt><dd>1</dd>", page)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "reconciliation.run"))
        assert event.after["matched"] == 1 and event.after["amount_differs"] == 1
        assert event.after["lines_without_payment"] == 1 and event.after["payments_without_line"] == 1
    assert _count(app, Payment) == 4


def test_reconciliation_download_is_formula_safe(app, client, login, paid):
    login("finance")
    resp = _upload(client, STATEMENT, output="csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert "'@SUM(A1)" in text and "'=CMD()" in text and ",=CMD()" not in text
    assert "amount differs" in text


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "date,amount,reference\n2025-04-03,abc,R1\n2025-04-31,-1.00,R2\n2025-04-03,-1.00\n",
            ["Line 2: the amount", "Line 3: the date", "Line 4: it has 2 columns"],
        ),
        ("2025-03-01,-1.00,R1\n", ["Line 1: the date is outside the period"]),
        ("", ["The file is empty"]),
        (b"\xff\xfe\x00bad", ["not a text CSV file"]),
        ("x" * (1024 * 1024 + 1), ["larger than 1 MB"]),
    ],
)
def test_reconciliation_bad_statement_is_422_and_saves_nothing(app, client, login, paid, text, message):
    login("finance")
    resp = _upload(client, text)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for m in message:
        assert m in page, m
    assert _audits(app, "reconciliation.run") == 0


def test_reconciliation_period_must_make_sense(app, client, login):
    login("finance")
    resp = _upload(client, STATEMENT, start="2025-04-30", end="2025-04-01")
    assert resp.status_code == 422 and "on or after its start" in resp.get_data(as_text=True)
    assert _audits(app, "reconciliation.run") == 0


def test_owed_queue_check_is_the_new_payment_check(app, api_as, people):
    """The bulk check of the queue gives the same verdicts and suggestions as the one-person check."""
    from tracker.payments import owed

    work = add_work(app, people["carer"], "10", "5")
    body = {
        "person_id": people["carer"],
        "kind": "voucher",
        "amount": "300.00",
        "paid_on": "2025-04-09",
        "contribution_ids": work,
    }
    single = api_as("coordinator").post("/payments/check", json=body).get_json()
    with app.test_request_context():
        row = owed.queue(date(2025, 4, 9), today=date.today()).rows[0]
    assert row.blocked and single["blocked"]
    # The API's check also names whose money makes up each total (``sources``); the queue does not.
    assert row.check["verdicts"] == [{k: v for k, v in d.items() if k != "sources"} for d in single["verdicts"]]
    assert all("sources" in d for d in single["verdicts"])
    assert row.check["suggestions"] == single["suggestions"]


def test_owed_queue_audits_one_view_of_benefit_names_for_admin(app, client, login, people):
    add_work(app, people["carer"], "10", "5")
    add_work(app, people["bea"], "1")
    login("admin")
    page = client.get("/payments/owed?on=2025-04-09").get_data(as_text=True)
    assert "Carer&#39;s Allowance" in page
    assert _audits(app, "benefits.viewed") == 1
    login("finance")
    client.get("/payments/owed?on=2025-04-09")
    assert _audits(app, "benefits.viewed") == 1


def test_month_end_month_is_chosen_by_name(client, login):
    login("finance")
    page = client.get("/payments/month-end?month-month=4&month-year=2025").get_data(as_text=True)
    assert "<h1>Month end: April 2025</h1>" in page
    assert '<option value="4" selected>April</option>' in page and 'name="month-year"' in page
    for bad in ("month-month=4&month-year=1999", "month-month=13&month-year=2025", "month-month=4&month-year="):
        resp = client.get(f"/payments/month-end?{bad}")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 422 and 'href="#month"' in page, bad
        assert "Choose a month, and enter a year between 2000 and 2100" in page, bad
