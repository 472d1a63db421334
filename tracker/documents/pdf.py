"""PDF rendering: a pure step. Data in, bytes out.

No queries, no Flask, no clock: the caller passes every string (already formatted) and the
issue date. ReportLab's invariant mode removes timestamps and random ids, so the same data always
gives the same bytes, and the document's SHA-256 is stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tracker.documents import pictures

if TYPE_CHECKING:
    from tracker.documents.easyread import EasyRead

rl_config.invariant = 1

FONT, FONT_BOLD = "TrackerSans", "TrackerSans-Bold"
_fonts_ready = False


def _register_fonts() -> None:
    """Source Sans Pro covers Zoë, Siobhán, Łukasz, Olúwaṣeun and the £ sign. Registered once."""
    global _fonts_ready
    if _fonts_ready:
        return
    import font_source_sans_pro

    folder = Path(font_source_sans_pro.__file__).parent / "files"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "SourceSansPro-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(folder / "SourceSansPro-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
    _fonts_ready = True


@dataclass(frozen=True)
class CoverLetter:
    addressee: str
    body: tuple[str, ...]
    signatory: str
    signatory_role: str


@dataclass(frozen=True)
class StatementData:
    organisation: str
    person_name: str
    period_label: str
    issued_on: str
    contributions: tuple[tuple[str, str, str, str], ...] = ()  # date, activity, hours, value owed
    payments: tuple[tuple[str, str, str, str, str], ...] = ()  # date received, date due, how, amount, status
    totals_by_kind: tuple[tuple[str, str], ...] = ()  # kind, total
    expenses: tuple[tuple[str, str, str, str], ...] = ()  # date, description, amount, counted?
    choices: tuple[tuple[str, str, str, str], ...] = ()  # date, choice, offered, accepted
    by_month: tuple[tuple[str, str, str], ...] = ()  # month, hours, received
    total_paid: str = "£0.00"
    total_hours: str = "0"
    #: For a period with nothing in it: the one sentence that says so (the statement is one page).
    nothing: str = ""
    notice: str = ""
    cover_letter: CoverLetter | None = None


@dataclass(frozen=True)
class CertificateData:
    organisation: str
    person_name: str
    title: str  # "Certificate of contribution" or "Certificate of training"
    statement: str  # one sentence: what the person did
    details: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # label, value
    signatory: str = ""
    signatory_role: str = ""
    issued_on: str = ""


#: The statement's tables: their column headings (the web page of a statement uses the same).
CONTRIBUTIONS = ("Date", "Activity", "Hours", "Value")
PAYMENTS = ("Date received", "Date due", "How", "Amount", "Status")
TOTALS = ("How", "Total")
EXPENSES = ("Date repaid", "What for", "Amount", "Counted as earnings?")
CHOICES = ("Date", "Choice", "Offered", "Accepted")
BY_MONTH = ("Month", "Hours of contribution", "Received")


def _styles():
    _register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=11, leading=15)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=12),
        "h1": ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=20, leading=24, spaceAfter=6),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=10, spaceAfter=4
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontName=FONT_BOLD, fontSize=28, leading=34, alignment=TA_CENTER, spaceAfter=12
        ),
        "centre": ParagraphStyle("centre", parent=base, fontSize=13, leading=18, alignment=TA_CENTER),
        "name": ParagraphStyle(
            "name",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=24,
            leading=30,
            alignment=TA_CENTER,
            spaceBefore=10,
            spaceAfter=10,
        ),
    }


def _p(text: str, style) -> Paragraph:
    return Paragraph(escape(text), style)


def _link(link: str, style) -> list:
    """The closing line that points to the document's web page (issue 16, item 5): the same content
    as HTML, which a screen reader can move through (this PDF has no structure tags)."""
    if not link:
        return []
    words = "This document is also a web page that works with a screen reader:"
    return [Spacer(1, 4 * mm), Paragraph(f"{words} {_anchor(link)}", style)]


def _anchor(link: str) -> str:
    """Paragraph markup for a link that shows its own address."""
    url = escape(link, {'"': "&quot;"})
    return f'<a href="{url}" color="#1d70b8">{escape(link)}</a>'


def _table(header: tuple[str, ...], rows, styles, widths, numeric_cols=()) -> Table:
    data = [[_p(h, styles["small"]) for h in header]]
    for row in rows:
        data.append([_p(str(c), styles["small"]) for c in row])
    t = Table(data, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    t.setStyle(TableStyle(style))
    return t


def _build(story, title: str, author: str) -> bytes:
    buf = BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        subject=title,
        creator=author,
        lang="en-GB",
    )
    doc.build(story)
    return buf.getvalue()


def _cover_letter(d: StatementData, s) -> list:
    c = d.cover_letter
    if c is None:
        return []
    story = [
        _p(d.organisation, s["h2"]),
        _p(d.issued_on, s["base"]),
        Spacer(1, 8 * mm),
        _p(c.addressee, s["base"]),
        Spacer(1, 6 * mm),
    ]
    story += [_p(line, s["base"]) for line in c.body]
    return [*story, Spacer(1, 10 * mm), _p(c.signatory, s["base"]), _p(c.signatory_role, s["base"]), PageBreak()]


def _contributions(d: StatementData, s, w) -> list:
    if not d.contributions:
        return [_p("Contributions", s["h2"]), _p("No contributions in this period.", s["base"])]
    table = _table(CONTRIBUTIONS, d.contributions, s, (w * 0.18, w * 0.52, w * 0.12, w * 0.18))
    return [_p("Contributions", s["h2"]), table]


def _payments(d: StatementData, s, w) -> list:
    story = [_p("Payments (by the date received)", s["h2"])]
    if not d.payments:
        return [*story, _p("No payments in this period.", s["base"])]
    widths = (w * 0.17, w * 0.3, w * 0.25, w * 0.12, w * 0.16)
    story.append(_table(PAYMENTS, d.payments, s, widths))
    story.append(_table(TOTALS, d.totals_by_kind, s, (w * 0.5, w * 0.2)))
    return story


def _extras(d: StatementData, s, w) -> list:
    story: list = []
    if d.expenses:
        story.append(_p("Expenses repaid", s["h2"]))
        story.append(_table(EXPENSES, d.expenses, s, (w * 0.16, w * 0.44, w * 0.14, w * 0.26)))
    if d.choices:
        story.append(_p("Choices about payment", s["h2"]))
        story.append(_table(CHOICES, d.choices, s, (w * 0.16, w * 0.48, w * 0.18, w * 0.18)))
    if d.by_month:
        story.append(_p("Totals for each month", s["h2"]))
        story.append(_table(BY_MONTH, d.by_month, s, (w * 0.3, w * 0.3, w * 0.2)))
    return story


def render_statement(d: StatementData, link: str = "") -> bytes:
    """A statement carries facts only: what was received and when, when it was due, and hours. A
    period with nothing in it is one short page that says so."""
    s = _styles()
    w = A4[0] - 36 * mm
    story = _cover_letter(d, s)
    story += [
        _p("Statement of contributions and payments", s["h1"]),
        _p(f"{d.person_name}", s["h2"]),
        _p(f"Period: {d.period_label}", s["base"]),
        _p(f"From {d.organisation}. Issued on {d.issued_on}.", s["base"]),
    ]
    if d.nothing:
        story.append(_p(d.nothing, s["base"]))
    else:
        story.append(
            _p(f"Total received in this period: {d.total_paid}. Hours of contribution: {d.total_hours}.", s["base"])
        )
        story += _contributions(d, s, w) + _payments(d, s, w) + _extras(d, s, w)
    if d.notice:
        story += [Spacer(1, 6 * mm), _p(d.notice, s["small"])]
    story += _link(link, s["small"])
    return _build(story, f"Statement for {d.person_name}, {d.period_label}", d.organisation)


def render_certificate(d: CertificateData, link: str = "") -> bytes:
    s = _styles()
    story = [
        Spacer(1, 25 * mm),
        _p(d.title, s["title"]),
        _p("This is to certify that", s["centre"]),
        _p(d.person_name, s["name"]),
        _p(d.statement, s["centre"]),
        Spacer(1, 10 * mm),
    ]
    if d.details:
        w = A4[0] - 60 * mm
        t = Table([[_p(k, s["base"]), _p(v, s["base"])] for k, v in d.details], colWidths=(w * 0.35, w * 0.65))
        t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(t)
    story += [
        Spacer(1, 20 * mm),
        _p(d.signatory, s["centre"]),
        _p(d.signatory_role, s["centre"]),
        _p(d.organisation, s["centre"]),
        _p(f"Issued on {d.issued_on}", s["centre"]),
        *_link(link, s["small"]),
    ]
    return _build(story, f"{d.title}: {d.person_name}", d.organisation)


# ---- easy read ------------------------------------------------------------------------------------

#: Easy read's type: body 18 pt on 26 pt lines (at least 16 pt, as the easy-read guidance asks),
#: part headings 26 pt, the title 34 pt. Left aligned, never justified; one line for each idea.
EASY_BODY, EASY_HEADING, EASY_TITLE = 18, 26, 34


def _easy_styles():
    _register_fonts()
    body = ParagraphStyle("easy", fontName=FONT, fontSize=EASY_BODY, leading=26, spaceAfter=8)
    return {
        "body": body,
        "heading": ParagraphStyle("easy-h2", parent=body, fontName=FONT_BOLD, fontSize=EASY_HEADING, leading=32),
        "title": ParagraphStyle(
            "easy-h1", parent=body, fontName=FONT_BOLD, fontSize=EASY_TITLE, leading=42, spaceAfter=14
        ),
    }


def _easy_line(line: str, style) -> Paragraph:
    if line.startswith(("http://", "https://")):  # the web page's address: a link
        return Paragraph(_anchor(line), style)
    return _p(line, style)


def _easy_part(part, s, width: float) -> list:
    """A part: its picture beside its heading, then each line on its own."""
    head = Table(
        [[pictures.drawing(part.picture), _p(part.heading, s["heading"])]],
        colWidths=(pictures.SIZE + 6 * mm, width - pictures.SIZE - 6 * mm),
    )
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    lines = [_easy_line(line, s["body"]) for line in part.lines]
    # The heading never sits alone at the foot of a page: it keeps its first two lines with it.
    return [Spacer(1, 6 * mm), KeepTogether([head, *lines[:2]]), *lines[2:]]


def render_easy_read(e: EasyRead, title: str, author: str, cover: list | None = None) -> bytes:
    """An easy-read statement or certificate (``easyread.statement`` / ``easyread.certificate``)."""
    s = _easy_styles()
    width = A4[0] - 36 * mm
    story = [*(cover or []), _p(e.title, s["title"])]
    for part in e.parts:
        story += _easy_part(part, s, width)
    return _build(story, title, author)


def easy_statement(d: StatementData, e: EasyRead) -> bytes:
    """The easy-read statement, with the standard cover letter to the work coach when asked for."""
    return render_easy_read(e, f"Easy read statement for {d.person_name}, {d.period_label}", d.organisation,
                            _cover_letter(d, _styles()))  # fmt: skip


def easy_certificate(d: CertificateData, e: EasyRead) -> bytes:
    return render_easy_read(e, f"Easy read {d.title.lower()}: {d.person_name}", d.organisation)
