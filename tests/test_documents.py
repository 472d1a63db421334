"""Certificates and statements: the pure render, the request, the task body and the API."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from tasks.documents import render_document
from tests.builders import activity, assert_error, contribution, expense, payment, stored_copies
from tracker.documents import pdf, service
from tracker.documents.models import Document
from tracker.extensions import db
from tracker.jobs import OutboxTask


def text_of(data: bytes) -> str:
    """The PDF's text with line breaks (table cells wrap) folded into single spaces."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages).split())


NAMES = "Zoë Siobhán Łukasz Olúwaṣeun"


def test_render_is_deterministic_and_keeps_accents():
    data = pdf.StatementData(
        organisation="Org",
        person_name=NAMES,
        period_label="April 2025",
        issued_on="1 May 2025",
        payments=(("2 April 2025", "Cash", "£150.00", "Paid", ""),),
        total_paid="£150.00",
    )
    a, b = pdf.render_statement(data), pdf.render_statement(data)
    assert a == b and a.startswith(b"%PDF")
    text = text_of(a)
    for name in NAMES.split():
        assert name in text
    assert "£150.00" in text
    cert = pdf.CertificateData(
        organisation="Org",
        person_name="Zoë",
        title="Certificate of contribution",
        statement="gave 3 hours.",
        issued_on="1 May 2025",
    )
    assert pdf.render_certificate(cert) == pdf.render_certificate(cert)


@pytest.fixture
def person(app, rules, make_person):
    pid = make_person(
        "Zoë Łukasz",
        claims=[
            {
                "benefit": "UC",
                "start_on": date(2024, 1, 1),
                "attributes": {"ap_start_day": 15, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
            },
            {"benefit": "CA", "start_on": date(2024, 1, 1)},
        ],
    )
    with app.app_context():
        payment(
            pid,
            "120.00",
            date(2025, 4, 16),
            due_on=date(2025, 4, 14),
            covers_from=date(2025, 4, 7),
            covers_to=date(2025, 4, 13),
        )
        payment(pid, "30.50", date(2025, 5, 2), kind="voucher")
        payment(pid, "999.00", date(2025, 6, 1))
        payment(pid, "77.00", date(2025, 4, 20), status="cancelled")
        payment(pid, "0", date(2025, 4, 25), kind="declined", amount_offered="40.00")
        expense(pid, "12.40", date(2025, 4, 16), date(2025, 4, 18), description="Bus fares", service_user_context="yes")
        db.session.commit()
    return pid


def test_request_is_queued_after_commit_and_unique(app, person, sent):
    from tracker.people.models import Person

    with app.app_context():
        p = db.session.get(Person, person)
        doc, created = service.request_document(p, "statement", date(2025, 4, 15), date(2025, 5, 14), actor=None)
        assert created and sent == []
        db.session.commit()
        assert sent == [("tracker.documents.render", [doc.id])]
        again, created = service.request_document(p, "statement", date(2025, 4, 15), date(2025, 5, 14), actor=None)
        db.session.commit()
        assert again.id == doc.id and not created and len(sent) == 1
        # A request in a transaction that rolls back sends nothing and leaves no row.
        service.request_document(p, "certificate", date(2025, 4, 1), date(2025, 4, 30), actor=None)
        db.session.rollback()
        assert len(sent) == 1
        assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 1


#: What a statement for the Jobcentre never carries (issue 13, item 7): verdicts, limits, rule
#: codes, benefit names.
JUDGEMENTS = ("Over the limit", "Within the limit", "Close to", "For information", "limit", "Universal Credit")
RULE_CODE = re.compile(r"\b[A-Z]{2,}_[A-Z_]+\b|\b(UC|CA|ESA|TAX|PIP|JSA)\b")


def test_statement_lists_facts_only(app, person, sent):
    """Payments with the dates they were received and due, hours, totals by month; no verdict,
    limit, rule code or benefit name, although the person claims Universal Credit and Carer's
    Allowance and a payment breaks no rule or one."""
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person),
            "statement",
            date(2025, 4, 15),
            date(2025, 5, 14),
            actor=None,
            options={"cover_letter": True},
        )
        db.session.commit()
        assert render_document(doc.id) == "ready"
        db.session.refresh(doc)
        assert doc.status == "ready" and len(doc.sha256) == 64
        text = text_of(service.storage().read(doc.file_name))
    assert "Zoë Łukasz" in text
    assert "£120.00" in text and "£30.50" in text
    assert "£999.00" not in text  # outside the period
    assert "£77.00" not in text  # cancelled
    assert "Total received in this period: £150.50" in text
    assert "Bus fares" in text and "No (taking part as a service user)" in text
    assert "Chose not to be paid" in text and "£40.00" in text
    # Received 16 April, due 14 April for the week of 7 April; the voucher has no due date recorded.
    assert "16 April 2025 14 April 2025 (for work from 7 April 2025 to 13 April 2025) Cash £120.00 Paid" in text
    assert "2 May 2025 Not recorded Vouchers" in text
    assert "Totals for each month Month Hours of contribution Received April 2025 0 £120.00 May 2025 0 £30.50" in text
    for word in JUDGEMENTS:
        assert word not in text, word
    assert "Carer" not in text and RULE_CODE.search(text) is None, RULE_CODE.search(text)
    assert "Jobcentre" in text
    assert "not benefits advice" in text


