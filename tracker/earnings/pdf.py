"""The printable copy of a signed earnings record: a pure step, data in, bytes out.

It uses the documents' fonts and table style (``tracker.documents.pdf``). The JSON file is what another
organisation imports; the PDF shows the same entries and the verification code that ties the two.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from tracker.documents.pdf import _build, _p, _styles, _table


@dataclass(frozen=True)
class RecordPrint:
    organisation: str
    person_name: str
    person_ref: str
    period_label: str
    issued: str
    key_id: str
    verification_code: str
    total: str
    rows: tuple[tuple[str, str, str, str, str, str, str], ...]  # received, due, worked, hours, kind, status, amount
    notice: str


def render(d: RecordPrint) -> bytes:
    s = _styles()
    w = A4[0] - 36 * mm
    story = [
        _p("Earnings record", s["h1"]),
        _p(d.person_name, s["h2"]),
        _p(f"Your reference at {d.organisation}: {d.person_ref}", s["base"]),
        _p(f"Period: {d.period_label}. Issued {d.issued}.", s["base"]),
        _p(f"Total: {d.total}", s["base"]),
        _p(f"Verification code: {d.verification_code}", s["h2"]),
        _p(f"Signed by {d.organisation} with key {d.key_id}.", s["base"]),
        _p("Payments", s["h2"]),
    ]
    if d.rows:
        widths = (w * 0.15, w * 0.15, w * 0.17, w * 0.08, w * 0.17, w * 0.13, w * 0.15)
        header = ("Received", "Due", "Worked", "Hours", "How", "Status", "Amount")
        story.append(_table(header, d.rows, s, widths))
    else:
        story.append(_p("No payments in this period.", s["base"]))
    story += [Spacer(1, 6 * mm), _p(d.notice, s["small"])]
    return _build(story, f"Earnings record for {d.person_name}, {d.period_label}", d.organisation)
