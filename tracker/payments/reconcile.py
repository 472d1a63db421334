"""Reconciliation: a bank statement's lines matched to the paid payments of a period.

The statement is a CSV file with the columns date, amount, reference (a header row is allowed).
Lines are matched to paid payments in the period by reference and amount; what does not match is
listed on either side, and a reference found with a different amount is listed apart. Nothing is
stored but an audit event with the counts. A statement with any bad line is refused whole, with
the line numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.audit import service as audit
from tracker.errors import ValidationFailed
from tracker.exports.writers import Column, csv_chunks
from tracker.extensions import db
from tracker.payments.models import Payment

MAX_BYTES = 1024 * 1024
MAX_REFERENCE = 100
_AMOUNT = re.compile(r"^-?\d{1,9}(\.\d{1,2})?$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


@dataclass(frozen=True)
class Line:
    """One line of the statement; ``number`` is its line in the file."""

    number: int
    on: date
    amount: Decimal
    reference: str


@dataclass
class Result:
    """What matched, and what did not on either side."""

    matched: list[tuple[Line, Payment]] = field(default_factory=list)
    lines_only: list[Line] = field(default_factory=list)
    payments_only: list[Payment] = field(default_factory=list)
    amount_differs: list[tuple[Line, Payment]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "matched": len(self.matched),
            "lines_without_payment": len(self.lines_only),
            "payments_without_line": len(self.payments_only),
            "amount_differs": len(self.amount_differs),
        }


# ---- reading the statement ---------------------------------------------------------------------


def _text(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise ValidationFailed({"statement": ["The file is larger than 1 MB. Split the statement by month."]})
    if not raw.strip():
        raise ValidationFailed({"statement": ["The file is empty. Choose the bank statement's CSV file."]})
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed({"statement": ["The file is not a text CSV file (UTF-8)."]}) from None


def _day(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _is_header(cells: list[str]) -> bool:
    return bool(cells) and cells[0].strip().lower() == "date"


def _line(number: int, cells: list[str], start: date, end: date) -> tuple[Line | None, str | None]:
    """One statement line, or what is wrong with it."""
    if len(cells) != 3:
        return None, f"it has {len(cells)} columns, not 3 (date, amount, reference)"
    on = _day(cells[0].strip())
    amount, reference = cells[1].strip().replace(",", ""), cells[2].strip()
    if on is None:
        return None, f"the date {cells[0].strip()!r} is not a date like 2025-04-07"
    if not start <= on <= end:
        return None, "the date is outside the period"
    if not _AMOUNT.match(amount):
        return None, f"the amount {cells[1].strip()!r} is not an amount like 150.00 or -150.00"
    if len(reference) > MAX_REFERENCE:
        return None, f"the reference is longer than {MAX_REFERENCE} characters"
    return Line(number, on, Decimal(amount), reference), None


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield reader.line_num, cells
    except csv.Error as e:
        yield reader.line_num, ["", "", "", str(e)]


def read_statement(raw: bytes, start: date, end: date) -> list[Line]:
    """The statement's lines; a ValidationFailed listing every bad line by number otherwise."""
    lines, bad = [], []
    for n, (number, cells) in enumerate(_rows(_text(raw))):
        if n == 0 and _is_header(cells):
            continue
        line, problem = _line(number, cells, start, end)
        if problem or line is None:
            bad.append(f"Line {number}: {problem}.")
        else:
            lines.append(line)
    if bad:
        raise ValidationFailed({"statement": bad[:50] + ([f"And {len(bad) - 50} more."] if len(bad) > 50 else [])})
    if not lines:
        raise ValidationFailed({"statement": ["The file has no statement lines."]})
    return lines


# ---- matching --------------------------------------------------------------------------------------


def _key(reference: str | None) -> str:
    return " ".join((reference or "").split()).lower()


def paid_in(start: date, end: date) -> list[Payment]:
    """Paid payments received in the period (reversal entries are not bank lines of their own)."""
    return list(
        db.session.scalars(
            sa.select(Payment)
            .options(so.joinedload(Payment.person))
            .where(Payment.status == "paid", Payment.reversal_of_id.is_(None), Payment.paid_on.between(start, end))
            .order_by(Payment.paid_on, Payment.id)
        )
    )


def match(lines: list[Line], payments: list[Payment]) -> Result:
    """Each line takes the first payment with its reference and amount; a reference found only with
    another amount is a difference."""
    out = Result()
    by_ref: dict[str, list[Payment]] = {}
    for p in payments:
        if _key(p.reference):
            by_ref.setdefault(_key(p.reference), []).append(p)
    used: set[int] = set()
    for line in lines:
        same = [p for p in by_ref.get(_key(line.reference), []) if p.id not in used]
        exact = next((p for p in same if p.amount == abs(line.amount)), None)
        if exact is not None:
            out.matched.append((line, exact))
            used.add(exact.id)
        elif same:
            out.amount_differs.append((line, same[0]))
            used.add(same[0].id)
        else:
            out.lines_only.append(line)
    out.payments_only = [p for p in payments if p.id not in used]
    return out


def run(raw: bytes, start: date, end: date, *, actor) -> Result:
    """Read, match and audit (``reconciliation.run`` with the counts). Stores nothing else."""
    result = match(read_statement(raw, start, end), paid_in(start, end))
    audit.record(
        actor,
        "reconciliation.run",
        None,
        entity_type="reconciliation",
        after={"start": start, "end": end, **result.counts()},
    )
    return result


# ---- the mismatches as a CSV file ----------------------------------------------------------------------

MISMATCH_COLUMNS = [
    Column("problem", lambda r: r[0], "text", 30),
    Column("statement line", lambda r: r[1].number if r[1] else None, "int"),
    Column("statement date", lambda r: r[1].on if r[1] else None, "date"),
    Column("statement amount", lambda r: r[1].amount if r[1] else None, "money"),
    Column("statement reference", lambda r: r[1].reference if r[1] else None, "text", 20),
    Column("payment id", lambda r: r[2].id if r[2] else None, "int"),
    Column("person", lambda r: r[2].person.name if r[2] else None, "text", 24),
    Column("date paid", lambda r: r[2].paid_on if r[2] else None, "date"),
    Column("amount paid", lambda r: r[2].amount if r[2] else None, "money"),
    Column("payment reference", lambda r: r[2].reference if r[2] else None, "text", 20),
]


def mismatch_rows(result: Result) -> list[tuple]:
    return (
        [("line with no payment", line, None) for line in result.lines_only]
        + [("paid with no line", None, p) for p in result.payments_only]
        + [("amount differs", line, p) for line, p in result.amount_differs]
    )


def mismatches_csv(result: Result) -> Iterator[str]:
    """The mismatches, each text cell made safe from running as a spreadsheet formula."""
    return csv_chunks(MISMATCH_COLUMNS, mismatch_rows(result))