def test_a_statement_for_a_period_with_nothing_in_it_is_one_page_that_says_so(app, person, sent):
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 1, 1), date(2025, 3, 31), actor=None
        )
        db.session.commit()
        assert render_document(doc.id) == "ready"
        db.session.refresh(doc)
        data = service.storage().read(doc.file_name)
    assert len(PdfReader(BytesIO(data)).pages) == 1
    text = text_of(data)
    assert "No payments or hours were recorded for Zoë Łukasz from 1 January 2025 to 31 March 2025." in text
    assert "£0.00" not in text and "Contributions" not in text
    for word in JUDGEMENTS:
        assert word not in text, word


def test_rendering_twice_or_concurrently_gives_one_file(app, person, sent):
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "certificate", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        doc_id = doc.id
    results = []

    def run():
        with app.app_context():
            results.append(render_document(doc_id))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with app.app_context():
        doc = db.session.get(Document, doc_id)
        first = doc.sha256
        assert doc.status == "ready"
        assert render_document(doc_id) == "already ready"
        assert stored_copies(service.storage(), first) == [doc.file_name]
        assert db.session.get(Document, doc_id).sha256 == first


def test_stuck_queued_document_is_redriven(app, person, sent):
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        sent.clear()
        assert service.redrive_stuck(600) == 0  # too recent
        later = doc.created_at + timedelta(seconds=601)
        assert service.redrive_stuck(600, now=later) == 1
        db.session.commit()  # as the redrive task does: the outbox row is sent when it commits
        assert sent == [("tracker.documents.render", [doc.id])]
        assert db.session.scalar(sa.select(sa.func.count(OutboxTask.id))) == 2


def test_api_documents(app, api_as, person, sent, make_person):
    me = api_as("contributor", person_id=person)
    body = {"person_id": person, "kind": "statement", "start_on": "2025-04-15", "end_on": "2025-05-14"}
    first = me.post("/documents", json=body)
    assert first.status_code == 202 and first.get_json()["status"] == "queued"
    second = me.post("/documents", json=body)
    assert second.status_code == 202 and second.get_json()["id"] == first.get_json()["id"]
    doc_id = first.get_json()["id"]
    assert_error(me.get(f"/documents/{doc_id}/file"), 409, "not_ready")
    with app.app_context():
        render_document(doc_id)
    got = me.get(f"/documents/{doc_id}").get_json()
    assert got["status"] == "ready" and len(got["sha256"]) == 64
    resp = me.get(f"/documents/{doc_id}/file")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "attachment" in resp.headers["Content-Disposition"]
    import hashlib

    assert hashlib.sha256(resp.data).hexdigest() == got["sha256"]
    # Someone else's documents are not there for this contributor.
    other = make_person("Other Person")
    stranger = api_as("contributor", person_id=other)
    assert_error(stranger.get(f"/documents/{doc_id}"), 404)
    assert_error(stranger.get(f"/documents/{doc_id}/file"), 404)
    assert_error(me.post("/documents", json={**body, "person_id": other}), 404)
    # A statement carries facts only and names no benefit (issue 13, item 7), so every staff role,
    # finance too, reads the same statement.
    assert api_as("coordinator").get(f"/documents/{doc_id}").status_code == 200
    assert api_as("finance").get(f"/documents/{doc_id}").status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"end_on": "2025-03-01"}, "end_on"),
        ({"end_on": "2028-01-01"}, "end_on"),
        ({"kind": "letter"}, "kind"),
        ({"start_on": "2025-02-30"}, "start_on"),
    ],
)
def test_bad_document_requests(app, api_as, person, sent, body, field):
    api = api_as("coordinator")
    data = {"person_id": person, "kind": "statement", "start_on": "2025-04-01", "end_on": "2025-04-30", **body}
    assert_error(api.post("/documents", json=data), 422, "invalid", field)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 0


