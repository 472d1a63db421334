"""Measure an uploaded file before anything opens it, so no upload can hold a web process.

An XLSX file is a zip archive: a few kilobytes can unpack to gigabytes, or hold millions of shared
strings that a spreadsheet reader would build in memory before reading the first row. Here the
archive's directory is read (sizes as the archive states them), the shared-strings part is read as
a stream bounded in bytes, and each sheet's stated size (its ``dimension``) is read from the first
bytes of the sheet. Anything over a limit is refused in plain words; nothing is unpacked whole.

A CSV file's lines are counted. The result says how many rows the file holds, so a large file is
handed to the worker (``tracker.imports.batches``) and a small one is checked while the person waits.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from tracker.imports.service import MAX_COLUMNS, MAX_LINES, FileProblem

MAX_UNPACKED = 40 * 1024 * 1024  # bytes inside a workbook, all parts together
MAX_RATIO = 100  # unpacked size over packed size, above MIN_RATIO_CHECK
MIN_RATIO_CHECK = 1024 * 1024
MAX_PARTS = 1000
MAX_SHARED_STRINGS = 200_000
MAX_SHEET_COLUMNS = 1_000  # the header row itself is limited to MAX_COLUMNS
HEAD = 64 * 1024  # bytes read from the start of a part to find its counts
STREAM = 256 * 1024
#: A file estimated at more rows than this is checked and imported by the worker, with progress.
INLINE_ROWS = 100

NOT_A_WORKBOOK = (
    "The file could not be opened as an Excel workbook (.xlsx). Save it from your spreadsheet as "
    "“Excel Workbook (.xlsx)” or as “CSV UTF-8”."
)
_SST = re.compile(rb"<(?:\w+:)?sst\b([^>]*)>")
_COUNT = re.compile(rb"\b(uniqueCount|count)\s*=\s*[\"'](\d{1,12})[\"']")
_SI = re.compile(rb"<(?:\w+:)?si[\s>/]")
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s+ref\s*=\s*[\"']([A-Z]{1,3})?(\d{1,7})?(?::([A-Z]{1,3})(\d{1,7}))?[\"']"
)
_ROW = re.compile(rb"<(?:\w+:)?row[\s>]")


@dataclass(frozen=True)
class Measure:
    rows: int  # data rows, as far as the file says (an estimate: empty rows included)

    @property
    def large(self) -> bool:
        return self.rows > INLINE_ROWS


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def measure(filename: str, data: bytes) -> Measure:
    """How big the file is, refused in plain words when too big to read safely."""
    if filename.lower().endswith(".xlsx"):
        return measure_xlsx(data)
    return measure_csv(data)


def measure_csv(data: bytes) -> Measure:
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines > MAX_LINES:
        raise FileProblem(
            f"The file has more than {MAX_LINES:,} lines, counting empty ones. Delete the empty rows "
            "at the end, or save only the rows with data."
        )
    return Measure(rows=max(lines - 1, 0))


def measure_xlsx(data: bytes) -> Measure:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise FileProblem(NOT_A_WORKBOOK) from None
    with archive:
        _sizes(parts)
        names = {p.filename: p for p in parts}
        strings = names.get("xl/sharedStrings.xml")
        if strings is not None:
            _shared_strings(archive, strings)
        sheets = [p for p in parts if re.fullmatch(r"xl/worksheets/[^/]+\.xml", p.filename)]
        if not sheets:
            raise FileProblem(NOT_A_WORKBOOK)
        rows = max(_sheet_rows(archive, p) for p in sheets)
    return Measure(rows=rows)


def _sizes(parts: list[zipfile.ZipInfo]) -> None:
    if len(parts) > MAX_PARTS:
        raise FileProblem(f"The workbook has more than {MAX_PARTS:,} parts. Save it again as a plain workbook.")
    unpacked = sum(p.file_size for p in parts)
    packed = sum(p.compress_size for p in parts)
    if unpacked > MAX_UNPACKED:
        raise FileProblem(
            f"The workbook unpacks to {unpacked / 1_048_576:,.0f} MB; the most the tracker reads is "
            f"{MAX_UNPACKED // 1_048_576} MB. Save only the rows and columns with data, or save it as “CSV UTF-8”."
        )
    if unpacked > MIN_RATIO_CHECK and unpacked > MAX_RATIO * max(packed, 1):
        raise FileProblem(
            "The workbook unpacks to far more than a spreadsheet of this size should. Save it again from "
            "your spreadsheet as “Excel Workbook (.xlsx)” or as “CSV UTF-8”."
        )


def _read(archive: zipfile.ZipFile, part: zipfile.ZipInfo, limit: int) -> bytes:
    """At most ``limit`` unpacked bytes from the start of a part."""
    try:
        with archive.open(part) as f:
            return f.read(limit)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise FileProblem(NOT_A_WORKBOOK) from None


def _too_many_strings(count: int) -> FileProblem:
    return FileProblem(
        f"The workbook holds {count:,} different pieces of text; the most the tracker reads is "
        f"{MAX_SHARED_STRINGS:,}. Save only the rows with data, or save it as “CSV UTF-8”."
    )


def _shared_strings(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """The number of shared strings: from the part's own count, or counted in a bounded stream."""
    head = _read(archive, part, HEAD)
    found = _SST.search(head)
    stated = dict(_COUNT.findall(found.group(1))) if found else {}
    for key in (b"uniqueCount", b"count"):
        if key in stated and int(stated[key]) > MAX_SHARED_STRINGS:
            raise _too_many_strings(int(stated[key]))
    counted, tail = 0, b""
    try:
        with archive.open(part) as f:
            while chunk := f.read(STREAM):
                window = tail + chunk
                counted += len(_SI.findall(window))
                tail = window[-32:]
                counted -= len(_SI.findall(tail))  # counted again with the next chunk
                if counted > MAX_SHARED_STRINGS:
                    raise _too_many_strings(counted)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise FileProblem(NOT_A_WORKBOOK) from None


def _sheet_rows(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> int:
    """The rows a sheet says it spans (from its dimension), refused over the limits."""
    head = _read(archive, part, HEAD)
    found = _DIMENSION.search(head)
    if found and found.group(3):
        rows = int(found.group(4)) - int(found.group(2) or 1) + 1
        columns = _column_number(found.group(3)) - _column_number(found.group(1) or b"A") + 1
    else:
        # No stated size: estimate from the rows in the first bytes and the part's size.
        rows = len(_ROW.findall(head)) * max(1, part.file_size // max(len(head), 1))
        columns = 0
    if rows > MAX_LINES:
        raise FileProblem(
            f"A sheet in the workbook spans {rows:,} rows; the most the tracker reads is {MAX_LINES:,}. "
            "Delete the empty rows at the end, or save only the rows with data."
        )
    if columns > MAX_SHEET_COLUMNS:
        raise FileProblem(
            f"A sheet in the workbook spans {columns:,} columns. Keep only the {MAX_COLUMNS} or fewer "
            "columns listed below."
        )
    return max(rows - 1, 0)
