"""CSV and XLSX exports: exactly the filtered rows, safe against formula injection, exact money."""

from __future__ import annotations

import csv
import io
import time
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.builders import activity, contribution, expense, payment, saved
from tracker.extensions import db
from tracker.payments import queries
from tracker.payments.models import Payment

EVIL_NAME = '=HYPERLINK("http://x","y")'
EVIL_NOTE = "+SUM(1)"


def fetch(client, url, **kw):
    """GET and read the whole body, so a streamed download is finished and closed."""
    resp = client.get(url, **kw)
    resp.get_data()
    resp.close()
    return resp


def read_csv(resp) -> list[dict]:
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "CSV starts with a UTF-8 byte order mark"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def read_xlsx(resp):
    wb = load_workbook(io.BytesIO(resp.get_data()))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    return [{h: c for h, c in zip(header, r)} for r in rows[1:]]


@pytest.fixture
def ledger(app, make_person):
    """Two people, payments on several dates, one reversal, and people with awkward names."""
    alex = make_person("Alex Example")
    zoe = make_person("Zoë Brontë")
    evil = make_person(EVIL_NAME)
    ids = {}
    ids["alex_jan"] = saved(app, payment, alex, "150.00", date(2025, 1, 15), reference="BACS-1")
    ids["alex_feb"] = saved(
        app, payment, alex, "75.50", date(2025, 2, 10), kind="voucher", note="£20 supermarket voucher"
    )
    ids["alex_mar"] = saved(app, payment, alex, "20.00", date(2025, 3, 5), status="draft")
    ids["zoe_feb"] = saved(app, payment, zoe, "60.00", date(2025, 2, 11), note="Zoë’s panel")
    ids["evil"] = saved(
        app, payment, evil, "50.00", date(2025, 2, 12), note=EVIL_NOTE, reference="@SUM(A1)", method="-2+3"
    )
    ids["reversal"] = saved(
        app,
        payment,
        evil,
        "-50.00",
        date(2025, 2, 12),
        note=EVIL_NOTE,
        reversal_of=ids["evil"],
        reason="=1+1 wrong person",
    )
    return {"alex": alex, "zoe": zoe, "evil": evil, **ids}


# ---- exactly the filtered rows -------------------------------------------------------------


def test_csv_holds_exactly_the_filtered_rows(app, client, login, ledger, api_as):
    args = {"person_id": ledger["alex"], "from": "2025-02-01", "to": "2025-03-31"}
    login("finance")
    # page and per_page choose a page of a list: an export ignores them and holds every row.
    resp = fetch(client, "/exports/payments.csv", query_string={**args, "page": 2, "per_page": 1})
    assert resp.status_code == 200
    got = [int(r["id"]) for r in read_csv(resp)]
    assert got == [ledger["alex_mar"], ledger["alex_feb"]]
    with app.app_context():
        expected = [p.id for p in db.session.scalars(queries.payments_query(queries.parse_filters(args)))]
    assert got == expected
    listed = api_as("finance").get("/payments", query_string={**args, "per_page": 200}).get_json()
    assert got == [p["id"] for p in listed["items"]]


def test_every_filter_narrows_the_export(app, client, login, ledger):
    login("finance")
    by_status = read_csv(fetch(client, "/exports/payments.csv?status=draft"))
    assert [int(r["id"]) for r in by_status] == [ledger["alex_mar"]]
    by_kind = read_csv(fetch(client, "/exports/payments.csv?kind=voucher"))
    assert [int(r["id"]) for r in by_kind] == [ledger["alex_feb"]]
    everyone = read_csv(fetch(client, "/exports/payments.csv"))
    assert len(everyone) == 6
    xlsx = read_xlsx(fetch(client, "/exports/payments.xlsx", query_string={"person_id": ledger["zoe"]}))
    assert [r["id"].value for r in xlsx] == [ledger["zoe_feb"]]


