"""The page commit boundary as the people, contributor and import pages use it: a page that only reads
keeps the audit event it recorded, and an import that meets a changed tracker writes nothing."""

from __future__ import annotations

import io

import sqlalchemy as sa

from tracker import pages
from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.imports import service as imports
from tracker.imports.models import ImportBatch
from tracker.payments.models import Payment
from tracker.people.models import Person


def test_keep_audit_commits_the_view_event(app, make_person):
    pid = make_person("Sam Jones")
    with app.app_context():
        person = db.session.get(Person, pid)
        audit.record(None, "benefits.viewed", person, person_id=pid, after={"where": "test"})
        pages.keep_audit()
        db.session.rollback()  # nothing left to undo: the event was committed
        count = db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "benefits.viewed", AuditEvent.person_id == pid
            )
        )
        db.session.remove()
    assert count == 1


def test_an_import_that_meets_a_changed_tracker_is_a_form_error_and_writes_nothing(
    app, client, login, make_person, monkeypatch
):
    make_person("Sam Jones", email="sam@example.org")
    login("admin")
    data = (
        b"person_email,person_id,kind,amount,paid_on,method,reference,note\r\n"
        b"sam@example.org,,cash,10.00,2025-03-31,,,\r\n"
    )
    real = imports.import_checked

    def clash(report, *args, **kwargs):
        real(report, *args, **kwargs)
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate"))

    monkeypatch.setattr(imports, "import_checked", clash)
    resp = client.post(
        "/imports/",
        data={"kind": "payments", "file": (io.BytesIO(data), "h.csv"), "action": "import"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "Nothing was imported: the tracker changed while the file was being imported." in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(ImportBatch.id))) == 0
