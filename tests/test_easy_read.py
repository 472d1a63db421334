"""Issue 16, items 4 and 5: easy-read statements and certificates, chosen as a person's preferred
format (or asked for), made by the worker like the others; and every document as a web page with the
same content, which a screen reader can move through."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
import sqlalchemy as sa
import textstat
from pypdf import PdfReader

from tasks.documents import render_document
from tests.builders import activity, assert_error, contribution, expense, payment
from tracker.audit.models import AuditEvent
from tracker.documents import easyread, pdf, service
from tracker.documents.models import TEMPLATE_VERSION, Document, carries_link
from tracker.extensions import db
from tracker.people.models import Person

#: The readability bar of an easy-read document's text (docs/documents.md): a Flesch reading ease of
#: at least 70 ("fairly easy" or easier) and sentences of 12 words or fewer on average. Each line is
#: one idea, so a line without its own full stop (a heading) counts as a sentence; the web page's
#: address is not prose and is left out.
MIN_READING_EASE = 70
MAX_WORDS_PER_SENTENCE = 12
#: Easy read's smallest type, in points (the body is 18 pt).
MIN_POINTS = 16

#: What a statement never carries, easy read or not (issue 13, item 7).
JUDGEMENTS = ("Over the limit", "Within the limit", "Close to", "limit", "Universal Credit", "Carer's Allowance")
RULE_CODE = re.compile(r"\b[A-Z]{2,}_[A-Z_]+\b|\b(UC|CA|ESA|TAX|PIP|JSA)\b")


def lines_of(data: bytes) -> list[str]:
    return [
        line.strip()
        for page in PdfReader(BytesIO(data)).pages
        for line in page.extract_text().splitlines()
        if line.strip()
    ]


def prose(lines: list[str]) -> str:
    """The text as sentences: one line, one sentence; addresses left out."""
    kept = [line for line in lines if not line.startswith(("http://", "https://"))]
    return " ".join(line if line.endswith((".", "!", "?")) else line + "." for line in kept)


def font_sizes(data: bytes) -> set[float]:
    """The size of every run of text in the PDF (the font size times the text matrix's scale)."""
    sizes: set[float] = set()

    def visit(text, cm, tm, font, size):
        if text.strip():
            sizes.add(round(size * abs(tm[3] or 1) * abs(cm[3] or 1), 1))

    for page in PdfReader(BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


def assert_easy_to_read(data: bytes) -> str:
    text = prose(lines_of(data))
    ease, length = textstat.flesch_reading_ease(text), textstat.avg_sentence_length(text)
    assert ease >= MIN_READING_EASE, (ease, text)
    assert length <= MAX_WORDS_PER_SENTENCE, (length, text)
    assert min(font_sizes(data)) >= MIN_POINTS, sorted(font_sizes(data))
    return text


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
        panel = activity("Lived experience panel")
        contribution(pid, date(2025, 4, 14), "3", activity=panel)
        payment(pid, "120.00", date(2025, 4, 16), due_on=date(2025, 4, 14), covers_from=date(2025, 4, 7),
                covers_to=date(2025, 4, 13))  # fmt: skip
        payment(pid, "30.50", date(2025, 5, 2), kind="voucher", status="approved")
        payment(pid, "0", date(2025, 4, 25), kind="declined", amount_offered="40.00")
        expense(pid, "12.40", date(2025, 4, 16), date(2025, 4, 18), description="Bus fares", service_user_context="yes")
        db.session.commit()
    return pid


def _file(doc: Document) -> bytes:
    with service.storage().open_verified(doc.file_name) as f:
        return f.read()


def _ready(app, person_id, kind="statement", **kw) -> int:
    with app.app_context():
        doc, _ = service.request_document(
            db.session.get_one(Person, person_id), kind, date(2025, 4, 1), date(2025, 5, 14), actor=None, **kw
        )
        db.session.commit()
        assert render_document(doc.id) == "ready"
        return doc.id


# ---- the preferred format -----------------------------------------------------------------------


def test_a_person_chooses_easy_read_on_their_page_and_it_is_audited(app, client, login, person):
    login("contributor", person_id=person)
    page = client.get(f"/people/{person}/document-format")
    assert page.status_code == 200 and "Easy read" in page.get_data(as_text=True)
    bad = client.post(f"/people/{person}/document-format", data={"document_format": "braille"})
    assert bad.status_code == 422 and "Choose standard or easy read." in bad.get_data(as_text=True)
    ok = client.post(f"/people/{person}/document-format", data={"document_format": "easy_read"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/people/{person}")
    client.post(f"/people/{person}/document-format", data={"document_format": "easy_read"})  # no change: no event
    with app.app_context():
        assert db.session.get_one(Person, person).document_format == "easy_read"
        events = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "person.document_format_set", AuditEvent.person_id == person
            )
        ).all()
        assert [(e.before, e.after) for e in events] == [
            ({"document_format": "standard"}, {"document_format": "easy_read"})
        ]
    assert "Easy read" in client.get(f"/people/{person}").get_data(as_text=True)


def test_staff_who_look_after_people_may_change_it_and_others_may_not(app, client, login, person, make_person):
    login("coordinator")
    assert client.post(f"/people/{person}/document-format", data={"document_format": "easy_read"}).status_code == 302
    login("finance")
    assert client.post(f"/people/{person}/document-format", data={"document_format": "standard"}).status_code == 403
    login("contributor", person_id=make_person("Robin Other"))
    assert client.get(f"/people/{person}/document-format").status_code == 404
    with app.app_context():
        assert db.session.get_one(Person, person).document_format == "easy_read"


# ---- easy read, made by the worker ---------------------------------------------------------------


def test_the_preferred_format_makes_an_easy_read_statement_that_is_easy_to_read(app, person, sent):
    with app.app_context():
        p = db.session.get_one(Person, person)
        p.document_format = "easy_read"
        db.session.commit()
    doc_id = _ready(app, person)
    with app.app_context():
        doc = db.session.get_one(Document, doc_id)
        assert doc.options == {"format": "easy_read"} and service.is_easy_read(doc)
        data = _file(doc)
        # Deterministic like the others: the same document gives the same bytes.
        assert service.build_pdf(doc) == data and service.build_pdf(doc) == service.build_pdf(doc)
        url = service.page_url(doc_id)
    text = assert_easy_to_read(data)
    for line in (
        "This paper is for Zoë Łukasz.",
        "On 16 April 2025 you got £120.00.",
        "It was due on 14 April 2025.",
        "It was for work from 7 April 2025 to 13 April 2025.",
        "We plan to pay you £30.50 on 2 May 2025.",
        "On 14 April 2025 you gave 3 hours.",
        "On 18 April 2025 we paid back £12.40.",
        "This is not pay.",
        "It is not advice about benefits.",
    ):
        assert line in text, line
    assert url in lines_of(data)
    assert not any(word in text for word in JUDGEMENTS) and not RULE_CODE.search(text), text
    # A picture for each part: drawn, not an image file.
    assert b"/Subtype /Image" not in data


def test_a_standard_statement_is_still_made_for_everyone_else(app, person, sent):
    doc_id = _ready(app, person)
    with app.app_context():
        doc = db.session.get_one(Document, doc_id)
        assert doc.options == {} and not service.is_easy_read(doc)
        assert "Statement of contributions and payments" in " ".join(lines_of(_file(doc)))


def test_easy_read_certificate_asked_for_in_the_api(app, api_as, person, sent):
    api = api_as("coordinator")
    body = {"person_id": person, "kind": "certificate", "start_on": "2025-04-01", "end_on": "2025-05-14"}
    asked = api.post("/documents", json={**body, "format": "easy_read"})
    assert asked.status_code == 202 and asked.get_json()["format"] == "easy_read"
    plain = api.post("/documents", json=body)
    assert plain.get_json()["format"] == "standard" and plain.get_json()["id"] != asked.get_json()["id"]
    assert api.post("/documents", json={**body, "format": "easy_read"}).get_json()["id"] == asked.get_json()["id"]
    assert_error(api.post("/documents", json={**body, "format": "large"}), 422, field="format")
    with app.app_context():
        assert render_document(asked.get_json()["id"]) == "ready"
        doc = db.session.get_one(Document, asked.get_json()["id"])
        data = _file(doc)
        assert service.build_pdf(doc) == data
    text = assert_easy_to_read(data)
    assert "This is for Zoë Łukasz." in text and "They gave 3 hours of their time." in text
    assert "The work was: Lived experience panel." in text


def test_the_easy_read_words_are_short_for_any_statement():
    """The pure wording: every line is one short sentence (the PDF's and the web page's words)."""
    data = pdf.StatementData(
        organisation="Riverside Co-production Network",
        person_name="Siobhán Kowalczyk",
        period_label="1 April 2025 to 30 April 2025",
        issued_on="1 May 2025",
        payments=(("2 April 2025", "Not recorded", "Cash", "£150.00", "Paid"),),
        by_month=(("April 2025", "3", "£150.00"),),
        total_paid="£150.00",
        total_hours="3",
    )
    words = easyread.statement(data, "http://127.0.0.1:5000/documents/7/page")
    assert [p.picture for p in words.parts] == ["paper", "coin", "clock", "calendar", "help", "screen"]
    assert all(p.picture in easyread.PICTURES for p in words.parts)
    every = [line for p in words.parts for line in p.lines if not line.startswith("http")]
    assert max(len(line.split()) for line in every) <= 12, every
    a = pdf.easy_statement(data, words)
    assert a == pdf.easy_statement(data, words) and a.startswith(b"%PDF")
    assert_easy_to_read(a)


# ---- the web page of a document --------------------------------------------------------------------


def test_the_pdf_points_to_its_web_page_only_from_the_new_templates():
    assert carries_link("statement", "3") and carries_link("certificate", "2")
    assert not carries_link("statement", "2") and not carries_link("statement", TEMPLATE_VERSION)
    assert not carries_link("statement", "1-neutral") and not carries_link("certificate", "1")


def test_a_statement_web_page_has_the_same_content_as_its_pdf(app, client, login, person, sent):
    doc_id = _ready(app, person)
    with app.app_context():
        doc = db.session.get_one(Document, doc_id)
        pdf_text = " ".join(lines_of(_file(doc)))
        url = service.page_url(doc_id)
    assert url in pdf_text.replace(" ", "") or url in pdf_text
    login("contributor", person_id=person)
    listing = client.get("/documents/").get_data(as_text=True)
    assert f"/documents/{doc_id}/page" in listing and "Read it as a web page" in listing
    assert f"/documents/{doc_id}/page" in client.get(f"/documents/{doc_id}").get_data(as_text=True)
    html = client.get(f"/documents/{doc_id}/page").get_data(as_text=True)
    assert '<html lang="en-GB">' in html
    assert "<caption>Payments, by the date received</caption>" in html
    assert '<th scope="col">Date received</th>' in html and '<th scope="row">16 April 2025</th>' in html
    for fact in ("£120.00", "£30.50", "Bus fares", "14 April 2025 (for work from 7 April 2025 to 13 April 2025)"):
        assert fact in html and fact in pdf_text, fact
    assert not any(word in html for word in ("Universal Credit", "Carer&#39;s Allowance", "Over the limit"))
    easy = client.get(f"/documents/{doc_id}/page?format=easy_read").get_data(as_text=True)
    assert "On 16 April 2025 you got £120.00." in easy and 'class="easy-picture"' in easy


def test_an_easy_read_documents_page_shows_the_easy_read_words(app, client, login, person, sent):
    doc_id = _ready(app, person, fmt="easy_read")
    with app.app_context():
        doc = db.session.get_one(Document, doc_id)
        pdf_lines = lines_of(_file(doc))
    login("contributor", person_id=person)
    html = client.get(f"/documents/{doc_id}/page").get_data(as_text=True)
    for line in ("This paper is for Zoë Łukasz.", "You got £120.00 in all.", "It is not advice about benefits."):
        assert line in pdf_lines and line in html, line
    assert "<table" not in html.split('class="document-page')[1]
    standard = client.get(f"/documents/{doc_id}/page?format=standard").get_data(as_text=True)
    assert "<caption>Payments, by the date received</caption>" in standard


def test_the_web_page_is_checked_like_the_download(app, client, login, person, make_person, sent):
    doc_id = _ready(app, person)
    login("contributor", person_id=make_person("Robin Other"))
    assert client.get(f"/documents/{doc_id}/page").status_code == 404
    assert client.get("/documents/999999/page").status_code == 404
    for role in ("admin", "coordinator", "finance"):
        login(role)
        assert client.get(f"/documents/{doc_id}/page").status_code == 200, role
    # An older statement that named benefits: finance may not open its file, nor its page.
    with app.app_context():
        old = Document(person_id=person, kind="statement", start_on=date(2025, 4, 1), end_on=date(2025, 4, 30),
                       template_version=TEMPLATE_VERSION)  # fmt: skip
        db.session.add(old)
        db.session.commit()
        old_id = old.id
        assert render_document(old_id) == "ready"
    login("finance")
    assert client.get(f"/documents/{old_id}/page").status_code == 404
    login("coordinator")
    assert client.get(f"/documents/{old_id}/page").status_code == 200


def test_a_document_not_ready_has_no_page_yet(app, client, login, person, sent):
    with app.app_context():
        doc, _ = service.request_document(
            db.session.get_one(Person, person), "statement", date(2025, 4, 1), date(2025, 4, 30), actor=None
        )
        db.session.commit()
        doc_id = doc.id
    login("contributor", person_id=person)
    resp = client.get(f"/documents/{doc_id}/page")
    assert resp.status_code == 409 and "not ready yet" in resp.get_data(as_text=True)


def test_a_certificate_web_page_in_both_formats(app, client, login, person, sent):
    doc_id = _ready(app, person, kind="certificate")
    login("contributor", person_id=person)
    html = client.get(f"/documents/{doc_id}/page").get_data(as_text=True)
    assert "Certificate of contribution" in html and "This is to certify that" in html and "Zoë Łukasz" in html
    assert "Lived experience panel" in html
    easy = client.get(f"/documents/{doc_id}/page?format=easy_read").get_data(as_text=True)
    assert "They gave 3 hours of their time." in easy and "Signed by Co-production lead." in easy