def test_an_export_holds_every_row_not_one_page(app, client, login, make_person):
    pid = make_person("Many Payments")
    with app.app_context():
        db.session.execute(
            sa.insert(Payment),
            [
                {
                    "person_id": pid,
                    "kind": "cash",
                    "amount": Decimal("1.01"),
                    "paid_on": date(2024, 1, 1),
                    "status": "paid",
                    "currency": "GBP",
                    "version": 1,
                }
                for _ in range(2500)
            ],
        )
        db.session.commit()
    login("admin")
    started = time.monotonic()
    rows = read_csv(fetch(client, "/exports/payments.csv"))
    assert len(rows) == 2500 and all(r["amount"] == "1.01" for r in rows)
    assert len(read_xlsx(fetch(client, "/exports/payments.xlsx"))) == 2500
    assert time.monotonic() - started < 30


# ---- formula injection, money and characters ------------------------------------------------


def test_csv_escapes_user_text_but_not_numbers(client, login, ledger):
    login("finance")
    rows = {int(r["id"]): r for r in read_csv(fetch(client, "/exports/payments.csv"))}
    evil, reversal = rows[ledger["evil"]], rows[ledger["reversal"]]
    assert evil["person"] == "'" + EVIL_NAME
    assert evil["note"] == "'" + EVIL_NOTE
    assert evil["reference"] == "'@SUM(A1)"
    assert evil["method"] == "'-2+3"
    assert reversal["reason"] == "'=1+1 wrong person"
    # Numbers we generate are not escaped: a reversal's negative amount stays a plain number.
    assert evil["amount"] == "50.00"
    assert reversal["amount"] == "-50.00"
    assert reversal["reversal_of"] == str(ledger["evil"])
    assert rows[ledger["alex_jan"]]["amount"] == "150.00"
    assert rows[ledger["alex_jan"]]["paid_on"] == "2025-01-15"
    assert rows[ledger["alex_feb"]]["person"] == "Alex Example"


def test_xlsx_writes_user_text_as_strings_and_amounts_as_exact_numbers(client, login, ledger):
    login("finance")
    rows = {r["id"].value: r for r in read_xlsx(fetch(client, "/exports/payments.xlsx"))}
    evil, reversal = rows[ledger["evil"]], rows[ledger["reversal"]]
    for cell, text in (
        (evil["person"], EVIL_NAME),
        (evil["note"], EVIL_NOTE),
        (evil["reference"], "@SUM(A1)"),
        (reversal["reason"], "=1+1 wrong person"),
    ):
        assert cell.data_type == "s", cell.value
        assert cell.value == text
    assert evil["person"].value.startswith("=")
    for row_id, expected in (
        (ledger["evil"], "50.00"),
        (ledger["reversal"], "-50.00"),
        (ledger["alex_jan"], "150.00"),
        (ledger["alex_feb"], "75.50"),
    ):
        cell = rows[row_id]["amount"]
        assert cell.data_type == "n" and not isinstance(cell.value, str)
        assert cell.number_format == "0.00"
        assert Decimal(str(cell.value)) == Decimal(expected)
    assert rows[ledger["alex_jan"]]["paid_on"].value.date() == date(2025, 1, 15)


def test_pound_signs_and_accents_survive(client, login, ledger):
    login("finance")
    resp = fetch(client, "/exports/payments.csv")
    rows = {int(r["id"]): r for r in read_csv(resp)}
    assert rows[ledger["zoe_feb"]]["person"] == "Zoë Brontë"
    assert rows[ledger["zoe_feb"]]["note"] == "Zoë’s panel"
    assert rows[ledger["alex_feb"]]["note"] == "£20 supermarket voucher"
    xlsx = {r["id"].value: r for r in read_xlsx(fetch(client, "/exports/payments.xlsx"))}
    assert xlsx[ledger["zoe_feb"]]["person"].value == "Zoë Brontë"
    assert xlsx[ledger["alex_feb"]]["note"].value == "£20 supermarket voucher"