def test_batch_progress(app, api_as, person, sent, make_person):
    make_person("Nobody Active")
    api = api_as("finance")
    resp = api.post("/documents/batches", json={"start_on": "2025-04-01", "end_on": "2025-04-30"})
    assert resp.status_code == 202
    batch = resp.get_json()
    assert batch["total"] == 1 and batch["done"] == 0 and batch["queued"] == 1
    with app.app_context():
        for doc in db.session.scalars(sa.select(Document)).all():
            render_document(doc.id)
    progress = api.get(f"/documents/batches/{batch['id']}").get_json()
    assert progress["done"] == 1 and progress["ready"] == 1 and progress["failures"] == []
    assert_error(api_as("contributor", person_id=person).get(f"/documents/batches/{batch['id']}"), 403)


def test_failed_render_records_a_reason(app, person, sent, monkeypatch):
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        monkeypatch.setattr(service, "build_pdf", lambda *a: (_ for _ in ()).throw(KeyError("boom")))
        with pytest.raises(KeyError):
            render_document.run(doc.id)
        db.session.expire_all()
        failed = db.session.get(Document, doc.id)
        assert failed.status == "failed" and "KeyError" in failed.failure_reason
        # Asking again queues it again.
        again, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        assert again.id == doc.id and again.status == "queued"


def test_a_ready_document_whose_file_is_gone_is_made_again(app, person, sent):
    from tracker.people.models import Person

    with app.app_context():
        p = db.session.get(Person, person)
        doc, _ = service.request_document(p, "certificate", date(2025, 4, 1), date(2025, 4, 30), actor=None)
        db.session.commit()
        render_document(doc.id)
        db.session.refresh(doc)
        service.storage().delete(doc.file_name)
        again, created = service.request_document(p, "certificate", date(2025, 4, 1), date(2025, 4, 30), actor=None)
        db.session.commit()
        assert again.id == doc.id and not created and again.status == "queued"
        assert render_document(doc.id) == "ready"
        assert service.storage().exists(db.session.get(Document, doc.id).file_name)


def test_certificate_names_the_person_and_the_activities(app, person, sent):
    from tracker.people.models import Person

    with app.app_context():
        research = activity("Research advisory group", default_rate=Decimal("0.00"))
        contribution(
            person, date(2025, 4, 10), "2.5", activity=research, preparation_hours=Decimal("1"), value_owed="50.00"
        )
        contribution(person, date(2025, 4, 12), "1", value_owed="20.00")
        db.session.commit()
        doc, _ = service.request_document(
            db.session.get(Person, person), "certificate", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        data = service.certificate_data(doc, date(2025, 5, 1))
        assert data.person_name == "Zoë Łukasz"  # not the name of an activity
        assert dict(data.details)["Activities"] == "Other work, Research advisory group"
        assert dict(data.details)["Hours"] == "4.5"
        assert render_document(doc.id) == "ready"
        db.session.refresh(doc)
        text = text_of(service.storage().read(doc.file_name))
    assert "Zoë Łukasz" in text and "gave 4.5 hours" in text and "Research advisory group" in text


def test_statement_data_is_the_same_from_a_row_with_the_name(app, person, sent):
    """The task passes the row its UPDATE ... RETURNING gave back, with the person's name; the
    benchmark and a Document pass nothing more: the same data either way."""
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person),
            "statement",
            date(2025, 4, 15),
            date(2025, 5, 14),
            actor=None,
            options={"cover_letter": True},
        )
        db.session.commit()
        row = db.session.execute(
            sa.select(
                Document.id,
                Document.person_id,
                Document.kind,
                Document.start_on,
                Document.end_on,
                Document.options,
                Document.created_at,
            ).where(Document.id == doc.id)
        ).one()
        statements = []

        def count(*a):
            statements.append(1)

        service.statement_data(doc, date(2025, 5, 20))  # the rules are read and cached
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            from_doc = service.statement_data(doc, date(2025, 5, 20))
            asked = len(statements)
            from_row = service.statement_data(row, date(2025, 5, 20), "Zoë Łukasz")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    assert from_doc == from_row
    assert len(statements) - asked == asked - 1  # the name given: the person is not read again
    assert from_doc.person_name == "Zoë Łukasz" and "Zoë Łukasz takes part" in from_doc.cover_letter.body[0]
    # in date order; the cancelled one and the one after the period are left out
    assert [(p[0], p[3]) for p in from_doc.payments] == [
        ("16 April 2025", "£120.00"),
        ("25 April 2025", "£0.00"),
        ("2 May 2025", "£30.50"),
    ]
    assert from_doc.choices == (("25 April 2025", "Chose not to be paid", "£40.00", "£0.00"),)
    assert from_doc.expenses == (("18 April 2025", "Bus fares", "£12.40", "No (taking part as a service user)"),)


