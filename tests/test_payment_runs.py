"""Payment runs through the API and the pages: the lifecycle, every bad input, the files."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from openpyxl import load_workbook

import tracker.api.runs  # noqa: F401  (registers the routes whatever the API's wiring)
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.payments.models import Payment
from tracker.runs import bacs
from tracker.runs.models import PaymentRun, PaymentRunItem
from tracker.timeutil import today

PAY_ON = today() + timedelta(days=7)
ORIGINATOR = {
    "BACS_SERVICE_USER_NUMBER": "123456",
    "BACS_SORT_CODE": "40-11-22",
    "BACS_ACCOUNT_NUMBER": "87654321",
    "BACS_ACCOUNT_NAME": "Riverside Network",
}


@pytest.fixture(autouse=True)
def _settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "BANK_DETAILS_KEYS", Fernet.generate_key().decode())
    for key, value in ORIGINATOR.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def finance(api_as):
    return api_as("finance")


def _payment(
    app, person_id: int, amount: str, *, kind: str = "bank_transfer", status: str = "approved", paid_on: date = PAY_ON
) -> int:
    with app.app_context():
        p = Payment(person_id=person_id, kind=kind, amount=Decimal(amount), paid_on=paid_on, status=status)
        db.session.add(p)
        db.session.commit()
        return p.id


def _bank(
    finance, person_id: int, name: str = "A PERSON", sort_code: str = "12-34-56", number: str = "12345678"
) -> None:
    resp = finance.put(
        f"/people/{person_id}/bank-account",
        json={"account_name": name, "sort_code": sort_code, "account_number": number},
    )
    assert resp.status_code == 200, resp.get_json()


@pytest.fixture
def three(app, make_person, finance):
    """Three people with bank details, one approved bank transfer each."""
    ids = []
    for n, amount in enumerate(("100.10", "20.25", "0.65")):
        pid = make_person(f"Payee {n}")
        _bank(finance, pid, name=f"PAYEE {n}", number=f"1234567{n}")
        ids.append(_payment(app, pid, amount))
    return ids


def test_create_a_run_counts_and_totals_exactly(finance, three):
    resp = finance.post("/payment-runs", json={"payment_ids": three, "pay_on": PAY_ON.isoformat()})
    assert resp.status_code == 201, resp.get_json()
    run = resp.get_json()
    assert run["count"] == 3 and run["total"] == "121.00" and run["status"] == "open"
    assert run["pay_on"] == PAY_ON.isoformat() and run["reference"].startswith("RUN-")
    assert [p["id"] for p in run["payments"]] == three
    assert finance.get(f"/payment-runs/{run['id']}").get_json() == run


def _refused(resp, status: int, ids: list[int]):
    assert resp.status_code == status, resp.get_json()
    error = resp.get_json()["error"]
    assert sorted(p["id"] for p in error["payments"]) == sorted(ids)
    for pid in ids:
        assert any(str(pid) in m for m in error["fields"]["payment_ids"])
    return error


def _nothing_written(app):
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentRun)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentRunItem)) == 0


def test_every_bad_payment_is_named_and_nothing_is_written(app, make_person, finance, three):
    no_bank = _payment(app, make_person("No Bank"), "5.00")
    cash = _payment(app, make_person("Cash"), "5.00", kind="cash")
    draft = _payment(app, make_person("Draft"), "5.00", status="draft")
    ids = three + [no_bank, cash, draft, 999999]
    error = _refused(
        finance.post("/payment-runs", json={"payment_ids": ids, "pay_on": PAY_ON.isoformat()}),
        422,
        [no_bank, cash, draft, 999999],
    )
    problems = {p["id"]: p["problem"] for p in error["payments"]}
    assert problems == {no_bank: "no_bank_details", cash: "not_bank_transfer", draft: "not_approved", 999999: "unknown"}
    _nothing_written(app)


def test_state_problems_alone_are_a_409(app, make_person, finance, three):
    draft = _payment(app, make_person("Draft"), "5.00", status="draft")
    paid = _payment(app, make_person("Paid"), "5.00", status="paid")
    _refused(
        finance.post("/payment-runs", json={"payment_ids": three + [draft, paid], "pay_on": PAY_ON.isoformat()}),
        409,
        [draft, paid],
    )
    _nothing_written(app)


def test_a_payment_is_in_one_open_run_and_free_again_after_cancelling(finance, three):
    first = finance.post("/payment-runs", json={"payment_ids": three[:2], "pay_on": PAY_ON.isoformat()}).get_json()
    error = _refused(
        finance.post("/payment-runs", json={"payment_ids": three, "pay_on": PAY_ON.isoformat()}), 409, three[:2]
    )
    assert all(p["problem"] == "in_run" for p in error["payments"])
    resp = finance.post(f"/payment-runs/{first['id']}/cancel")
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    again = finance.post("/payment-runs", json={"payment_ids": three, "pay_on": PAY_ON.isoformat()})
    assert again.status_code == 201
    # A cancelled run is neither paid, cancelled again, nor filed.
    for path, body in (("paid", {"paid_on": PAY_ON.isoformat()}), ("cancel", None)):
        assert finance.post(f"/payment-runs/{first['id']}/{path}", json=body).status_code == 409
    assert finance.get(f"/payment-runs/{first['id']}/file?format=csv").status_code == 409


@pytest.mark.parametrize(
    "body, field",
    [
        ({"payment_ids": [], "pay_on": PAY_ON.isoformat()}, "payment_ids"),
        ({"payment_ids": [1, 1], "pay_on": PAY_ON.isoformat()}, "payment_ids"),
        ({"payment_ids": [1], "pay_on": "2020-01-01"}, "pay_on"),
        ({"payment_ids": [1], "pay_on": "not a date"}, "pay_on"),
        ({"payment_ids": ["1"], "pay_on": PAY_ON.isoformat()}, "payment_ids.0"),
        ({"payment_ids": [1], "pay_on": PAY_ON.isoformat(), "extra": 1}, "extra"),
    ],
)
def test_bad_bodies_are_422(app, finance, body, field):
    resp = finance.post("/payment-runs", json=body)
    assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"], resp.get_json()
    _nothing_written(app)


def test_mark_paid_pays_every_payment_with_the_run_reference(app, finance, three):
    run = finance.post("/payment-runs", json={"payment_ids": three, "pay_on": PAY_ON.isoformat()}).get_json()
    resp = finance.post(f"/payment-runs/{run['id']}/paid", json={"paid_on": PAY_ON.isoformat()})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "paid" and body["count"] == 3 and body["removed"] == []
    with app.app_context():
        for pid in three:
            p = db.session.get(Payment, pid)
            assert (p.status, p.reference, p.method, p.paid_on) == ("paid", run["reference"], "bank transfer", PAY_ON)
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"payment_run.created", "payment_run.paid", "payment.paid"} <= actions
    assert finance.post(f"/payment-runs/{run['id']}/paid", json={"paid_on": PAY_ON.isoformat()}).status_code == 409
    assert finance.post(f"/payment-runs/{run['id']}/cancel").status_code == 409


def test_a_payment_a_rule_now_blocks_leaves_the_run_and_stays_approved(app, rules, make_person, finance, three):
    carer = make_person("Carer", claims=[{"benefit": "CA", "start_on": date(2024, 1, 1)}])
    _bank(finance, carer)
    _payment(app, carer, "150.00", kind="cash", status="paid")  # already paid the same week
    blocked = _payment(app, carer, "100.00")
    run = finance.post("/payment-runs", json={"payment_ids": three + [blocked], "pay_on": PAY_ON.isoformat()})
    assert run.status_code == 201
    body = finance.post(f"/payment-runs/{run.get_json()['id']}/paid", json={"paid_on": PAY_ON.isoformat()}).get_json()
    assert body["count"] == 3 and body["total"] == "121.00"
    assert [r["id"] for r in body["removed"]] == [blocked] and "benefit rule" in body["removed"][0]["reason"]
    with app.app_context():
        assert db.session.get(Payment, blocked).status == "approved"
        item = db.session.scalar(sa.select(PaymentRunItem).where(PaymentRunItem.payment_id == blocked))
        assert item.status == "removed" and item.open_payment_id is None
    again = finance.post("/payment-runs", json={"payment_ids": [blocked], "pay_on": PAY_ON.isoformat()})
    assert again.status_code == 201  # free for another run


def test_roles_and_unknown_runs(api_as, finance, three):
    run = finance.post("/payment-runs", json={"payment_ids": three, "pay_on": PAY_ON.isoformat()}).get_json()
    coordinator = api_as("coordinator")
    body = {"payment_ids": three, "pay_on": PAY_ON.isoformat()}
    assert coordinator.post("/payment-runs", json=body).status_code == 403
    assert coordinator.get(f"/payment-runs/{run['id']}").status_code == 403
    assert finance.get("/payment-runs/424242").status_code == 404
    assert finance.get(f"/payment-runs/{run['id']}/file?format=pdf").status_code == 422


def test_idempotency_key_replays_the_run(app, finance, three):
    body = {"payment_ids": three, "pay_on": PAY_ON.isoformat()}
    first = finance.post("/payment-runs", json=body, headers={"Idempotency-Key": "run-1"})
    second = finance.post("/payment-runs", json=body, headers={"Idempotency-Key": "run-1"})
    assert first.status_code == second.status_code == 201 and first.get_json() == second.get_json()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentRun)) == 1


# ---- files ---------------------------------------------------------------------------------------


def _run_with(app, make_person, finance, names_amounts) -> dict:
    ids = []
    for n, (name, amount) in enumerate(names_amounts):
        pid = make_person(name)
        _bank(finance, pid, name=f"ACCOUNT {n}", sort_code=f"20 00 0{n}", number=f"0000000{n}")
        ids.append(_payment(app, pid, amount))
    return finance.post("/payment-runs", json={"payment_ids": ids, "pay_on": PAY_ON.isoformat()}).get_json()


def test_csv_has_one_row_per_payment_and_is_formula_safe(app, make_person, finance):
    run = _run_with(app, make_person, finance, [('=HYPERLINK("http://x")', "10.00"), ("@SUM(A1)", "0.01")])
    resp = finance.get(f"/payment-runs/{run['id']}/file?format=csv")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Payment id", "Payee name", "Account name", "Sort code", "Account number", "Amount", "Reference"]
    assert rows[1][1] == '\'=HYPERLINK("http://x")' and rows[2][1] == "'@SUM(A1)"
    assert rows[1][3:] == ["20-00-00", "00000000", "10.00", run["reference"]]
    assert len(rows) == 3
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "payment_run.file")
            )
            == 1
        )


def test_xlsx_keeps_text_as_text_and_amounts_exact(app, make_person, finance):
    run = _run_with(app, make_person, finance, [("+44 Name", "1234.56")])
    resp = finance.get(f"/payment-runs/{run['id']}/file?format=xlsx")
    ws = load_workbook(io.BytesIO(resp.get_data())).active
    cells = [c for c in ws[2]]
    assert cells[1].value == "+44 Name" and cells[1].data_type == "s"
    assert cells[4].value == "00000000" and Decimal(repr(cells[5].value)) == Decimal("1234.56")


def test_bacs_standard_18_layout(app, make_person, finance):
    run = _run_with(app, make_person, finance, [("One", "100.10"), ("Two", "20.25"), ("Three", "0.65")])
    resp = finance.get(f"/payment-runs/{run['id']}/file?format=bacs18")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    labels = [line[:4] for line in lines]
    assert labels[:4] == ["VOL1", "HDR1", "HDR2", "UHL1"] and labels[-3:] == ["EOF1", "EOF2", "UTL1"]
    records = lines[4:-3]
    assert len(records) == 4  # three credits and the contra
    assert [len(line) for line in lines] == [80] * 4 + [100] * 4 + [80] * 3
    _check_credit(records[0], "200000", "00000000", "10010", "ACCOUNT 0", run["reference"])
    _check_credit(records[2], "200002", "00000002", "65", "ACCOUNT 2", run["reference"])
    _check_totals(records[3], lines[-1])
    _check_labels(lines, run)


def _check_totals(contra: str, utl: str) -> None:
    assert contra[0:6] == "401122" and contra[6:14] == "87654321" and contra[14] == "0" and contra[15:17] == "17"
    assert contra[35:46] == "00000012100" and contra[64:82] == "CONTRA".ljust(18)
    assert utl[4:17] == "0000000012100" and utl[17:30] == "0000000012100"
    assert utl[30:37] == "0000001" and utl[37:44] == "0000003"


def _check_labels(lines: list[str], run: dict) -> None:
    assert lines[0][4:10] == f"{run['id']:06d}" and lines[0][41:47] == "123456" and lines[0][79] == "1"
    assert lines[1][4:21].startswith("A123456S") and lines[2][4:15] == "F0200000100"
    assert lines[3][4:10] == bacs.julian(PAY_ON) and lines[3][4] == " "


def _check_credit(line: str, sort_code: str, account: str, pence: str, name: str, reference: str) -> None:
    assert line[0:6] == sort_code and line[6:14] == account and line[14] == "0" and line[15:17] == "99"
    assert line[17:23] == "401122" and line[23:31] == "87654321" and line[31:35] == "    "
    assert line[35:46] == pence.zfill(11)
    assert line[46:64] == "RIVERSIDE NETWORK".ljust(18)
    assert line[64:82] == reference.ljust(18) and line[82:100] == name.ljust(18)


def test_bacs_text_and_amounts():
    assert bacs.bacs_text("o'brien & co: £", 18) == "O BRIEN & CO      "
    assert bacs.pence(Decimal("12.30"), 11) == "00000001230"
    with pytest.raises(bacs.BacsError):
        bacs.pence(Decimal("1000000000.00"), 11)
    assert bacs.julian(date(2026, 2, 1)) == " 26032"


def test_bacs_refuses_bad_originator_settings(app, make_person, finance, monkeypatch):
    run = _run_with(app, make_person, finance, [("One", "1.00")])
    monkeypatch.setitem(app.config, "BACS_SERVICE_USER_NUMBER", "12AB")
    resp = finance.get(f"/payment-runs/{run['id']}/file?format=bacs18")
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "bacs_settings"


# ---- pages ---------------------------------------------------------------------------------------


def test_pages_make_pay_and_print_a_run(app, client, login, three):
    login("finance")
    page = client.get("/payment-runs/new")
    assert page.status_code == 200 and f'value="{three[0]}"' in page.get_data(as_text=True)
    resp = client.post("/payment-runs/new", data={"payment_ids": [str(i) for i in three], "pay_on": PAY_ON.isoformat()})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    run_url = resp.headers["Location"]
    detail = client.get(run_url).get_data(as_text=True)
    assert "£121.00" in detail and "****5670" in detail and "12345670" not in detail
    summary = client.get(run_url + "/print").get_data(as_text=True)
    assert "Signature" in summary and "£121.00" in summary
    assert client.get(run_url + "/file?format=bacs18").get_data(as_text=True).startswith("VOL1")
    assert client.get(run_url + "/file?format=pdf").status_code == 302
    assert client.post(run_url + "/paid", data={"paid_on": PAY_ON.isoformat()}).status_code == 302
    with app.app_context():
        assert {db.session.get(Payment, i).status for i in three} == {"paid"}
    assert client.get("/payment-runs/").status_code == 200


def test_pages_show_each_refused_payment_and_write_nothing(app, client, login, make_person, three):
    cash = _payment(app, make_person("Cash"), "5.00", kind="cash")
    login("finance")
    resp = client.post(
        "/payment-runs/new", data={"payment_ids": [str(three[0]), str(cash)], "pay_on": PAY_ON.isoformat()}
    )
    assert resp.status_code == 422
    assert f"Payment {cash} is not a bank transfer." in resp.get_data(as_text=True)
    assert "error-summary" in resp.get_data(as_text=True)
    _nothing_written(app)
    missing_date = client.post("/payment-runs/new", data={"payment_ids": [str(three[0])]})
    assert missing_date.status_code == 422


def test_pages_cancel_and_bad_paid_date(app, client, login, finance, three):
    run = finance.post("/payment-runs", json={"payment_ids": three, "pay_on": PAY_ON.isoformat()}).get_json()
    login("finance")
    assert client.post(f"/payment-runs/{run['id']}/paid", data={"paid_on": "2025-02-30"}).status_code == 422
    assert client.post(f"/payment-runs/{run['id']}/cancel").status_code == 302
    with app.app_context():
        assert db.session.get(PaymentRun, run["id"]).status == "cancelled"
    resp = client.post(f"/payment-runs/{run['id']}/cancel")
    assert resp.status_code == 422 and "cancelled payment run" in resp.get_data(as_text=True)
    assert "error-summary" in resp.get_data(as_text=True)


def test_openapi_describes_the_run_and_bank_routes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/payment-runs",
        "/payment-runs/{run_id}",
        "/payment-runs/{run_id}/file",
        "/payment-runs/{run_id}/paid",
        "/payment-runs/{run_id}/cancel",
        "/people/{person_id}/bank-account",
    ):
        assert path in doc["paths"], path
    assert set(doc["paths"]["/people/{person_id}/bank-account"]) == {"get", "put"}
    for model in ("PaymentRunIn", "RunPaidIn", "BankAccountIn"):
        assert doc["components"]["schemas"][model]["additionalProperties"] is False


def test_a_payment_changed_meanwhile_stops_paying_them_all(app, three, make_user):
    """payments.pay_many's UPDATE is guarded by each payment's version: a change since it was read
    refuses the whole batch and writes nothing."""
    from tracker.auth.models import User
    from tracker.errors import Conflict
    from tracker.payments import service as payments

    uid = make_user("finance")
    with app.app_context():
        loaded = [db.session.get(Payment, i) for i in three]
        db.session.execute(
            sa.text("UPDATE payment SET status = 'cancelled', version = version + 1 WHERE id = :id"), {"id": three[1]}
        )
        with pytest.raises(Conflict) as e:
            payments.pay_many(
                loaded,
                actor=db.session.get(User, uid),
                paid_on=PAY_ON,
                method="bank transfer",
                reference="RUN-1",
                now=datetime.now(),
                today=today(),
            )
        assert e.value.code == "payment_changed"
        db.session.rollback()
        assert [db.session.get(Payment, i).status for i in three] == ["approved"] * 3


def test_a_payment_cancelled_after_the_run_was_made_leaves_it(app, finance, three):
    run = finance.post("/payment-runs", json={"payment_ids": three, "pay_on": PAY_ON.isoformat()}).get_json()
    assert finance.post(f"/payments/{three[0]}/cancel", json={"reason": "paid by cheque"}).status_code == 200
    body = finance.post(f"/payment-runs/{run['id']}/paid", json={"paid_on": PAY_ON.isoformat()}).get_json()
    assert body["count"] == 2 and body["total"] == "20.90"
    assert [r["id"] for r in body["removed"]] == [three[0]] and "no longer approved" in body["removed"][0]["reason"]


def test_check_moves_gives_what_checking_one_by_one_gives(app, rules, make_person):
    from tracker.engine.core import ProposedPayment
    from tracker.rules import checks

    carer = make_person("Carer", claims=[{"benefit": "CA", "start_on": date(2024, 1, 1)}])
    _payment(app, carer, "120.00", kind="cash", status="paid")
    first, second = _payment(app, carer, "50.00"), _payment(app, carer, "50.00")
    with app.app_context():
        proposals = [
            (pid, carer, ProposedPayment(kind="bank_transfer", amount=Decimal("50.00"), paid_on=PAY_ON))
            for pid in (first, second)
        ]
        many = checks.check_moves(proposals, PAY_ON, today=today())
        alone, _ = checks.check(carer, [proposals[0][2]], today=today(), exclude_payment_id=first)
    assert [v.to_dict() for v in many[first][0].verdicts] == [v.to_dict() for v in alone.verdicts]
    # 120 paid + 50 (the second, still approved) + 50 = 220, over the weekly 204: the first is blocked
    # and stays where it was; the second then sees 120 + 50 (the first, approved) + 50 and is blocked too.
    assert many[first][0].blocked and many[second][0].blocked


def test_check_moves_keeps_a_payments_due_date_and_covered_period_for_the_ones_after_it(app, rules, make_person):
    from tracker.engine import dates
    from tracker.engine.core import LedgerPayment, ProposedPayment
    from tracker.engine.pack import load_default_pack
    from tracker.rules import checks

    carer = make_person("Carer", claims=[{"benefit": "CA", "start_on": date(2024, 1, 1)}])
    first, second = _payment(app, carer, "300.00"), _payment(app, carer, "10.00")
    cover = {"due_on": PAY_ON, "covers_from": PAY_ON - timedelta(days=13), "covers_to": PAY_ON}
    with app.app_context():
        proposals = [
            (first, carer, ProposedPayment(kind="bank_transfer", amount=Decimal("300.00"), paid_on=PAY_ON, **cover)),
            (second, carer, ProposedPayment(kind="bank_transfer", amount=Decimal("10.00"), paid_on=PAY_ON)),
        ]
        many = checks.check_moves(proposals, PAY_ON, today=today())
    [week] = [v for v in many[second][0].verdicts if v.family == "CA_EARN"]
    ca = next(r for r in load_default_pack() if r.family == "CA_EARN")
    share = dates.portion(
        ca, LedgerPayment("bank_transfer", Decimal("300.00"), PAY_ON, **cover), week.period_start, week.period_end
    )
    # the first, moved, counts only its share of the days it covers in this week, not all £300
    assert week.total_before == share.amount < Decimal("300.00")