def test_download_headers(client, login, ledger):
    login("finance")
    today = date.today().isoformat()
    resp = fetch(client, "/exports/payments.csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="payments-{today}.csv"'
    assert resp.headers["Cache-Control"] == "no-store"
    resp = fetch(client, "/exports/expenses.xlsx")
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="expenses-{today}.xlsx"'
    assert resp.headers["Cache-Control"] == "no-store"


def test_control_characters_do_not_break_the_workbook(app, client, login, make_person):
    pid = make_person("Tab\tand\x0bvertical")
    saved(app, payment, pid, "10.00", date(2025, 1, 1), note="\x01=cmd", reference="\tTAB")
    login("finance")
    (row,) = read_xlsx(fetch(client, "/exports/payments.xlsx"))
    assert row["person"].value == "Tab\tandvertical"  # a tab is allowed in XML; \x0b is not
    assert row["note"].data_type == "s" and row["note"].value == "=cmd"
    (line,) = read_csv(fetch(client, "/exports/payments.csv"))
    assert line["reference"] == "'\tTAB"


# ---- contributions and expenses ------------------------------------------------------------


def test_contributions_export(app, client, login, make_person):
    pid = make_person("Zoë Brontë")
    other = make_person("Someone Else")
    act = saved(app, activity, "=Panel", default_rate="20.00")
    ids = [
        saved(
            app,
            contribution,
            pid,
            date(2025, 3, 1),
            "2.50",
            activity=act,
            preparation_hours=Decimal("0.50"),
            value_owed="50.00",
            description="-notes",
        ),
        saved(app, contribution, other, date(2025, 3, 2), "1.00", value_owed="0.00"),
    ]
    login("coordinator")
    rows = read_csv(fetch(client, "/exports/contributions.csv", query_string={"activity_id": act}))
    assert [int(r["id"]) for r in rows] == [ids[0]]
    (r,) = rows
    assert (r["person"], r["hours"], r["preparation_hours"], r["value_owed"]) == ("Zoë Brontë", "2.50", "0.50", "50.00")
    assert r["activity"] == "'=Panel" and r["description"] == "'-notes" and r["worked_on"] == "2025-03-01"
    xlsx = read_xlsx(fetch(client, "/exports/contributions.xlsx", query_string={"person_id": pid}))
    (x,) = xlsx
    assert Decimal(str(x["hours"].value)) == Decimal("2.50") and x["hours"].data_type == "n"
    assert Decimal(str(x["value_owed"].value)) == Decimal("50.00")
    assert x["activity"].data_type == "s" and x["activity"].value == "=Panel"


def test_expenses_export(app, client, login, make_person):
    pid = make_person("Expense Person")
    eid = saved(
        app, expense, pid, "12.34", date(2025, 1, 2), date(2025, 1, 9), description="@bus fare", receipt_ref="R-1"
    )
    login("finance")
    (r,) = read_csv(fetch(client, "/exports/expenses.csv"))
    assert (int(r["id"]), r["amount"], r["description"], r["paid_on"]) == (eid, "12.34", "'@bus fare", "2025-01-09")
    (x,) = read_xlsx(fetch(client, "/exports/expenses.xlsx", query_string={"from": "2025-01-01"}))
    assert Decimal(str(x["amount"].value)) == Decimal("12.34")
    assert read_xlsx(fetch(client, "/exports/expenses.xlsx", query_string={"from": "2025-02-01"})) == []


# ---- who may download, and bad filters -----------------------------------------------------

ALL_EXPORTS = [
    f"/exports/{what}.{fmt}" for what in ("payments", "contributions", "expenses") for fmt in ("csv", "xlsx")
]


def test_contributor_gets_403_everywhere(client, login, make_person):
    login("contributor")
    for url in ALL_EXPORTS:
        assert fetch(client, url).status_code == 403, url


def test_coordinator_may_export_contributions_only(client, login):
    login("coordinator")
    for url in ALL_EXPORTS:
        assert fetch(client, url).status_code == (200 if "contributions" in url else 403), url


def test_signed_out_is_sent_to_sign_in(client):
    resp = fetch(client, "/exports/payments.csv")
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]


@pytest.mark.parametrize(
    "query",
    [
        "from=2025-02-30",
        "person_id=abc",
        "status=lost",
        "kind=gold",
        "from=2025-03-01&to=2025-02-01",
        "activity_id=0",
        "person_id=99999999999999999999",
        "activity_id=9223372036854775808",
    ],
)
def test_bad_filters_are_a_422_page(client, login, query):
    login("admin")
    for url in ALL_EXPORTS:
        resp = fetch(client, f"{url}?{query}")
        assert resp.status_code == 422, (url, query)
        page = resp.get_data(as_text=True)
        assert "There is a problem with the filters" in page
        assert "attachment" not in resp.headers.get("Content-Disposition", "")