def test_a_statement_reads_its_rows_in_one_query(app, person, sent):
    from tracker.people.models import Person

    with app.app_context():
        contribution(person, date(2025, 4, 20), "3", value_owed="45.00")
        db.session.commit()
        doc, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 15), date(2025, 5, 14), actor=None
        )
        db.session.commit()
        db.session.refresh(doc)
        statements = []

        def count(conn, cursor, statement, *a):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            data = service.statement_data(doc, date(2025, 5, 20), "Zoë Łukasz")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert data.contributions == (("20 April 2025", "Other work", "3", "£45.00"),)
    assert len(data.payments) == 3 and len(data.expenses) == 1 and data.total_hours == "3"


def test_render_records_the_attempt_before_rendering_and_counts_each_run(app, person, sent, monkeypatch):
    """The attempt, the start time and the process are committed before the PDF is made (a killed
    worker leaves them behind); a ready document is not started again, a missing one is reported."""
    import os

    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        doc_id = doc.id
    seen = []
    real_build = service.build_pdf

    def build_and_look(row, *a):
        with db.engine.connect() as other:  # another connection sees only what is committed
            seen.append(
                other.execute(
                    sa.select(Document.status, Document.attempts, Document.worker_pid, Document.started_at).where(
                        Document.id == doc_id
                    )
                ).one()
            )
        return real_build(row, *a)

    monkeypatch.setattr(service, "build_pdf", build_and_look)
    with app.app_context():
        assert render_document(doc_id) == "ready"
    status, attempts, pid, started = seen[0]
    assert (status, attempts, pid) == ("queued", 1, os.getpid()) and started is not None
    with app.app_context():
        assert render_document(doc_id) == "already ready"
        assert render_document(10**9) == "missing"
        done = db.session.get(Document, doc_id)
        assert done.status == "ready" and done.attempts == 1 and len(seen) == 1
        assert done.started_at == started and done.ready_at >= started
        # Called inside an open transaction (here: the session has just read a row), the same.
        doc_id = service.request_document(
            db.session.get(Person, person), "certificate", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )[0].id
        db.session.commit()
        assert db.session.get(Document, doc_id).status == "queued" and db.session().in_transaction()
        assert render_document(doc_id) == "ready"
    assert seen[1][:3] == ("queued", 1, os.getpid())


def test_a_ready_document_whose_file_vanished_is_rendered_again_by_the_task(app, person, sent):
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "certificate", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        assert render_document(doc.id) == "ready"
        db.session.refresh(doc)
        service.storage().delete(doc.file_name)
        assert not service.storage().exists(doc.file_name)
        db.session.commit()
        assert render_document(doc.id) == "ready"  # the row stays ready; the same file is written again
        db.session.expire_all()
        again = db.session.get(Document, doc.id)
        assert (
            service.storage().exists(doc.file_name)
            and again.status == "ready"
            and again.sha256 == doc.sha256
            and again.attempts == 2
        )


