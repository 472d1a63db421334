"""The document pages: asking for a statement or certificate, its status, the download, batches."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tasks.documents import render_document
from tests.builders import CA, payment, saved
from tracker.audit.models import AuditEvent
from tracker.documents import service
from tracker.documents.models import STATEMENT_TEMPLATE_VERSION, TEMPLATE_VERSION, Document, DocumentBatch
from tracker.extensions import db

UC31 = {
    "benefit": "UC",
    "start_on": date(2024, 1, 1),
    "attributes": {"ap_start_day": 31, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
}


@pytest.fixture
def on_day(monkeypatch):
    """Pretend today is another day on the document pages."""

    def set_day(day: date):
        monkeypatch.setattr("tracker.documents.views.today", lambda: day)

    set_day(date(2025, 4, 10))
    return set_day


@pytest.fixture
def person(app, rules, make_person):
    pid = make_person("Zoë Example", claims=[UC31, CA])
    saved(app, payment, pid, "120.00", date(2025, 4, 16))
    return pid


@pytest.fixture
def other(app, make_person):
    return make_person("Robin Other", claims=[CA])


def _documents(app, **where) -> list[Document]:
    with app.app_context():
        return db.session.scalars(sa.select(Document).filter_by(**where).order_by(Document.id)).all()


def _doc(
    app,
    person_id,
    kind="statement",
    start=date(2025, 4, 1),
    end=date(2025, 4, 30),
    status="queued",
    reason=None,
    **more,
) -> int:
    """A document as the service makes it now (a statement of facts), unless told otherwise."""
    more.setdefault("template_version", STATEMENT_TEMPLATE_VERSION if kind == "statement" else TEMPLATE_VERSION)
    with app.app_context():
        d = Document(
            person_id=person_id, kind=kind, start_on=start, end_on=end, status=status, failure_reason=reason, **more
        )
        db.session.add(d)
        db.session.commit()
        return d.id


def _render(app, doc_id):
    with app.app_context():
        assert render_document(doc_id) == "ready"


def _audits(app, action, person_id) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == action, AuditEvent.person_id == person_id
            )
        )


# ---- asking for a document ----------------------------------------------------------------


def test_contributor_asks_for_a_statement_and_twice_gives_the_same(app, client, login, person, sent, on_day):
    login("contributor", person_id=person)
    assert client.get("/documents/").status_code == 200
    page = client.get("/documents/new").get_data(as_text=True)
    # The organisation's wording (a cover letter, the signatory, training text) is staff's to add.
    assert "Add a cover letter for the Jobcentre" not in page and "A training certificate" not in page
    assert "This tax year (6 April to 5 April): 6 April 2025 to 5 April 2026" in page
    assert "Last tax year: 6 April 2024 to 5 April 2025" in page
    form = {"kind": "statement", "period": "tax_this"}
    resp = client.post("/documents/new", data=form)
    assert resp.status_code == 302
    docs = _documents(app, person_id=person)
    assert len(docs) == 1 and docs[0].start_on == date(2025, 4, 6) and docs[0].end_on == date(2026, 4, 5)
    assert docs[0].options == {}
    assert resp.headers["Location"].endswith(f"/documents/{docs[0].id}")
    again = client.post("/documents/new", data=form)
    assert again.status_code == 302 and again.headers["Location"] == resp.headers["Location"]
    assert len(_documents(app, person_id=person)) == 1
    assert sent == [("tracker.documents.render", [docs[0].id])]
    detail = client.get(resp.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "had already been asked for" in detail and "Being prepared" in detail
    listing = client.get("/documents/").get_data(as_text=True)
    assert "Statement of payments" in listing and "Being prepared" in listing


def test_uc_preset_for_ap_start_day_31_in_february(app, client, login, person, on_day):
    login("contributor", person_id=person)
    on_day(date(2025, 2, 15))
    page = client.get("/documents/new").get_data(as_text=True)
    assert "This Universal Credit assessment period: 31 January 2025 to 27 February 2025" in page
    assert "Last assessment period: 31 December 2024 to 30 January 2025" in page
    assert (
        "This benefit week for Carer&#39;s Allowance (Monday to Sunday): 10 February 2025 to 16 February 2025"
    ) in page
    on_day(date(2025, 2, 28))
    page = client.get("/documents/new").get_data(as_text=True)
    assert "This Universal Credit assessment period: 28 February 2025 to 30 March 2025" in page
    on_day(date(2024, 2, 15))  # a leap year
    page = client.get("/documents/new").get_data(as_text=True)
    assert "This Universal Credit assessment period: 31 January 2024 to 28 February 2024" in page


def test_uc_preset_asks_for_those_dates(app, client, login, person, sent, on_day):
    login("contributor", person_id=person)
    on_day(date(2025, 2, 15))
    resp = client.post("/documents/new", data={"kind": "statement", "period": "uc_this"})
    assert resp.status_code == 302
    (doc,) = _documents(app, person_id=person)
    assert (doc.start_on, doc.end_on) == (date(2025, 1, 31), date(2025, 2, 27))
    resp = client.post("/documents/new", data={"kind": "statement", "period": "week_CA"})
    assert resp.status_code == 302
    week = _documents(app, person_id=person)[-1]
    assert (week.start_on, week.end_on) == (date(2025, 2, 10), date(2025, 2, 16))


def test_no_uc_preset_without_a_uc_claim(client, login, make_person, rules, on_day):
    pid = make_person("Carer Only", claims=[CA])
    login("contributor", person_id=pid)
    page = client.get("/documents/new").get_data(as_text=True)
    assert "Universal Credit assessment period" not in page
    assert "This benefit week for Carer&#39;s Allowance" in page


@pytest.mark.parametrize(
    "form, field, message",
    [
        ({"kind": "statement", "period": "custom"}, "start_on", "Enter the start date"),
        (
            {"kind": "statement", "period": "custom", "start_on": "2025-05-01", "end_on": "2025-04-01"},
            "end_on",
            "The end date must be on or after the start date",
        ),
        (
            {"kind": "statement", "period": "custom", "start_on": "2025-02-30", "end_on": "2025-04-01"},
            "start_on",
            "must be a real date",
        ),
        (
            {"kind": "statement", "period": "custom", "start_on": "2020-01-01", "end_on": "2025-04-01"},
            "end_on",
            "two years or less",
        ),
        (
            {"kind": "statement", "period": "custom", "start_on": "0001-01-01", "end_on": "0001-02-01"},
            "start_on",
            "must be between 2000 and 2100",
        ),
        ({"kind": "statement", "period": "nonsense"}, "period-0", "Choose which dates"),
        ({"kind": "poster", "period": "tax_this"}, "kind", "Choose what you need"),
        ({"kind": "training_certificate", "period": "tax_this"}, "kind", "Training certificates are made by staff"),
    ],
)
def test_bad_requests_are_explained_next_to_the_field(app, client, login, person, sent, on_day, form, field, message):
    login("contributor", person_id=person)
    resp = client.post("/documents/new", data=form)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    anchor = f"{field}-day" if field in ("start_on", "end_on") else field  # a date links to its first box
    assert "There is a problem" in page and f'href="#{anchor}"' in page and message in page
    assert _documents(app, person_id=person) == []


def test_training_certificate_keeps_the_training_name(app, client, login, person, sent, on_day):
    login("coordinator")
    resp = client.post(
        f"/documents/new?person_id={person}",
        data={
            "kind": "training_certificate",
            "period": "custom",
            "start_on": "2025-04-01",
            "end_on": "2025-04-02",
            "training": "First aid at work",
        },
    )
    assert resp.status_code == 302
    (doc,) = _documents(app, person_id=person)
    assert doc.kind == "training_certificate" and doc.options == {"training": "First aid at work"}
    assert "First aid at work" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_staff_choose_the_person_first(app, client, login, person, sent, on_day):
    login("coordinator")
    page = client.get("/documents/new").get_data(as_text=True)
    assert "Who is it for?" in page and f'value="{person}"' in page
    assert client.get("/documents/new?person_id=abc").status_code == 422
    assert client.get("/documents/new?person_id=999999").status_code == 422
    assert client.post("/documents/new", data={"kind": "statement"}).status_code == 422
    before = _audits(app, "benefits.viewed", person)
    page = client.get(f"/documents/new?person_id={person}").get_data(as_text=True)
    assert "for Zoë Example" in page and "This Universal Credit assessment period" in page
    assert "Name of the person signing" in page
    assert _audits(app, "benefits.viewed", person) == before + 1
    resp = client.post(
        f"/documents/new?person_id={person}",
        data={"kind": "certificate", "period": "tax_last", "signatory": "Sam Lead"},
    )
    assert resp.status_code == 302
    (doc,) = _documents(app, person_id=person)
    assert doc.kind == "certificate" and doc.options == {"signatory": "Sam Lead"}
    staff_list = client.get("/documents/").get_data(as_text=True)
    assert "Zoë Example" in staff_list and "Recent batches" in staff_list


def test_finance_sees_no_benefit_periods(app, client, login, person, on_day):
    login("finance")
    page = client.get(f"/documents/new?person_id={person}").get_data(as_text=True)
    assert "This tax year" in page
    assert "Universal Credit" not in page and "benefit week" not in page
    assert _audits(app, "benefits.viewed", person) == 0


# ---- one document -------------------------------------------------------------------------


def test_status_download_and_no_store(app, client, login, person, sent):
    doc_id = _doc(app, person)
    login("contributor", person_id=person)
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "Being prepared" in page and "Check again" in page and 'aria-live="polite"' in page
    assert "progress.js" in page
    assert client.get(f"/documents/{doc_id}/status.json").get_json() == {
        "id": doc_id,
        "status": "queued",
        "ready": False,
        "message": "Being prepared",
    }
    not_ready = client.get(f"/documents/{doc_id}/download")
    assert not_ready.status_code == 409
    text = not_ready.get_data(as_text=True)
    assert "is not ready yet" in text and f'href="/documents/{doc_id}"' in text
    _render(app, doc_id)
    status = client.get(f"/documents/{doc_id}/status.json").get_json()
    assert status["status"] == "ready" and status["ready"] is True
    assert status["download_url"] == f"/documents/{doc_id}/download"
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "Ready" in page and f'href="/documents/{doc_id}/download"' in page and "Check again" not in page
    resp = client.get(f"/documents/{doc_id}/download")
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "statement-2025-04-01-to-2025-04-30.pdf" in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"%PDF")
    resp.close()


def test_failed_document_says_why_and_can_be_asked_again(app, client, login, person, sent):
    doc_id = _doc(app, person, status="failed", reason="The printer ran out of ink")
    login("contributor", person_id=person)
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "Could not be made: The printer ran out of ink" in page and "Try again" in page
    assert client.get(f"/documents/{doc_id}/download").status_code == 409
    resp = client.post(
        "/documents/new",
        data={"kind": "statement", "period": "custom", "start_on": "2025-04-01", "end_on": "2025-04-30"},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/documents/{doc_id}")
    assert _documents(app, id=doc_id)[0].status == "queued"


def test_missing_file_is_a_friendly_404(app, client, login, person, sent):
    doc_id = _doc(app, person)
    _render(app, doc_id)
    with app.app_context():
        service.storage().delete(db.session.get(Document, doc_id).file_name)
    login("contributor", person_id=person)
    resp = client.get(f"/documents/{doc_id}/download")
    assert resp.status_code == 404 and "The file is missing" in resp.get_data(as_text=True)


def test_other_people_get_404(app, client, login, person, other, sent):
    doc_id = _doc(app, person)
    login("contributor", person_id=other)
    for url in (
        f"/documents/{doc_id}",
        f"/documents/{doc_id}/status.json",
        f"/documents/{doc_id}/download",
        f"/documents/new?person_id={person}",
        "/documents/999999",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/documents/new?person_id={person}", data={"kind": "statement", "period": "tax_this"}).status_code
        == 404
    )
    assert "Zoë Example" not in client.get("/documents/").get_data(as_text=True)
    assert _documents(app, person_id=other) == []


@pytest.mark.parametrize("role", ["admin", "finance", "coordinator"])
def test_staff_may_see_and_download(app, client, login, person, sent, role):
    # A statement carries facts only and names no benefit, so finance reads the same one as the
    # others (an older statement that named benefits is 404 for finance: see below).
    doc_id = _doc(app, person)
    _render(app, doc_id)
    login(role)
    assert client.get(f"/documents/{doc_id}").status_code == 200
    resp = client.get(f"/documents/{doc_id}/download")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    resp.close()


# ---- batches ------------------------------------------------------------------------------


def test_batch_progress_page_and_json(app, client, login, person, other, sent, on_day):
    saved(app, payment, other, "10.00", date(2025, 4, 20))
    login("finance")
    page = client.get("/documents/batches/new").get_data(as_text=True)
    assert "Last month: 1 March 2025 to 31 March 2025" in page
    resp = client.post(
        "/documents/batches/new", data={"period": "custom", "start_on": "2025-04-01", "end_on": "2025-04-30"}
    )
    assert resp.status_code == 302
    batch_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    progress = client.get(f"/documents/batches/{batch_id}/progress.json").get_json()
    assert (progress["total"], progress["done"], progress["ready"], progress["failed"], progress["queued"]) == (
        2,
        0,
        0,
        0,
        2,
    )
    page = client.get(f"/documents/batches/{batch_id}").get_data(as_text=True)
    assert "0 of 2 done" in page and "Check again" in page and 'aria-live="polite"' in page
    docs = _documents(app, batch_id=batch_id)
    _render(app, docs[0].id)
    with app.app_context():
        service.mark_failed(docs[1].id, "No template for this period")
        db.session.commit()
    progress = client.get(f"/documents/batches/{batch_id}/progress.json").get_json()
    assert (progress["done"], progress["ready"], progress["failed"], progress["queued"]) == (2, 1, 1, 0)
    page = client.get(f"/documents/batches/{batch_id}").get_data(as_text=True)
    assert "2 of 2 done" in page and "Finished" in page and "Check again" not in page
    assert "No template for this period" in page
    failed_name = "Robin Other" if docs[1].person_id == other else "Zoë Example"
    assert re.search(rf'href="/documents/{docs[1].id}">{failed_name}</a>', page)
    assert f'href="/documents/batches/{batch_id}"' in client.get("/documents/").get_data(as_text=True)


def test_batch_with_bad_dates_is_explained(app, client, login, rules, on_day):
    login("coordinator")
    resp = client.post(
        "/documents/batches/new", data={"period": "custom", "start_on": "2025-05-01", "end_on": "2025-04-01"}
    )
    assert resp.status_code == 422 and 'href="#end_on-day"' in resp.get_data(as_text=True)
    resp = client.post("/documents/batches/new", data={"period": "custom"})
    assert resp.status_code == 422 and 'href="#start_on-day"' in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DocumentBatch.id))) == 0


def test_empty_batch_says_nothing_to_make(client, login, rules, sent, on_day):
    login("admin")
    resp = client.post("/documents/batches/new", data={"period": "last_month"}, follow_redirects=True)
    assert resp.status_code == 200 and "no statements to make" in resp.get_data(as_text=True)


def test_batches_are_for_staff_only(client, login, person):
    login("contributor", person_id=person)
    assert client.get("/documents/batches/new").status_code == 403
    assert client.post("/documents/batches/new", data={"period": "last_month"}).status_code == 403
    assert client.get("/documents/batches/1").status_code == 403
    assert client.get("/documents/batches/1/progress.json").status_code == 403


def test_missing_batch_is_404(client, login, rules):
    login("admin")
    assert client.get("/documents/batches/999").status_code == 404
    assert client.get("/documents/batches/999/progress.json").status_code == 404
    huge = "99999999999999999999999"
    for url in (
        f"/documents/batches/{huge}",
        f"/documents/{huge}",
        f"/documents/{huge}/status.json",
        f"/documents/{huge}/download",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/documents/new?person_id={huge}").status_code == 422


def test_an_empty_post_makes_nothing(app, client, login, person, sent, on_day):
    login("contributor", person_id=person)
    resp = client.post("/documents/new", data={})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'href="#kind"' in page and 'href="#period-0"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 0


def test_an_empty_batch_post_makes_nothing(app, client, login, rules, sent, on_day):
    login("admin")
    assert client.post("/documents/batches/new", data={}).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(DocumentBatch.id))) == 0


def test_finance_cannot_open_a_statement_that_names_benefits(app, client, login, person, sent, api_as):
    """A statement made before statements carried facts only names the benefits; finance gets 404
    for it on pages and in the API (issue 12, item 1), and its own request makes a statement of
    facts, which names no benefit (issue 13, item 7)."""
    named = _doc(app, person, template_version=TEMPLATE_VERSION)  # an older statement, naming benefits
    _render(app, named)
    login("coordinator")
    assert client.get(f"/documents/{named}/download").status_code == 200
    login("finance")
    for url in (f"/documents/{named}", f"/documents/{named}/download", f"/documents/{named}/status.json"):
        assert client.get(url).status_code == 404, url
    assert f"/documents/{named}" not in client.get("/documents/").get_data(as_text=True)
    fin = api_as("finance")
    assert fin.get(f"/documents/{named}").status_code == 404
    assert fin.get(f"/documents/{named}/file").status_code == 404
    asked = fin.post(
        "/documents", json={"person_id": person, "kind": "statement", "start_on": "2025-04-01", "end_on": "2025-04-30"}
    )
    assert asked.status_code == 202 and asked.get_json()["id"] != named
    assert asked.get_json()["template_version"] == STATEMENT_TEMPLATE_VERSION
    assert fin.get(f"/documents/{asked.get_json()['id']}").status_code == 200
