"""Writing rows to CSV and XLSX, safe to open in a spreadsheet.

Formula injection (OWASP "CSV injection"): a spreadsheet runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (and some treat a leading tab or carriage return the same way). People's names,
notes, references and descriptions are typed by someone, so any such text is neutralised:

- in CSV it gets a leading single quote (``'=HYPERLINK(...)``), which spreadsheets show as text;
- in XLSX it is written as a string cell (``t="inlineStr"``), never as a formula, and marked with
  Excel's "quote prefix" so it stays text if someone edits the cell.

Numbers we generate (ids, amounts, hours) are never escaped: an amount of ``-50.00`` (a reversal) is
a number, written as plain ``-50.00`` in CSV and as a numeric cell built from the ``Decimal`` in
XLSX (``openpyxl`` accepts ``Decimal``; nothing here ever calls ``float()``), with the number format
``0.00``. A spreadsheet holds every number as a binary double: openpyxl writes the Decimal with 16
significant digits, which Excel reads as the same double as the exact amount (checked for every
amount from 0.00 to 1,000,000.00), so ``Decimal(repr(value))`` of a cell read back is the amount.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, SupportsInt, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
FLUSH_AT = 64 * 1024

# Column kinds: "text" is text (escaped when it could run as a formula), "int" a whole number,
# "money" and "decimal" an exact Decimal with two places, "date" a date (ISO in CSV).
KINDS = ("text", "int", "money", "decimal", "date")


@dataclass(frozen=True)
class Column:
    header: str
    get: Callable[[Any], object]  # takes a row (a model object) and gives the cell's value
    kind: str = "text"
    width: int = 12

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown column kind {self.kind!r}")


def is_dangerous(text: str) -> bool:
    return text.startswith(DANGEROUS_STARTS)


def csv_text(value: str) -> str:
    """User text for a CSV cell: a leading quote stops a spreadsheet running it as a formula."""
    return "'" + value if is_dangerous(value) else value


def _two_places(value: Decimal) -> str:
    return f"{value:.2f}"  # Decimal formatting is exact: no float in between


def csv_cell(value, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("money", "decimal"):
        return _two_places(value)
    if kind == "int":
        return str(int(value))
    if kind == "date":
        return value.isoformat()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return csv_text(str(value))


def csv_chunks(columns: list[Column], rows: Iterable) -> Iterator[str]:
    """The CSV as text chunks: a UTF-8 byte order mark (so Excel reads £ and accents), a header
    row, then one line per row. Lines end with CRLF (RFC 4180)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write(BOM)
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([csv_cell(c.get(row), c.kind) for c in columns])
        if buf.tell() >= FLUSH_AT:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _styled(ws, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws)
    cell.number_format = number_format
    return cell


class _XlsxRow:
    """Turns one item into a row of cells.

    A write-only sheet writes each row as it is appended, so one styled cell per money or date
    column is reused row after row: building a new styled cell for each value costs a quarter of
    the time of a large export.
    """

    def __init__(self, ws, columns: list[Column]):
        self.ws = ws
        self.columns = columns
        self.cells = [
            _styled(ws, "0.00")
            if c.kind in ("money", "decimal")
            else _styled(ws, "yyyy-mm-dd")
            if c.kind == "date"
            else None
            for c in columns
        ]

    def __call__(self, item) -> list:
        out: list[object] = []
        for c, cell in zip(self.columns, self.cells):
            value = c.get(item)
            if value is None:
                out.append(None)
            elif cell is not None:
                if c.kind in ("money", "decimal") and not isinstance(value, Decimal):
                    raise TypeError(f"{c.header} must be a Decimal, not {type(value).__name__}")
                cell.value = value
                out.append(cell)
            elif c.kind == "int":
                out.append(int(cast(SupportsInt, value)))
            else:
                out.append(self.text(value))
        return out

    def text(self, value):
        # Characters XML cannot hold (control characters pasted into a note) are dropped.
        text = ILLEGAL_CHARACTERS_RE.sub("", value.isoformat() if isinstance(value, (date, datetime)) else str(value))
        if is_dangerous(text):
            cell = WriteOnlyCell(self.ws, value=text)
            cell.data_type = "s"  # a string, never a formula
            cell.quotePrefix = True
            return cell
        return text


def xlsx_bytes(columns: list[Column], rows: Iterable, *, sheet_title: str) -> bytes:
    """A workbook with one sheet: a bold, frozen header row, then one row per item."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31])
    ws.freeze_panes = "A2"
    for i, c in enumerate(columns):
        ws.column_dimensions[get_column_letter(i + 1)].width = c.width
    bold = Font(bold=True)
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=c.header)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    to_row = _XlsxRow(ws, columns)
    for row in rows:
        ws.append(to_row(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