def _deliver(app, row_id: int):
    """The render task run from its outbox row, as a worker gets it (task id ``outbox-ID``)."""
    row = db.session.get(OutboxTask, row_id)
    return render_document.apply(args=row.args, task_id=f"outbox-{row.id}").get()


def test_a_render_from_the_outbox_commits_twice_and_marks_its_row_running_then_done(app, person, sent, monkeypatch):
    """The outbox row's marks share the render's two commits: "running" with the claim, committed
    before the PDF is made, and "done" with the ready mark. A second delivery does nothing."""
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        doc_id = doc.id
        row_id = db.session.scalar(
            sa.select(OutboxTask.id).where(OutboxTask.task_name == service.TASK).order_by(OutboxTask.id.desc()).limit(1)
        )
    seen = []
    real_build = service.build_pdf

    def build_and_look(row, *a):
        with db.engine.connect() as other:  # another connection sees only what is committed
            seen.append(
                (
                    other.scalar(sa.select(OutboxTask.status).where(OutboxTask.id == row_id)),
                    other.scalar(sa.select(Document.attempts).where(Document.id == doc_id)),
                )
            )
        return real_build(row, *a)

    commits = []
    monkeypatch.setattr(service, "build_pdf", build_and_look)
    with app.app_context():
        engine = db.engine
        count = commits.append
        sa.event.listen(engine, "commit", count)
        try:
            assert _deliver(app, row_id) == "ready"
        finally:
            sa.event.remove(engine, "commit", count)
        assert seen == [("running", 1)]
        assert len(commits) == 2
        row = db.session.get(OutboxTask, row_id)
        assert row.status == "done" and row.started_at and row.done_at and row.last_error is None
        assert db.session.get(Document, doc_id).status == "ready"
        assert _deliver(app, row_id) is None  # a second delivery of a done row
        assert len(seen) == 1 and db.session.get(Document, doc_id).attempts == 1


def test_a_render_from_the_outbox_that_fails_is_done_with_the_reason_and_the_attempt_kept(
    app, person, sent, monkeypatch
):
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        row_id = db.session.scalar(
            sa.select(OutboxTask.id).where(OutboxTask.task_name == service.TASK).order_by(OutboxTask.id.desc()).limit(1)
        )
        monkeypatch.setattr(service, "build_pdf", lambda *a: (_ for _ in ()).throw(KeyError("boom")))
        with pytest.raises(KeyError):
            _deliver(app, row_id)
        db.session.expire_all()
        row = db.session.get(OutboxTask, row_id)
        assert row.status == "done" and row.last_error == "failed: KeyError"
        failed = db.session.get(Document, doc.id)
        assert failed.status == "failed" and failed.attempts == 1


def test_a_render_from_the_outbox_told_to_retry_leaves_its_row_running(app, person, sent, monkeypatch):
    """A store that does not answer: the task will be tried again, and the sweep leaves the row to
    it (running, not sent) until the restart age."""
    from celery.exceptions import Retry

    from tracker.documents.storage import StoreUnavailable
    from tracker.people.models import Person

    with app.app_context():
        doc, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        row_id = db.session.scalar(
            sa.select(OutboxTask.id).where(OutboxTask.task_name == service.TASK).order_by(OutboxTask.id.desc()).limit(1)
        )

        def refuse(*a, **k):
            raise StoreUnavailable("The document store did not store a file (ConnectTimeout).")

        monkeypatch.setattr(service, "claim_render", refuse)  # before the claim's step commits
        # As a worker does: the retry is a new message for later (not run at once, as when eager).
        monkeypatch.setattr(render_document, "retry", lambda exc=None, countdown=None: Retry(exc=exc, when=countdown))
        attempt = render_document.apply(args=[doc.id], task_id=f"outbox-{row_id}")
        assert attempt.state == "RETRY" and isinstance(attempt.result, Retry)
        db.session.expire_all()
        row = db.session.get(OutboxTask, row_id)
        assert row.status == "running" and row.started_at is not None


