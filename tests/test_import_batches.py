"""Imports cannot bypass the ledger's rules: admins only, a file once, payments as drafts carrying
their benefit check that count only once a second person approves the file, files measured before
they are opened, and large files checked by the worker with their progress shown."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from openpyxl import Workbook

from tests.builders import assert_error, pay
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.imports import measure, service
from tracker.imports.models import ImportBatch
from tracker.payments.models import Payment

HEADER = "person_id,kind,amount,paid_on,note,override_reason\r\n"


def upload(client, data: bytes, filename: str = "history.csv", action: str = "import", kind: str = "payments"):
    form = {"kind": kind, "file": (io.BytesIO(data), filename), "action": action}
    return client.post("/imports/", data=form, content_type="multipart/form-data")


def csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\r\n" for r in rows)).encode()


def batch_of(app) -> ImportBatch:
    with app.app_context():
        newest = sa.select(ImportBatch).options(so.undefer(ImportBatch.content)).order_by(ImportBatch.id.desc())
        found = db.session.scalars(newest).first()
        assert found is not None
        db.session.expunge(found)
        return found


def statuses(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Payment.status).order_by(Payment.id)))


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


# ---- a second person, and then they count -----------------------------------------------------


def test_imported_payments_count_only_once_another_admin_approves_the_file(app, client, login, api_as, carer):
    check = api_as("coordinator")
    importer = login("admin")
    resp = upload(client, csv(f"{carer},cash,150.00,2025-04-07,March,"))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    batch = batch_of(app)
    assert resp.headers["Location"].endswith(f"/imports/{batch.id}")
    assert batch.status == "waiting_approval" and batch.uploaded_by_id == importer
    assert statuses(app) == ["draft"]

    # Not counted yet: £100 more in the same Carer's Allowance week is within £196.
    before = check.post("/payments/check", json=pay(carer, "100.00", "2025-04-09")).get_json()
    assert before["blocked"] is False

    # The importer cannot approve their own file, on the page or payment by payment.
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "Someone other than the person who imported the file must approve it." in page
    assert "Approve the import" not in page
    assert client.post(f"/imports/{batch.id}/approve").status_code == 403
    with app.app_context():
        payment_id = db.session.scalar(sa.select(Payment.id))
    finance = api_as("finance")
    assert_error(finance.post(f"/payments/{payment_id}/approve"), 409, "invalid_transition")
    shown = finance.get(f"/payments/{payment_id}").get_json()
    assert shown["import_batch_id"] == batch.id and shown["status"] == "draft"
    assert statuses(app) == ["draft"]

    approver = login("admin")
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "Approve the import" in page
    resp = client.post(f"/imports/{batch.id}/approve")
    assert resp.status_code == 302
    assert "The import is approved" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert statuses(app) == ["paid"]
    approved = batch_of(app)
    assert approved.status == "approved" and approved.approved_by_id == approver

    # Now it counts: the same £100 would take the week over the limit.
    after = check.post("/payments/check", json=pay(carer, "100.00", "2025-04-09")).get_json()
    assert after["blocked"] is True
    # Approving twice is a conflict, not a second approval.
    assert client.post(f"/imports/{batch.id}/approve").status_code == 409
    with app.app_context():
        events = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.entity_id).order_by(AuditEvent.id)
        ).all()
    mine = [(a, who) for a, who, _ in events if a.startswith(("import.", "payment."))]
    assert mine == [
        ("import.started", importer),
        ("payment.imported", importer),
        ("import.completed", importer),
        ("payment.approved", approver),
        ("import.approved", approver),
    ]
    assert [e for a, _, e in events if a == "payment.approved"] == [payment_id]


def test_the_payment_page_says_it_was_imported(app, client, login, carer):
    login("admin")
    upload(client, csv(f"{carer},cash,20.00,2025-04-07,,"))
    with app.app_context():
        payment_id = db.session.scalar(sa.select(Payment.id))
    page = client.get(f"/payments/{payment_id}").get_data(as_text=True)
    assert "This payment was imported from a file" in page and "does not count until" in page


def test_rejecting_an_import_cancels_its_payments_and_frees_the_file(app, client, login, carer):
    login("admin")
    data = csv(f"{carer},cash,20.00,2025-04-07,,")
    assert upload(client, data).status_code == 302
    batch = batch_of(app)
    login("admin")
    assert client.post(f"/imports/{batch.id}/reject").status_code == 302
    assert statuses(app) == ["cancelled"] and batch_of(app).status == "rejected"
    assert "import.rejected" in actions(app)
    assert upload(client, data).status_code == 302  # a rejected file may be imported again
    assert statuses(app) == ["cancelled", "draft"]


# ---- the benefit check ----------------------------------------------------------------------


def test_a_payment_that_breaks_a_rule_needs_a_reason_and_the_approver_sees_it(app, client, login, carer):
    login("admin")
    rows = (f"{carer},cash,150.00,2025-04-07,,", f"{carer},cash,100.00,2025-04-09,,")
    resp = upload(client, csv(*rows))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Nothing was imported" in page
    assert re.search(r'<th scope="row">3</th>\s*<td>Paid on this date, this payment breaks a benefit rule', page)
    assert "override_reason" in page
    assert statuses(app) == [] and batch_of_count(app) == 0

    reason = "Paid in error in 2025; the person told DWP"
    resp = upload(client, csv(rows[0], rows[1] + reason))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    batch = batch_of(app)
    assert batch.overridden == 1
    with app.app_context():
        blocked = db.session.scalars(sa.select(Payment).where(Payment.override_reason.is_not(None))).one()
        assert blocked.check_snapshot["blocked"] is True and blocked.status == "draft"
        override = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "payment.override")).one()
        assert override.entity_id == blocked.id and override.reason == reason
    login("admin")
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "Payments that break a benefit rule: 1" in page and reason in page
    assert "Carer" in page  # the rule's title, for the admin approving


def batch_of_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(ImportBatch.id)))


# ---- measured before it is opened -------------------------------------------------------------


def _workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["person_id", "kind", "amount", "paid_on"])
    ws.append(["1", "cash", "1.00", "2025-01-01"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _replaced(part: str, content: bytes) -> bytes:
    """The small workbook with one part replaced (or added)."""
    src = zipfile.ZipFile(io.BytesIO(_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != part:
                dst.writestr(info.filename, src.read(info.filename))
        dst.writestr(part, content)
    return out.getvalue()


SST = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    "part, content, message",
    [
        # Two million shared strings in a small file.
        ("xl/sharedStrings.xml", SST + b">" + b"<si><t>x</t></si>" * 2_000_000 + b"</sst>", "unpacks to"),
        # The same, as the part's own count says.
        (
            "xl/sharedStrings.xml",
            SST + b' count="2000000" uniqueCount="2000000"><si><t>x</t></si></sst>',
            "2,000,000 different pieces of text",
        ),
        # Not declared and under the size limits, but too many to build in memory.
        ("xl/sharedStrings.xml", SST + b">" + b"<si><t>x</t></si>" * 250_000 + b"</sst>", "different pieces of text"),
        # A sheet that says it spans nine hundred thousand rows.
        (
            "xl/worksheets/sheet1.xml",
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<dimension ref="A1:D900000"/><sheetData/></worksheet>',
            "spans 900,000 rows",
        ),
        # A huge part that packs small.
        ("xl/media/padding.bin", b"\0" * 60_000_000, "unpacks to 57 MB"),
    ],
)
def test_a_workbook_too_big_to_read_safely_is_refused_before_it_is_opened(
    app, client, login, monkeypatch, part, content, message
):
    data = _replaced(part, content)
    assert len(data) < 1_000_000
    import openpyxl

    def never(*a, **k):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    login("admin")
    started = time.monotonic()
    resp = upload(client, data, "bomb.xlsx", action="check")
    took = time.monotonic() - started
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422, page
    assert message in page
    assert took < 1.0, took
    assert batch_of_count(app) == 0


def test_a_csv_with_too_many_lines_is_refused_before_it_is_read(client, login, monkeypatch):
    monkeypatch.setattr(service, "MAX_LINES", 10)
    monkeypatch.setattr(measure, "MAX_LINES", 10)
    monkeypatch.setattr(service, "read_table", lambda *a: pytest.fail("the file was read"))
    login("admin")
    resp = upload(client, csv(*["1,cash,1.00,2025-01-01,,"] * 12), action="check")
    assert resp.status_code == 422 and "more than 10 lines" in resp.get_data(as_text=True)


# ---- large files: the worker, with progress ----------------------------------------------------


def test_a_large_file_is_checked_and_imported_by_the_worker_with_progress(
    app, client, login, carer, make_person, sent, monkeypatch
):
    from tasks.imports import run_import
    from tracker.rules import checks

    other = make_person("Second Person")
    monkeypatch.setattr(measure, "INLINE_ROWS", 2)
    monkeypatch.setattr(service, "PROGRESS_EVERY", 1)
    login("admin")
    rows = [f"{carer},cash,10.00,2025-04-0{d},," for d in (7, 8)] + [
        f"{other},cash,5.00,2025-04-0{d},," for d in (7, 8)
    ]
    data = csv(*rows)

    checked = upload(client, data, action="check")
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "too many to check while you wait" in page
    assert batch_of_count(app) == 0 and sent == []

    monkeypatch.setattr(service, "check_file", lambda *a, **k: pytest.fail("the web process read the file"))
    resp = upload(client, data)
    assert resp.status_code == 302
    monkeypatch.undo()
    monkeypatch.setattr(service, "PROGRESS_EVERY", 1)
    batch = batch_of(app)
    assert sent == [("tracker.imports.run", [batch.id])]
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "Being checked" in page and 'id="rows-done">0<' in page and "Check again" in page

    # What another process sees while the worker is checking: progress committed as it goes.
    seen = []
    real = checks.check_series

    def watch(person_id, proposed, **kw):
        with db.engine.connect() as conn:
            seen.append(
                conn.execute(sa.text(f"SELECT rows_done, checks_done FROM import_batch WHERE id = {batch.id}")).one()
            )
        return real(person_id, proposed, **kw)

    monkeypatch.setattr(checks, "check_series", watch)
    with app.app_context():
        assert run_import(batch.id) == "waiting_approval"
        assert run_import(batch.id) == "waiting_approval"  # a second delivery does nothing
    assert seen == [(4, 0), (4, 2)]
    done = batch_of(app)
    assert (done.rows_done, done.checks_done, done.rows_imported, done.content) == (4, 4, 4, None)
    assert statuses(app) == ["draft"] * 4
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "Waiting for approval by someone else" in page and "4 payments" in page


def test_a_large_file_with_problems_fails_in_the_worker_and_can_be_tried_again(
    app, client, login, carer, sent, monkeypatch
):
    from tasks.imports import run_import

    monkeypatch.setattr(measure, "INLINE_ROWS", 1)
    login("admin")
    data = csv(f"{carer},cash,10.00,2025-04-07,,", f"{carer},gold,10.00,2025-04-08,,")
    assert upload(client, data).status_code == 302
    batch = batch_of(app)
    with app.app_context():
        assert run_import(batch.id) == "failed"
    failed = batch_of(app)
    assert failed.status == "failed" and failed.held_sha256 is None
    assert failed.problems[0]["line"] == 3 and "kind “gold”" in failed.problems[0]["messages"][0]
    assert statuses(app) == []
    page = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    assert "Nothing was imported" in page and "kind “gold”" in page
    assert "import.failed" in actions(app)
    assert upload(client, data).status_code == 302  # not refused as a repeat: nothing was imported


def test_a_worker_that_breaks_marks_the_import_failed(app, client, login, carer, sent, monkeypatch):
    from tasks.imports import run_import

    monkeypatch.setattr(measure, "INLINE_ROWS", 0)
    login("admin")
    assert upload(client, csv(f"{carer},cash,10.00,2025-04-07,,")).status_code == 302
    batch = batch_of(app)
    monkeypatch.setattr(service, "check_file", lambda *a, **k: (_ for _ in ()).throw(KeyError("boom")))
    with app.app_context(), pytest.raises(KeyError):
        run_import(batch.id)
    failed = batch_of(app)
    assert failed.status == "failed" and "KeyError" in failed.error and failed.held_sha256 is None


def test_two_deliveries_finishing_one_import_write_it_once(app, carer):
    from datetime import date

    from tracker.errors import Conflict
    from tracker.imports import batches
    from tracker.timeutil import utcnow

    with app.app_context():
        result = service.check_file(
            "payments", "a.csv", csv(f"{carer},cash,10.00,2025-04-07,,"), today=date(2026, 1, 1)
        )
        batch = batches.start("payments", "a.csv", result.sha256, 1, actor=None)
        batches.write(batch, result, actor=None, now=utcnow())
        db.session.commit()
        with pytest.raises(Conflict):
            batches.write(batch, result, actor=None, now=utcnow())
    assert statuses(app) == ["draft"]


def test_the_person_sees_an_imported_payment_once_it_is_approved(app, client, login, make_user, carer):
    from tests.builders import PASSWORD
    from tracker.auth.models import User

    uid = make_user("contributor", person_id=carer)
    with app.app_context():
        email = db.session.get(User, uid).email
    person = app.test_client()
    assert person.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302
    login("admin")
    assert upload(client, csv(f"{carer},cash,123.45,2025-04-07,,")).status_code == 302
    batch = batch_of(app)
    assert "123.45" not in person.get("/me/payments").get_data(as_text=True)
    assert "123.45" not in person.get("/me/").get_data(as_text=True)
    login("admin")
    assert client.post(f"/imports/{batch.id}/approve").status_code == 302
    assert "123.45" in person.get("/me/payments").get_data(as_text=True)
