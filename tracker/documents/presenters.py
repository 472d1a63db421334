"""What the document pages say: the period choices with their actual dates, a document's status
in words, the people to choose from, and the messages after asking for a document or a batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO, cast

from flask import Response, send_file

from tracker.documents import pdf
from tracker.documents.models import Document
from tracker.engine import periods
from tracker.people.models import BenefitClaim, Person
from tracker.timeutil import day_text
from tracker.vocab import BENEFIT_INFO

#: Benefits counted per benefit week, so a "this benefit week" period is offered for them.
WEEK_BENEFITS = ("CA", "CSP", "ESA", "JSA")
KIND_LABELS = {
    "statement": "Statement of payments",
    "certificate": "Certificate of contribution",
    "training_certificate": "Training certificate",
}


def file_response(body: IO[bytes], doc: Document, download_name: str) -> Response:
    """A document's file as a private download: streamed from ``body`` (closed when sent), never
    cached, with its SHA-256 as the ETag."""
    body.seek(0, 2)
    size = body.tell()
    body.seek(0)
    resp = send_file(
        body, mimetype="application/pdf", as_attachment=True, download_name=download_name, max_age=0, etag=False
    )
    resp.content_length = size
    resp.set_etag(doc.sha256 or "")
    resp.headers["Cache-Control"] = "no-store"
    return resp


CHOOSE_WHO = "Choose who the document is for."
CHOOSE_FROM_LIST = "Choose a person from the list."


def long_date(day: date) -> str:
    return day_text(day)


def span(start: date, end: date) -> str:
    return f"{long_date(start)} to {long_date(end)}"


def status_words(doc: Document) -> str:
    if doc.status == "ready":
        return "Ready"
    if doc.status == "failed":
        return "Could not be made: " + (doc.failure_reason or "no reason was recorded")
    return "Being prepared"


def download_name(doc: Document) -> str:
    return f"{doc.kind.replace('_', '-')}-{doc.start_on.isoformat()}-to-{doc.end_on.isoformat()}.pdf"


def person_choices(rows) -> list[tuple[str, str]]:
    """The "Who is it for?" choices from (id, name) rows."""
    return [("", "Choose a person")] + [(str(pid), f"{name} (number {pid})") for pid, name in rows]


def requested(kind: str, created: bool) -> tuple[str, str]:
    """The message (and its category) after asking for a document."""
    label = KIND_LABELS[kind].lower()
    if created:
        return f"Thank you. We are making the {label} now.", "success"
    return (f"This {label} had already been asked for, so here it is. It uses the choices made the first time.", "info")


def batch_requested(total: int) -> tuple[str, str]:
    """The message (and its category) after asking for a batch of statements."""
    if total:
        return f"Statements asked for {total} {'person' if total == 1 else 'people'}.", "success"
    return "Nobody took part or was paid in that period, so there are no statements to make.", "info"


# ---- period choices ----------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    value: str
    label: str
    start: date | None
    end: date | None


CUSTOM = Preset("custom", "Other dates (enter them below)", None, None)


def _tax_presets(on: date) -> list[Preset]:
    this = periods.window("tax_year", on)
    last = periods.window("tax_year", this[0] - timedelta(days=1))
    return [
        Preset("tax_this", f"This tax year (6 April to 5 April): {span(*this)}", *this),
        Preset("tax_last", f"Last tax year: {span(*last)}", *last),
    ]


def _uc_presets(claims: list[BenefitClaim], on: date) -> list[Preset]:
    uc = next((c for c in claims if c.benefit == "UC"), None)
    if uc is None:
        return []
    try:
        this = periods.window("uc_assessment_period", on, uc.attributes or {}, anchor=uc.start_on)
        last = periods.window(
            "uc_assessment_period", this[0] - timedelta(days=1), uc.attributes or {}, anchor=uc.start_on
        )
    except (periods.PeriodError, ValueError, OverflowError):
        return []
    return [
        Preset("uc_this", f"This Universal Credit assessment period: {span(*this)}", *this),
        Preset("uc_last", f"Last assessment period: {span(*last)}", *last),
    ]


def _week_preset(claim: BenefitClaim, on: date) -> Preset | None:
    benefit = BENEFIT_INFO[claim.benefit]
    default = cast(str, next((a.default for a in benefit.attributes if a.name == "week_start"), "monday"))
    try:
        start, end = periods.window("week", on, claim.attributes or {}, rule_week_start=default)
    except (periods.PeriodError, ValueError, OverflowError):
        return None
    return Preset(
        f"week_{claim.benefit}",
        f"This benefit week for {benefit.name} ({start:%A} to {end:%A}): {span(start, end)}",
        start,
        end,
    )


def _week_presets(claims: list[BenefitClaim], on: date) -> list[Preset]:
    out: list[Preset] = []
    seen = set()
    for claim in claims:
        if claim.benefit not in WEEK_BENEFITS or claim.benefit in seen:
            continue
        seen.add(claim.benefit)
        preset = _week_preset(claim, on)
        if preset is not None:
            out.append(preset)
    return out


def benefit_presets(person: Person, on: date) -> list[Preset]:
    """Periods from the person's own benefits: their UC assessment period, their benefit week."""
    claims = [c for c in person.claims if c.active_on(on)]
    return _uc_presets(claims, on) + _week_presets(claims, on)


def statement_presets(person: Person, on: date, *, with_benefits: bool) -> list[Preset]:
    presets = benefit_presets(person, on) if with_benefits else []
    return [*presets, *_tax_presets(on), CUSTOM]


def batch_presets(on: date) -> list[Preset]:
    first = on.replace(day=1)
    last_month_end = first - timedelta(days=1)
    last_month = (last_month_end.replace(day=1), last_month_end)
    this_month = periods.window("calendar_month", on)
    return [
        Preset("last_month", f"Last month: {span(*last_month)}", *last_month),
        Preset("this_month", f"This month: {span(*this_month)}", *this_month),
        *_tax_presets(on),
        CUSTOM,
    ]


def has_benefit_periods(presets: list[Preset]) -> bool:
    """True when the choices name the person's benefits (special-category data, so the view is recorded)."""
    return any(p.value.startswith(("uc_", "week_")) for p in presets)


# ---- a document as a web page (issue 16, item 5) -----------------------------------------------


@dataclass(frozen=True)
class Section:
    """A part of a statement's web page: a heading, and a table (with its caption) or a sentence."""

    heading: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = ""


def statement_sections(d: pdf.StatementData) -> list[Section]:
    """The statement's tables, in the PDF's order and with its column headings; a part the PDF leaves
    out when empty (expenses, choices, months) is left out here too."""
    sections = [
        Section("Contributions", "Contributions, by date", pdf.CONTRIBUTIONS, d.contributions,
                "No contributions in this period."),
        Section("Payments (by the date received)", "Payments, by the date received", pdf.PAYMENTS, d.payments,
                "No payments in this period."),
    ]  # fmt: skip
    if d.payments:
        sections.append(Section("Totals by how it was paid", "Totals by how it was paid", pdf.TOTALS, d.totals_by_kind))
    optional = (
        ("Expenses repaid", "Expenses repaid", pdf.EXPENSES, d.expenses),
        ("Choices about payment", "Choices about payment", pdf.CHOICES, d.choices),
        ("Totals for each month", "Hours and money received in each month", pdf.BY_MONTH, d.by_month),
    )
    sections += [Section(h, c, head, rows) for h, c, head, rows in optional if rows]
    return sections


def page_title(doc: Document, easy: bool) -> str:
    label = KIND_LABELS.get(doc.kind, doc.kind)
    return f"{label}, easy read" if easy else label