def test_render_leaves_the_session_transactional(app, person, sent, monkeypatch):
    """The task commits its claim and its ready mark in steps of its own; afterwards (also after a
    failure) the session's next writes are in a transaction again, so a rollback still undoes them."""
    from tracker.people.models import Person

    with app.app_context():
        docs = [
            service.request_document(
                db.session.get(Person, person), kind, date(2025, 4, 1), date(2025, 4, 30), actor=None
            )[0].id
            for kind in ("statement", "certificate")
        ]
        db.session.commit()
        assert render_document(docs[0]) == "ready"
        db.session.add(Person(name="Not Kept After Render"))
        db.session.flush()
        db.session.rollback()
        monkeypatch.setattr(service, "build_pdf", lambda *a: (_ for _ in ()).throw(KeyError("boom")))
        with pytest.raises(KeyError):
            render_document(docs[1])
        db.session.add(Person(name="Not Kept After Failure"))
        db.session.flush()
        db.session.rollback()
        names = db.session.scalars(sa.select(Person.name)).all()
        assert "Not Kept After Render" not in names and "Not Kept After Failure" not in names
        # The failed run was still counted, and committed, before rendering.
        assert db.session.get(Document, docs[1]).attempts == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"signatory": "Me, the CEO"}, "signatory"),
        ({"training": "Advanced everything"}, "training"),
        ({"cover_letter": True}, "cover_letter"),
        ({"kind": "training_certificate", "training": "First aid"}, "kind"),
    ],
)
def test_contributors_cannot_set_the_organisations_wording(app, api_as, person, sent, extra, field):
    body = {"person_id": person, "kind": "certificate", "start_on": "2025-04-01", "end_on": "2025-04-30", **extra}
    resp = api_as("contributor", person_id=person).post("/documents", json=body)
    assert_error(resp, 422, field=field)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
    assert sent == []
    # Staff may: the same request from a coordinator is queued.
    assert api_as("coordinator").post("/documents", json=body).status_code == 202


def test_the_options_are_part_of_what_makes_two_requests_the_same(app, api_as, person, sent):
    api = api_as("coordinator")
    base = {"person_id": person, "kind": "certificate", "start_on": "2025-04-01", "end_on": "2025-04-30"}
    plain = api.post("/documents", json=base).get_json()["id"]
    signed = api.post("/documents", json={**base, "signatory": "Sam Lead"}).get_json()["id"]
    assert signed != plain
    assert api.post("/documents", json={**base, "signatory": "Sam Lead"}).get_json()["id"] == signed
    assert api.post("/documents", json={**base, "signatory": "Alex Other"}).get_json()["id"] not in (plain, signed)
    assert api.post("/documents", json=base).get_json()["id"] == plain
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 3


def test_a_statement_is_made_afresh_when_its_figures_changed_and_the_old_one_is_kept(app, person, sent, api_as):
    """Asked for again after a new payment in its period, a statement is the same document; asked
    for fresh, it is a new version with the new figures, and the first is kept and listed."""
    from tracker.people.models import Person

    with app.app_context():
        p = db.session.get(Person, person)
        first, _ = service.request_document(p, "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None)
        db.session.commit()
        first_id = first.id
        assert render_document(first_id) == "ready"
        # Nothing changed: fresh or not, the same document.
        same, created = service.request_document(
            p, "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None, fresh=True
        )
        assert same.id == first_id and not created
        payment(person, "45.67", date(2025, 4, 28))
        db.session.commit()
        again, created = service.request_document(p, "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None)
        assert again.id == first_id and not created
    api = api_as("coordinator")
    body = {"person_id": person, "kind": "statement", "start_on": "2025-04-01", "end_on": "2025-04-30", "fresh": True}
    resp = api.post("/documents", json=body)
    assert resp.status_code == 202
    second = resp.get_json()
    assert second["id"] != first_id and second["version"] == 2 and second["status"] == "queued"
    assert api.post("/documents", json=body).get_json()["id"] == second["id"]  # queued: nothing to compare yet
    with app.app_context():
        assert render_document(second["id"]) == "ready"
        old, new = db.session.get(Document, first_id), db.session.get(Document, second["id"])
        assert "£45.67" not in text_of(service.storage().read(old.file_name))
        assert "£45.67" in text_of(service.storage().read(new.file_name))
        assert old.status == "ready" and old.figures_key != new.figures_key
        # Asked for again (fresh or not), the newest version.
        newest, _ = service.request_document(
            db.session.get(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None, fresh=True
        )
        assert newest.id == second["id"]
        listed = db.session.scalars(sa.select(Document.version).where(Document.person_id == person)).all()
    assert sorted(listed) == [1, 2]
