"""Importing historical contributions and payments: a dry run that writes nothing, then all or nothing."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests.builders import activity, saved
from tracker.audit.models import AuditEvent
from tracker.contributions.models import Contribution
from tracker.extensions import db
from tracker.imports import service
from tracker.payments.models import Payment
from tracker.people.models import Person


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list], extra_sheet: bool = False) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "History"
    for row in rows:
        ws.append(row)
    if extra_sheet:
        wb.create_sheet("Notes").append(["not read"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, kind, data: bytes, filename: str, action="check", checked=None):
    form = {"kind": kind, "file": (io.BytesIO(data), filename), "action": action}
    if checked is not None:
        form["checked"] = checked
    return client.post("/imports/", data=form, content_type="multipart/form-data")


def problems(page: str) -> dict[int, str]:
    """The report table: {line: text of what is wrong}."""
    table = re.search(r'<table id="problems">(.*?)</table>', page, re.S)
    assert table, "no problems table on the page"
    out = {}
    for line, cell in re.findall(r'<th scope="row">(\d+)</th>\s*<td>(.*?)</td>', table.group(1), re.S):
        out[int(line)] = re.sub(r"<[^>]+>", " ", cell)
    return out


@pytest.fixture
def people(app, make_person):
    sam = make_person("Sam Jones", email="sam@example.org")
    zoe = make_person("Zoë Brontë", email="Zoe@Example.org")
    return {"sam": sam, "zoe": zoe}


GOOD_PAYMENTS = """person_email,person_id,kind,amount,paid_on,method,reference,note
sam@example.org,,bank_transfer,150.00,2025-03-31,BACS,BACS-0331,March panel
zoe@example.org,,voucher,"£1,234.56",07/04/2025,,V-1,Zoë’s vouchers
,{zoe},certificate,0.00,2025-04-02,,,Certificate of contribution
SAM@example.org,{sam},cash,0.1,2024-12-01,cash,,
"""


# ---- good files ---------------------------------------------------------------------------


def test_a_good_csv_of_payments_imports_every_row(app, client, login, people):
    uid = login("admin")
    data = csv_bytes(GOOD_PAYMENTS.format(**people))
    resp = upload(client, "payments", data, "history.csv", action="import")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Imported 4 payments for 2 people from history.csv, £1,384.66 in total, as drafts." in page
    with app.app_context():
        rows = db.session.scalars(sa.select(Payment).order_by(Payment.id)).all()
        # Drafts of one import, each carrying its benefit check: they count once someone else approves.
        assert [(p.person_id, p.kind, p.amount, p.paid_on, p.status) for p in rows] == [
            (people["sam"], "bank_transfer", Decimal("150.00"), date(2025, 3, 31), "draft"),
            (people["zoe"], "voucher", Decimal("1234.56"), date(2025, 4, 7), "draft"),
            (people["zoe"], "certificate", Decimal("0.00"), date(2025, 4, 2), "draft"),
            (people["sam"], "cash", Decimal("0.10"), date(2024, 12, 1), "draft"),
        ]
        assert all(type(p.amount) is Decimal for p in rows)
        assert rows[0].method == "BACS" and rows[0].reference == "BACS-0331" and rows[1].note == "Zoë’s vouchers"
        assert all(p.recorded_by_id == uid and p.paid_by_id is None for p in rows)
        assert len({p.import_batch_id for p in rows}) == 1 and rows[0].import_batch_id is not None
        assert all(p.check_snapshot is not None and p.check_snapshot["blocked"] is False for p in rows)
        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        imported = [e for e in events if e.action == "payment.imported"]
        assert sorted(e.entity_id for e in imported) == [p.id for p in rows]
        assert imported[0].after["amount"] == "150.00" and imported[0].after["import"]["line"] == 2
        (done,) = [e for e in events if e.action == "import.completed"]
        assert done.actor_id == uid
        assert done.after["rows"] == 4 and done.after["people"] == 2 and done.after["kind"] == "payments"
        assert done.after["total_amount"] == "1384.66" and done.after["file"] == "history.csv"
        assert db.session.get(Person, people["sam"]).ledger_version >= 1


def test_a_good_xlsx_of_contributions_imports_every_row(app, client, login, people):
    saved(app, activity, "Mental health panel", default_rate="20.00", rate_unit="hour")
    login("admin")
    data = xlsx_bytes(
        [
            [
                "Person email",
                "person_id",
                "worked_on",
                "hours",
                "preparation_hours",
                "activity",
                "value_owed",
                "description",
            ],
            ["sam@example.org", None, datetime(2025, 3, 14), 2.5, 0.5, "mental health PANEL", None, "Panel meeting"],
            [None, people["zoe"], date(2025, 3, 21), 3, None, None, 50.1, "Workshop"],
            [None, None, None, None, None, None, None, None],  # an empty row is skipped
            ["zoe@example.org", None, "2025-03-28", "1.25", "", "", "12.34", "@cmd"],
        ],
        extra_sheet=True,
    )
    check = upload(client, "contributions", data, "contributions.xlsx")
    page = check.get_data(as_text=True)
    assert check.status_code == 200, page
    assert "The file has no problems" in page and "Only the first sheet, “History”, was read." in page
    assert count(app, Contribution) == 0
    resp = upload(client, "contributions", data, "contributions.xlsx", action="import")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(sa.select(Contribution).order_by(Contribution.id)).all()
        got = [(c.person_id, c.worked_on, c.hours, c.preparation_hours, c.value_owed, c.description) for c in rows]
        assert got == [
            # the activity's rate: 2.5 hours × £20.00 (preparation is not paid for this activity)
            (people["sam"], date(2025, 3, 14), Decimal("2.50"), Decimal("0.50"), Decimal("50.00"), "Panel meeting"),
            (people["zoe"], date(2025, 3, 21), Decimal("3.00"), Decimal("0.00"), Decimal("50.10"), "Workshop"),
            (people["zoe"], date(2025, 3, 28), Decimal("1.25"), Decimal("0.00"), Decimal("12.34"), "@cmd"),
        ]
        assert rows[0].activity_id is not None and rows[1].activity_id is None
    assert count(app, AuditEvent, AuditEvent.action == "contribution.imported") == 3
    assert count(app, AuditEvent, AuditEvent.action == "import.completed") == 1


def test_a_good_xlsx_of_payments_keeps_amounts_exact(app, client, login, people):
    login("admin")
    data = xlsx_bytes(
        [
            ["person_email", "kind", "amount", "paid_on"],
            ["sam@example.org", "cash", 12.34, datetime(2025, 1, 31)],
            ["sam@example.org", "Bank transfer", 0.1, datetime(2025, 2, 28)],
            ["sam@example.org", "voucher", 150, datetime(2025, 2, 28)],
        ]
    )
    assert upload(client, "payments", data, "p.xlsx", action="import").status_code == 302
    with app.app_context():
        amounts = db.session.scalars(sa.select(Payment.amount).order_by(Payment.id)).all()
        kinds = db.session.scalars(sa.select(Payment.kind).order_by(Payment.id)).all()
    assert amounts == [Decimal("12.34"), Decimal("0.10"), Decimal("150.00")]
    assert kinds == ["cash", "bank_transfer", "voucher"]


def test_a_windows_1252_csv_is_read(app, client, login, people):
    login("admin")
    data = csv_bytes("person_email,kind,amount,paid_on,note\nsam@example.org,cash,£10.00,2025-01-02,café\n", "cp1252")
    assert upload(client, "payments", data, "old.csv", action="import").status_code == 302
    with app.app_context():
        p = db.session.scalars(sa.select(Payment)).one()
    assert p.amount == Decimal("10.00") and p.note == "café"


# ---- the dry run ----------------------------------------------------------------------------


def test_checking_writes_nothing_and_offers_the_import(app, client, login, people):
    login("admin")
    data = csv_bytes(GOOD_PAYMENTS.format(**people))
    before = count(app, AuditEvent)
    resp = upload(client, "payments", data, "history.csv")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "The file has no problems" in page and "Nothing has been imported yet" in page
    assert "Import 4 payments" in page and 'value="import"' in page
    assert "Step 2: import the file" in page
    assert count(app, Payment) == 0 and count(app, AuditEvent) == before
    # The fingerprint of the checked file goes back with the form.
    digest = re.search(r'name="checked" type="hidden" value="([0-9a-f]{64})"', page).group(1)
    other = upload(
        client,
        "payments",
        data + b"sam@example.org,,cash,1.00,2025-01-01,,,\r\n",
        "history.csv",
        action="import",
        checked=digest,
    )
    assert other.status_code == 422 and "This is not the file you checked" in other.get_data(as_text=True)
    assert count(app, Payment) == 0
    same = upload(client, "payments", data, "history.csv", action="import", checked=digest)
    assert same.status_code == 302 and count(app, Payment) == 4


def test_a_row_already_recorded_is_a_warning_not_a_problem(app, client, login, people):
    login("admin")
    data = csv_bytes(GOOD_PAYMENTS.format(**people))
    assert upload(client, "payments", data, "history.csv", action="import").status_code == 302
    # Another file (one more row) with the same rows: the repeats are warnings.
    more = data + b"sam@example.org,,cash,1.00,2025-01-01,,,\r\n"
    again = upload(client, "payments", more, "history-2.csv")
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "Rows to look at before you import" in page and "do not import it again" in page


@pytest.mark.parametrize("action", ["check", "import"])
def test_the_same_file_twice_is_refused_naming_when_it_was_imported(app, client, login, people, action):
    login("admin")
    data = csv_bytes(GOOD_PAYMENTS.format(**people))
    assert upload(client, "payments", data, "history.csv", action="import").status_code == 302
    before = count(app, AuditEvent)
    again = upload(client, "payments", data, "renamed.csv", action=action)
    page = again.get_data(as_text=True)
    assert again.status_code == 422
    assert re.search(r"This file was already imported on \d+ \w+ \d{4} at \d\d:\d\d UK time \(import \d+\)", page)
    assert count(app, Payment) == 4 and count(app, AuditEvent) == before


# ---- bad rows: nothing is imported ----------------------------------------------------------

BAD_PAYMENTS = """person_email,kind,amount,paid_on,note
sam@example.org,cash,10.00,2025-01-02,fine
sam@example.org,cash,1.005,2025-01-02,three decimals
sam@example.org,cash,10.00,2025-02-30,no such day
nobody@example.org,cash,10.00,2025-01-02,unknown person
sam@example.org,cash,-5.00,2025-01-02,negative
sam@example.org,certificate,25.00,2025-01-02,certificate with money
sam@example.org,gold,10.00,2025-01-02,unknown kind
sam@example.org,cash,,2025-01-02,no amount
sam@example.org,cash,10.00,2099-01-01,future
,cash,10.00,2025-01-02,no person
sam@example.org,cash,10.00,2025-01-02,too,many
sam@example.org,cash,1e9999,2025-01-02,huge
"""


@pytest.mark.parametrize("action", ["check", "import"])
def test_a_file_with_bad_rows_imports_nothing_and_names_every_line(app, client, login, people, action):
    login("admin")
    before = count(app, AuditEvent)
    resp = upload(client, "payments", csv_bytes(BAD_PAYMENTS), "bad.csv", action=action)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert count(app, Payment) == 0 and count(app, AuditEvent) == before
    assert "Nothing was imported" in page if action == "import" else "Nothing was changed" in page
    found = problems(page)
    assert sorted(found) == list(range(3, 14))
    assert "amount “1.005”" in found[3] and "at most 2 decimal places" in found[3]
    assert "paid_on “2025-02-30”" in found[4] and "date does not exist" in found[4]
    assert "nobody@example.org" in found[5] and "No person has this email address" in found[5]
    assert "cannot be negative" in found[6]
    assert "certificate carries no money" in found[7]
    assert "kind “gold”" in found[8] and "Choose one of" in found[8]
    assert "amount: Enter an amount" in found[9]
    assert "in the future" in found[10]
    assert "person_email or person_id" in found[11] or "person_id" in found[11]
    assert "more values than the header has columns" in found[12]
    assert "far too large" in found[13]


def test_bad_contribution_rows(app, client, login, people):
    login("admin")
    text = """person_id,worked_on,hours,activity,value_owed
{sam},2025-01-02,30,,
{sam},2025-01-02,0,,
{sam},,2,,
{sam},2025-01-02,2,No such activity,
{sam},2025-01-02,2,,12.345
999999,2025-01-02,2,,
abc,2025-01-02,2,,
99999999999999999999,2025-01-02,2,,
{sam},2025-01-02,1e9999,,
{sam},2025-01-02,2,,-1E-9999
""".format(**people)
    resp = upload(client, "contributions", csv_bytes(text), "c.csv", action="import")
    assert resp.status_code == 422
    found = problems(resp.get_data(as_text=True))
    assert sorted(found) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "hours “30”" in found[2] and "at most 24 hours" in found[2]
    assert "above 0" in found[3]
    assert "worked_on" in found[4]
    assert "no activity with this name" in found[5]
    assert "value_owed “12.345”" in found[6]
    assert "no person with this number" in found[7]
    assert "whole number" in found[8]
    assert "no person with this number" in found[9]
    assert "hours “1e9999”: This number is far too large." in found[10]
    assert "value_owed “-1E-9999”" in found[11]
    assert count(app, Contribution) == 0


def test_an_xlsx_float_with_three_decimals_is_refused(app, client, login, people):
    login("admin")
    data = xlsx_bytes(
        [
            ["person_email", "kind", "amount", "paid_on"],
            ["sam@example.org", "cash", 1.005, datetime(2025, 1, 2)],
            ["sam@example.org", "cash", float("nan"), datetime(2025, 1, 2)],
            ["sam@example.org", "cash", True, datetime(2025, 1, 2)],
            ["sam@example.org", "cash", 1e308, datetime(2025, 1, 2)],
        ]
    )
    resp = upload(client, "payments", data, "p.xlsx", action="import")
    found = problems(resp.get_data(as_text=True))
    assert resp.status_code == 422 and sorted(found) == [2, 3, 4, 5]
    assert "at most 2 decimal places" in found[2]
    assert count(app, Payment) == 0


def test_a_missing_column_is_reported_on_line_1(app, client, login, people):
    login("admin")
    text = "person_email,kind,paid_on,colour\nsam@example.org,cash,2025-01-01,red\n"
    resp = upload(client, "payments", csv_bytes(text), "p.csv")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert problems(page)[1] == "The file has no column “amount”."
    assert "These columns are not used and were ignored: colour." in page
    resp = upload(client, "payments", csv_bytes("kind,amount,paid_on\ncash,1.00,2025-01-01\n"), "p.csv")
    assert "no column “person_email” or “person_id”" in problems(resp.get_data(as_text=True))[1]


def test_too_many_rows_is_a_clear_message(app, client, login, people, monkeypatch):
    monkeypatch.setattr(service, "MAX_ROWS", 3)
    login("admin")
    rows = "".join("sam@example.org,cash,1.00,2025-01-01\n" for _ in range(4))
    resp = upload(client, "payments", csv_bytes("person_email,kind,amount,paid_on\n" + rows), "p.csv", action="import")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "more than 3 rows" in page and "Split it" in page
    assert count(app, Payment) == 0


# ---- the form --------------------------------------------------------------------------------


def test_the_page_documents_the_columns(client, login):
    login("admin")
    resp = client.get("/imports/")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'enctype="multipart/form-data"' in page and 'accept=".csv,.xlsx"' in page
    for name in (
        "person_email",
        "person_id",
        "worked_on",
        "hours",
        "preparation_hours",
        "activity",
        "value_owed",
        "description",
        "kind",
        "amount",
        "paid_on",
        "method",
        "reference",
        "note",
    ):
        assert f"<code>{name}</code>" in page, name
    assert "/imports/template/payments.csv" in page and "/imports/template/contributions.csv" in page
    assert "<caption>Columns of a payments file</caption>" in page


@pytest.mark.parametrize("kind", ["contributions", "payments"])
def test_template_download(client, login, kind):
    login("admin")
    resp = client.get(f"/imports/template/{kind}.csv")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{kind}-template.csv"'
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == list(service.SPECS[kind].names)
    assert len(lines) == 3


def test_wrong_file_type_and_missing_fields_are_form_errors(app, client, login):
    login("admin")
    resp = upload(client, "payments", b"hello", "notes.txt")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "There is a problem" in page and "must be a CSV file (.csv) or an Excel workbook (.xlsx)" in page
    resp = client.post("/imports/", data={"kind": "", "action": "check"}, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Choose whether the file holds contributions or payments." in page
    assert "Choose a CSV file (.csv) or an Excel workbook (.xlsx) to upload." in page
    resp = upload(client, "refunds", b"a,b\n1,2\n", "x.csv")
    assert resp.status_code == 422 and "Choose whether the file holds" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"this is not a zip", "fake.xlsx", "could not be opened as an Excel workbook"),
        (b"", "empty.csv", "The file is empty."),
        (b"\r\n\r\n", "blank.csv", "The file is empty."),
        ("person_email,kind\n".encode("utf-16"), "utf16.csv", "does not look like a CSV file"),
        (b",,,\r\nsam@example.org,cash,1.00,2025-01-01\r\n", "noheader.csv", "Line 1 must be the header row"),
    ],
)
def test_unreadable_files_are_form_errors(app, client, login, data, filename, message):
    login("admin")
    resp = upload(client, "payments", data, filename, action="import")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422, page
    assert message in page
    assert count(app, Payment) == 0


def test_a_header_only_file_has_nothing_to_import(client, login, people):
    login("admin")
    resp = upload(client, "payments", b"person_email,kind,amount,paid_on\r\n", "h.csv", action="import")
    assert resp.status_code == 422 and "no rows to import" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["finance", "coordinator", "contributor"])
def test_only_admins_may_import(client, login, role):
    login(role)
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/template/payments.csv").status_code == 403
    assert upload(client, "payments", b"a\r\n", "a.csv").status_code == 403


def test_a_file_over_the_upload_limit_is_a_413_page(app, client, login):
    login("admin")
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    resp = upload(client, "payments", big, "big.csv")
    assert resp.status_code == 413
    assert "That upload is too large" in resp.get_data(as_text=True)


def test_payments_import_their_due_dates_and_covered_periods(app, client, login, people):
    login("admin")  # imports are the admin's
    text = (
        "person_email,kind,amount,paid_on,due_on,covers_from,covers_to\n"
        "sam@example.org,cash,40.00,2025-04-16,2025-04-13,2025-03-31,2025-04-13\n"
        "sam@example.org,cash,10.00,2025-04-16,,,\n"
    )
    resp = upload(client, "payments", csv_bytes(text), "dated.csv", action="import")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(sa.select(Payment).order_by(Payment.id)).all()
        assert [(p.due_on, p.covers_from, p.covers_to) for p in rows] == [
            (date(2025, 4, 13), date(2025, 3, 31), date(2025, 4, 13)),
            (date(2025, 4, 16), None, None),
        ]


def test_a_covered_period_out_of_order_is_a_problem_on_its_line(app, client, login, people):
    login("admin")  # imports are the admin's
    text = (
        "person_email,kind,amount,paid_on,covers_from,covers_to\n"
        "sam@example.org,cash,40.00,2025-04-16,2025-04-13,2025-03-31\n"
    )
    resp = upload(client, "payments", csv_bytes(text), "bad.csv", action="import")
    assert resp.status_code == 422 and count(app, Payment) == 0
    assert "covers_to" in problems(resp.get_data(as_text=True))[2]
