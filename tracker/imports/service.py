"""Import of historical contributions and payments from a CSV or XLSX file.

Two steps, both reading the whole file:

1. ``check_file`` reads and checks every row and writes nothing. It reports every bad row with its
   line number (the header is line 1; for a spreadsheet, the line is the row number) and a plain
   reason, plus warnings that do not stop an import (a row that looks like one already recorded).
   Each payment is checked against the benefit rules, oldest first, with the file's earlier rows
   for the same person counted (``rules.checks.check_series``): a payment that breaks a rule is a
   problem unless its row gives an ``override_reason``.
2. ``import_checked`` inserts the rows of a check with no problems, in the caller's transaction,
   into an import batch (``tracker.imports.batches``): all rows or none. Imported payments are
   drafts that carry their check and their batch; they do not count until someone other than the
   importer approves the whole file (``batches.approve``), which makes them paid. Every row writes
   an audit event (``payment.imported`` or ``contribution.imported``, and ``payment.override`` for
   an overridden check), and the import writes ``import.completed`` with the counts. Services
   flush; the caller commits once.

The file is measured before it is read (``tracker.imports.measure``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.contributions.models import Activity, Contribution
from tracker.contributions.service import contribution_snapshot, contribution_values
from tracker.engine.core import ProposedPayment
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import format_money
from tracker.payments.models import Payment
from tracker.payments.service import parse_payment
from tracker.people.models import Person
from tracker.rules import checks, ledger
from tracker.timeutil import DAY_RANGE_MESSAGE, in_day_range
from tracker.vocab import MAX_ID

MAX_ROWS = 20_000
# Lines read, empty ones included: a sheet formatted down to row 1,048,576 is refused, not read for minutes.
MAX_LINES = 200_000
MAX_COLUMNS = 100
EARLIEST = date(2000, 1, 1)
CHUNK = 500  # ids per IN (...) query
log = logging.getLogger(__name__)

KINDS = ("contributions", "payments")
WHOLE_ROW = "*"  # a problem with the row itself, not one column


class FileProblem(Exception):
    """The file as a whole cannot be read (not a row problem): shown on the file field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---- what each kind of file holds -------------------------------------------------------------


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    what: str
    example: str
    need: str = "optional"  # "required", "optional" or "person"


@dataclass(frozen=True)
class Spec:
    kind: str
    label: str
    singular: str
    columns: tuple[ColumnDoc, ...]
    #: Example rows after the first, which is the columns' own examples (the person named by email).
    more_examples: tuple[tuple[str, ...], ...]

    @property
    def examples(self) -> tuple[tuple[str, ...], ...]:
        first = tuple("" if c.name == "person_id" else c.example for c in self.columns)
        return (first, *self.more_examples)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.need == "required")


PERSON_COLUMNS = (
    ColumnDoc(
        "person_email", "The person’s email address, as recorded in the tracker.", "sam@example.org", need="person"
    ),
    ColumnDoc("person_id", "Or the person’s number in the tracker (shown on their page).", "12", need="person"),
)

SPECS: dict[str, Spec] = {
    "contributions": Spec(
        "contributions",
        "Contributions",
        "contribution",
        PERSON_COLUMNS
        + (
            ColumnDoc("worked_on", "The date of the work.", "2025-03-14", need="required"),
            ColumnDoc("hours", "Hours worked, up to 24, with at most 2 decimal places.", "2.5", need="required"),
            ColumnDoc("preparation_hours", "Hours of preparation. Leave empty for none.", "0.5"),
            ColumnDoc("activity", "The name of the activity, exactly as in the tracker.", "Mental health panel"),
            ColumnDoc(
                "value_owed", "What the work is worth, in pounds. Leave empty to use the activity’s rate.", "50.00"
            ),
            ColumnDoc("description", "A short description.", "Panel meeting"),
            ColumnDoc("role", "The person’s role, for example chair.", "panel member"),
        ),
        (("", "12", "2025-03-21", "3", "", "", "60.00", "Workshop", ""),),
    ),
    "payments": Spec(
        "payments",
        "Payments",
        "payment",
        PERSON_COLUMNS
        + (
            ColumnDoc(
                "kind",
                "cash, bank_transfer, voucher, training, certificate, declined or charity.",
                "bank_transfer",
                need="required",
            ),
            ColumnDoc(
                "amount",
                "In pounds, with at most 2 decimal places. 0.00 for a certificate or a declined payment.",
                "150.00",
                need="required",
            ),
            ColumnDoc("paid_on", "The date the person received it.", "2025-03-31", need="required"),
            ColumnDoc("method", "How it was paid.", "BACS"),
            ColumnDoc("reference", "The bank or voucher reference.", "BACS-0331"),
            ColumnDoc("note", "A note.", "March panel"),
            ColumnDoc("charity_name", "Needed only when kind is charity.", ""),
            ColumnDoc("due_on", "The date it was due, if not the date received.", "2025-03-28"),
            ColumnDoc("covers_from", "The first day of the work it pays for.", "2025-03-01"),
            ColumnDoc("covers_to", "The last day of the work it pays for.", "2025-03-28"),
            ColumnDoc(
                "override_reason",
                "Only for a payment that breaks a benefit rule but really was paid: why. Someone else approves it.",
                "",
            ),
        ),
        (("", "12", "certificate", "0.00", "2025-04-02", "", "", "Certificate of contribution", "", "", "", "", ""),),
    ),
}


def template_csv(kind: str) -> str:
    """An empty file to fill in: the header row and two example rows."""
    spec = SPECS[kind]
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow(spec.names)
    for row in spec.examples:
        writer.writerow(row)
    return buf.getvalue()


# ---- the result of a check --------------------------------------------------------------------


@dataclass
class LineNote:
    line: int
    messages: list[str]


@dataclass
class CheckResult:
    kind: str
    filename: str
    sha256: str
    sheet_note: str | None = None
    rows: list[tuple[int, dict]] = field(default_factory=list)
    problems: list[LineNote] = field(default_factory=list)
    warnings: list[LineNote] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    data_rows: int = 0
    # Payments: each row's benefit check as kept on the payment, by line.
    checks: dict[int, dict] = field(default_factory=dict)

    @property
    def spec(self) -> Spec:
        return SPECS[self.kind]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def people(self) -> int:
        return len({v["person_id"] for _, v in self.rows})

    @property
    def total(self) -> Decimal:
        key = "amount" if self.kind == "payments" else "value_owed"
        return sum((v[key] for _, v in self.rows), Decimal("0.00"))

    @property
    def overridden(self) -> list[tuple[int, dict]]:
        """The payment rows that break a benefit rule and carry the file's reason to override it."""
        return [(line, v) for line, v in self.rows if self.checks.get(line, {}).get("blocked")]

    @property
    def hours(self) -> Decimal:
        return sum((v["hours"] + v["preparation_hours"] for _, v in self.rows), Decimal("0.00"))


def clean_filename(name: str | None) -> str:
    """The file's own name, without any folder a browser sent; for messages and the audit trail."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    return base[:200] or "the file"


# ---- reading the file -------------------------------------------------------------------------


def _cell(value):
    """One spreadsheet cell as the checks expect it.

    XLSX numbers arrive as int or float. A float is turned into a Decimal through its shortest
    text form, here and nowhere else; the checks that follow refuse more than 2 decimal places,
    so 1.005 typed in Excel is reported, never rounded. Dates arrive as datetime.
    """
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _csv_lines(data: bytes) -> Iterator[list]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            # Excel's plain "CSV (Comma delimited)" on Windows saves in Windows-1252, where £ is one byte.
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise FileProblem(
                "The file could not be read as text. Save it from your spreadsheet as "
                "“CSV UTF-8”, or as an Excel workbook (.xlsx)."
            ) from None
    if "\x00" in text:
        raise FileProblem(
            "This does not look like a CSV file. Save it from your spreadsheet as “CSV UTF-8”, "
            "or as an Excel workbook (.xlsx)."
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as e:
        raise FileProblem(
            f"Line {reader.line_num} could not be read as CSV ({e}). Check the quotes on that line."
        ) from None


def _xlsx_lines(data: bytes, notes: list[str]) -> Iterator[list]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error for a file that is not a workbook
        raise FileProblem(
            "The file could not be opened as an Excel workbook (.xlsx). Save it from your "
            "spreadsheet as “Excel Workbook (.xlsx)” or as “CSV UTF-8”."
        ) from None
    try:
        sheets = wb.worksheets
        if not sheets:
            raise FileProblem("The workbook has no sheets.")
        ws = sheets[0]
        if len(sheets) > 1:
            notes.append(f"Only the first sheet, “{ws.title}”, was read.")
        ws.reset_dimensions()  # read the rows that are there, not the size the file claims
        try:
            for row in ws.iter_rows(values_only=True):
                yield [_cell(v) for v in row]
        except FileProblem:
            raise
        except Exception:
            raise FileProblem(
                "Part of the workbook could not be read. Save it again from your spreadsheet as "
                "“Excel Workbook (.xlsx)”, or as “CSV UTF-8”."
            ) from None
    finally:
        wb.close()


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_name(value) -> str:
    return re.sub(r"[\s\-]+", "_", str(value).strip().lower()) if not blank(value) else ""


def read_table(filename: str, data: bytes) -> tuple[list[str], list[tuple[int, list]], list[str]]:
    """(header names, [(line, cells)] for the rows that are not empty, notes)."""
    notes: list[str] = []
    if not data.strip():
        raise FileProblem("The file is empty.")
    lines: Iterable[list] = _xlsx_lines(data, notes) if filename.lower().endswith(".xlsx") else _csv_lines(data)
    it = iter(lines)
    first = next(it, None)
    if first is None or all(blank(v) for v in first):
        raise FileProblem(
            "Line 1 must be the header row, naming the columns. Download the template to see the columns."
        )
    header = [_header_name(v) for v in first]
    while header and header[-1] == "":
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise FileProblem(f"The file has more than {MAX_COLUMNS} columns. Keep only the columns listed below.")
    rows: list[tuple[int, list]] = []
    for line, cells in enumerate(it, start=2):
        if line > MAX_LINES:
            raise FileProblem(
                f"The file has more than {MAX_LINES:,} lines, counting empty ones. Delete the "
                "empty rows at the end, or save only the rows with data."
            )
        if all(blank(v) for v in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileProblem(
                f"The file has more than {MAX_ROWS:,} rows. Split it into files of {MAX_ROWS:,} "
                "rows or fewer and import each one."
            )
        rows.append((line, list(cells)))
    return header, rows, notes


# ---- checking values --------------------------------------------------------------------------


class Bad(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def text(value) -> str | None:
    if blank(value):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def a_date(value) -> date | None:
    """A date cell from 2000 to 2100: an Excel date, 2025-04-07, or 07/04/2025 (day first, as in the UK)."""
    if blank(value):
        return None
    day = _cell_day(value)
    if not in_day_range(day):
        raise Bad(DAY_RANGE_MESSAGE)
    return day


def _cell_day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        s = value.strip()
        m = _ISO.match(s)
        if m:
            y, mo, d = int(m[1]), int(m[2]), int(m[3])
        else:
            m = _UK.match(s)
            if not m:
                raise Bad("Use a date like 2025-04-07 (or 07/04/2025).")
            d, mo, y = int(m[1]), int(m[2]), int(m[3])
        try:
            return date(y, mo, d)
        except ValueError:
            raise Bad("That date does not exist. Use a real date, like 2025-04-07.") from None
    raise Bad("Use a date like 2025-04-07 (or 07/04/2025).")


def whole(value) -> int | None:
    """A record number: a whole number from 1 to the largest a database integer holds."""
    if blank(value):
        return None
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if number is None:
        raise Bad("Use a whole number.")
    if not 1 <= number <= MAX_ID:
        raise Bad("There is no person with this number.")
    return number


TOO_BIG = Decimal("1E+12")


def number_cell(value):
    """A money or hours cell as the services take it: text, int or Decimal; None when empty.

    A number far beyond any amount (1e9999) is refused here: it cannot even be rounded to pence."""
    if blank(value):
        return None
    if isinstance(value, bool) or isinstance(value, (date, datetime)):
        raise Bad("Enter a number, for example 150.00.")
    if isinstance(value, str):
        value = value.strip()
        try:
            number = Decimal(value.replace(",", "").removeprefix("£"))
        except InvalidOperation:
            return value  # the service explains what is wrong with it
    else:
        number = value
    if isinstance(number, (int, Decimal)) and (not Decimal(number).is_finite() or abs(number) >= TOO_BIG):
        raise Bad("This number is far too large." if Decimal(number).is_finite() else "Enter a real number.")
    return value


def _shown(value) -> str:
    s = text(value) or ""
    return s if len(s) <= 40 else s[:37] + "…"


class Row:
    """One line of the file: cells by column name, and its problems by column."""

    def __init__(self, line: int, cells: dict):
        self.line = line
        self.cells = cells
        self.errors: dict[str, str] = {}

    def get(self, name):
        return self.cells.get(name)

    def fail(self, column: str, message: str) -> None:
        self.errors.setdefault(column, message)

    def take(self, column: str, parse):
        try:
            return parse(self.get(column))
        except Bad as e:
            self.fail(column, e.message)
            return None

    def take_service_errors(self, e: ValidationFailed, rename: dict | None = None) -> None:
        rename = rename or {}
        for key, messages in e.fields.items():
            self.fail(rename.get(key, key), " ".join(messages))

    def messages(self) -> list[str]:
        out = []
        for column, message in self.errors.items():
            if column == WHOLE_ROW:
                out.append(message)
                continue
            raw = self.get(column)
            out.append(f"{column} “{_shown(raw)}”: {message}" if not blank(raw) else f"{column}: {message}")
        return out


def _chunks(values: list, size: int = CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


class People:
    """Finds the people the file names, with one query per few hundred names."""

    def __init__(self, rows: list[Row]):
        emails = sorted({t.lower() for r in rows if (t := text(r.get("person_email")))})
        ids = set()
        for r in rows:
            try:
                i = whole(r.get("person_id"))
            except Bad:
                continue
            if i is not None:
                ids.add(i)
        self.by_email: dict[str, list[int]] = {}
        for chunk in _chunks(emails):
            lowered = sa.func.lower(Person.email)
            for pid, email in db.session.execute(sa.select(Person.id, lowered).where(lowered.in_(chunk))):
                self.by_email.setdefault(email, []).append(pid)
        self.ids: set[int] = set()
        for chunk in _chunks(sorted(ids)):
            self.ids.update(db.session.scalars(sa.select(Person.id).where(Person.id.in_(chunk))))

    def resolve(self, row: Row) -> int | None:
        email = text(row.get("person_email"))
        pid = row.take("person_id", whole)
        if "person_id" in row.errors:
            return None
        by_id = None
        if pid is not None:
            if pid not in self.ids:
                row.fail("person_id", "There is no person with this number.")
                return None
            by_id = pid
        by_email = None
        if email:
            found = self.by_email.get(email.lower(), [])
            if not found:
                row.fail("person_email", "No person has this email address. Add the person first, or use person_id.")
                return None
            if len(found) > 1 and by_id is None:
                row.fail("person_email", "More than one person has this email address. Use person_id instead.")
                return None
            by_email = by_id if by_id in found else found[0]
        if by_id is None and by_email is None:
            row.fail("person_email", "Give the person’s email address (person_email) or number (person_id).")
            return None
        if by_id is not None and by_email is not None and by_id != by_email:
            row.fail("person_id", "person_email and person_id name different people.")
            return None
        return by_id if by_id is not None else by_email


class Activities:
    def __init__(self, rows: list[Row]):
        names = sorted({t.lower() for r in rows if (t := text(r.get("activity")))})
        self.by_name: dict[str, list[int]] = {}
        for chunk in _chunks(names):
            lowered = sa.func.lower(Activity.name)
            for aid, name in db.session.execute(sa.select(Activity.id, lowered).where(lowered.in_(chunk))):
                self.by_name.setdefault(name, []).append(aid)

    def resolve(self, row: Row) -> int | None:
        name = text(row.get("activity"))
        if not name:
            return None
        found = self.by_name.get(name.lower(), [])
        if not found:
            row.fail("activity", "There is no activity with this name. Check the spelling, or leave it empty.")
        elif len(found) > 1:
            row.fail("activity", "More than one activity has this name. Rename one in the tracker first.")
        else:
            return found[0]
        return None


def _in_the_past(row: Row, column: str, day: date | None, today: date, what: str) -> None:
    if day is None or column in row.errors:
        return
    if day > today:
        row.fail(column, f"This date is in the future: only {what} can be imported.")
    elif day < EARLIEST:
        row.fail(column, "This date is before 2000: check the year.")


def _limited(row: Row, column: str, limit: int) -> str | None:
    value = text(row.get(column))
    if value and len(value) > limit:
        row.fail(column, f"Use {limit:,} characters or fewer.")
    return value


def _check_payment(row: Row, people: People, today: date) -> dict | None:
    person_id = people.resolve(row)
    paid_on = row.take("paid_on", a_date)
    _in_the_past(row, "paid_on", paid_on, today, "payments already made")
    kind = text(row.get("kind"))
    kind = re.sub(r"[\s\-]+", "_", kind.lower()) if kind else None
    amount = row.take("amount", number_cell)
    method = _limited(row, "method", 40)
    reference = _limited(row, "reference", 100)
    dates = {name: row.take(name, a_date) for name in ("due_on", "covers_from", "covers_to")}
    override = _limited(row, "override_reason", 2000)
    try:
        p = parse_payment(
            {
                "kind": kind,
                "amount": amount,
                "paid_on": paid_on,
                "note": text(row.get("note")),
                "charity_name": text(row.get("charity_name")),
                **dates,
            }
        )
    except ValidationFailed as e:
        if "paid_on" in row.errors or paid_on is None:
            e.fields.pop("paid_on", None)
            if paid_on is None and "paid_on" not in row.errors:
                row.fail("paid_on", "Enter the date the person received it, like 2025-04-07.")
        row.take_service_errors(e)
        return None
    if row.errors or person_id is None:
        return None
    return {
        "person_id": person_id,
        "kind": p.kind,
        "amount": p.amount,
        "paid_on": p.paid_on,
        "due_on": p.due_on,
        "covers_from": p.covers_from,
        "covers_to": p.covers_to,
        "method": method,
        "reference": reference,
        "note": p.note,
        "charity_name": p.charity_name,
        "override_reason": override,
    }


def _check_contribution(row: Row, people: People, activities: Activities, today: date) -> dict | None:
    person_id = people.resolve(row)
    worked_on = row.take("worked_on", a_date)
    if worked_on is None and "worked_on" not in row.errors:
        row.fail("worked_on", "Enter the date of the work, like 2025-04-07.")
    _in_the_past(row, "worked_on", worked_on, today, "work already done")
    activity_id = activities.resolve(row)
    data = {
        "worked_on": worked_on or today,
        "activity_id": activity_id,
        "hours": row.take("hours", number_cell),
        "preparation_hours": row.take("preparation_hours", number_cell),
        "value_owed": row.take("value_owed", number_cell),
        "description": _limited(row, "description", 1000),
        "role": _limited(row, "role", 100),
    }
    try:
        v = contribution_values(data)
    except ValidationFailed as e:
        row.take_service_errors(e, {"activity_id": "activity"})
        return None
    if row.errors or person_id is None:
        return None
    return {
        "person_id": person_id,
        "activity_id": activity_id,
        "worked_on": worked_on,
        "hours": v["hours"],
        "preparation_hours": v["preparation_hours"],
        "value_owed": v["value_owed"],
        "description": v["description"],
        "role": v["role"],
    }


# ---- possible duplicates (warnings) -----------------------------------------------------------


def _payment_key(v: dict) -> tuple:
    return (v["person_id"], v["kind"], v["amount"], v["paid_on"])


def _contribution_key(v: dict) -> tuple:
    return (v["person_id"], v["worked_on"], v["hours"], v["activity_id"])


def _existing(kind: str, rows: list[tuple[int, dict]]) -> dict[tuple, int]:
    """Keys of rows already in the tracker for the people and dates in the file."""
    if not rows:
        return {}
    person_ids = sorted({v["person_id"] for _, v in rows})
    out: dict[tuple, int] = {}
    if kind == "payments":
        days = [v["paid_on"] for _, v in rows]
        for chunk in _chunks(person_ids):
            q = sa.select(Payment.id, Payment.person_id, Payment.kind, Payment.amount, Payment.paid_on).where(
                Payment.person_id.in_(chunk),
                Payment.paid_on.between(min(days), max(days)),
                Payment.status != "cancelled",
                Payment.reversal_of_id.is_(None),
            )
            for pid, person_id, kind_, amount, paid_on in db.session.execute(q):
                out.setdefault((person_id, kind_, amount, paid_on), pid)
    else:
        days = [v["worked_on"] for _, v in rows]
        for chunk in _chunks(person_ids):
            candidates = sa.select(
                Contribution.id,
                Contribution.person_id,
                Contribution.worked_on,
                Contribution.hours,
                Contribution.activity_id,
            ).where(Contribution.person_id.in_(chunk), Contribution.worked_on.between(min(days), max(days)))
            for cid, person_id, worked_on, hours, activity_id in db.session.execute(candidates):
                out.setdefault((person_id, worked_on, hours, activity_id), cid)
    return out


def _duplicates(kind: str, rows: list[tuple[int, dict]]) -> list[LineNote]:
    key = _payment_key if kind == "payments" else _contribution_key
    what = "payment" if kind == "payments" else "contribution"
    existing = _existing(kind, rows)
    seen: dict[tuple, int] = {}
    notes = []
    for line, v in rows:
        k = key(v)
        messages = []
        if k in existing:
            messages.append(
                f"A {what} for the same person, date and amount is already recorded ({what} "
                f"{existing[k]}). If this file has been imported before, do not import it again."
            )
        if k in seen:
            messages.append(f"This row is the same as line {seen[k]}.")
        else:
            seen[k] = line
        if messages:
            notes.append(LineNote(line, messages))
    return notes


# ---- the check --------------------------------------------------------------------------------


def _header_problems(header: list[str], spec: Spec) -> list[str]:
    """What is wrong with the header row, in plain words (nothing when it is fine)."""
    problems = []
    named = [h for h in header if h]
    for name in sorted({h for h in named if named.count(h) > 1}):
        problems.append(f"The column “{name}” appears more than once.")
    if "" in header:
        problems.append(f"Column {header.index('') + 1} has no name in the header row.")
    if "person_email" not in header and "person_id" not in header:
        problems.append("The file has no column “person_email” or “person_id”: add one of them.")
    for name in spec.required:
        if name not in header:
            problems.append(f"The file has no column “{name}”.")
    if len(header) == 1 and ";" in header[0]:
        problems.append("The values seem to be separated by semicolons. Save the file as CSV with commas.")
    return problems


def _rows(header: list[str], lines: list[tuple[int, list]]) -> list[Row]:
    """The data rows, by column name; a row with more values than the header has columns fails."""
    rows = []
    for line, cells in lines:
        row = Row(line, {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(header)})
        extra = [v for v in cells[len(header) :] if not blank(v)]
        if extra:
            row.fail(
                WHOLE_ROW,
                "This row has more values than the header has columns. A comma inside a value "
                "needs quotes around the value.",
            )
        rows.append(row)
    return rows


Progress = Callable[[int, int], None]  # (rows read, payments checked against the benefit rules)
PROGRESS_EVERY = 500


def _no_progress(read: int, checked: int) -> None:
    return None


def _check_rows(result: CheckResult, rows: list[Row], today: date, progress: Progress) -> None:
    """Check each row: a good one goes to ``result.rows``, a bad one's messages to its problems."""
    people = People(rows)
    activities = Activities(rows) if result.kind == "contributions" else None
    for n, row in enumerate(rows, start=1):
        if activities is None:
            values = _check_payment(row, people, today)
        else:
            values = _check_contribution(row, people, activities, today)
        if row.errors:
            result.problems.append(LineNote(row.line, row.messages()))
        elif values is not None:
            result.rows.append((row.line, values))
        if n % PROGRESS_EVERY == 0:
            progress(n, 0)
    progress(len(rows), 0)


BREAKS_A_RULE = (
    "Paid on this date, this payment breaks a benefit rule ({rules}). If it really was paid, say why in "
    "the override_reason column: someone other than you approves the import."
)


def _snapshot(body: dict) -> dict:
    """The check as a payment keeps it (as recording a payment does)."""
    return {"verdicts": body["verdicts"], "rules_used": body["rules_used"], "blocked": body["blocked"]}


BLOCKING = ("over", "unknown")


def broken_rules(snapshot: dict | None) -> str:
    """The rules a check (as a payment keeps it) says are broken, in words."""
    verdicts = (snapshot or {}).get("verdicts", [])
    titles = dict.fromkeys(v.get("title") or "A benefit rule" for v in verdicts if v.get("status") in BLOCKING)
    return "; ".join(titles) or "A benefit rule"


def _benefit_checks(result: CheckResult, today: date, progress: Progress) -> None:
    """Check each payment against the benefit rules, one person at a time and oldest first, with the
    file's earlier payments for the person counted. A payment that breaks a rule is a problem
    unless its row gives a reason to override the check."""
    by_person: dict[int, list[tuple[int, dict]]] = {}
    for line, v in result.rows:
        by_person.setdefault(v["person_id"], []).append((line, v))
    done = 0
    for person_id, rows in by_person.items():
        rows.sort(key=lambda lv: (lv[1]["paid_on"], lv[0]))
        proposed = [ProposedPayment(kind=v["kind"], amount=v["amount"], paid_on=v["paid_on"]) for _, v in rows]
        for (line, v), (check, revisions) in zip(rows, checks.check_series(person_id, proposed, today=today)):
            body = checks.check_json(check, revisions)
            result.checks[line] = _snapshot(body)
            if not check.blocked:
                v["override_reason"] = None
            elif not v["override_reason"]:
                result.problems.append(LineNote(line, [BREAKS_A_RULE.format(rules=broken_rules(body))]))
        before, done = done, done + len(rows)
        if done // PROGRESS_EVERY != before // PROGRESS_EVERY:
            progress(len(result.rows), done)
    progress(len(result.rows), done)
    result.problems.sort(key=lambda note: note.line)
    if result.problems:
        kept = {n.line for n in result.problems}
        result.rows = [(line, v) for line, v in result.rows if line not in kept]


def check_file(kind: str, filename: str, data: bytes, *, today: date, progress: Progress = _no_progress) -> CheckResult:
    """Read and check every row; writes nothing. Raises FileProblem when the file cannot be read.
    ``progress`` hears how far the check has gone (the worker keeps it on the import)."""
    if kind not in SPECS:
        raise ValueError(kind)
    spec = SPECS[kind]
    result = CheckResult(kind=kind, filename=filename, sha256=hashlib.sha256(data).hexdigest())
    header, lines, notes = read_table(filename, data)
    result.sheet_note = " ".join(notes) or None
    result.data_rows = len(lines)
    problems = _header_problems(header, spec)
    result.ignored_columns = [h for h in dict.fromkeys(h for h in header if h) if h not in spec.names]
    if not problems and not lines:
        problems = ["The file has a header row but no rows to import."]
    if problems:
        result.problems.append(LineNote(1, problems))
    else:
        _check_rows(result, _rows(header, lines), today, progress)
        if not result.problems and kind == "payments":
            _benefit_checks(result, today, progress)
        if not result.problems:
            result.warnings = _duplicates(kind, result.rows)
    log.info(
        "Checked a file of %s (sha256 %s): %s rows, %s good, %s lines with problems, %s warnings",
        kind,
        result.sha256[:12],
        len(lines),
        len(result.rows),
        len(result.problems),
        len(result.warnings),
    )
    return result


# ---- the import -------------------------------------------------------------------------------


def summary(result: CheckResult) -> dict:
    out = {
        "kind": result.kind,
        "rows": len(result.rows),
        "people": result.people,
        "file": result.filename,
        "sha256": result.sha256,
    }
    if result.kind == "payments":
        out["total_amount"] = result.total
    else:
        out["total_hours"] = result.hours
        out["total_value_owed"] = result.total
    return out


def _payment(v: dict, result: CheckResult, line: int, batch, actor_id) -> Payment:
    return Payment(
        status="draft",
        currency="GBP",
        recorded_by_id=actor_id,
        import_batch_id=batch.id,
        check_snapshot=result.checks.get(line),
        **v,
    )


def _audit_rows(made: list[tuple[int, dict, Payment | Contribution]], result: CheckResult, batch, actor) -> None:
    source = {"file": result.filename, "sha256": result.sha256, "batch": batch.id}
    for line, v, obj in made:
        if isinstance(obj, Payment):  # the file's kind is "payments"
            after = {**v, "status": "draft", "import": {**source, "line": line}}
            audit.record(actor, "payment.imported", obj, person_id=obj.person_id, after=after)
            if obj.override_reason:
                blocked = [x for x in (obj.check_snapshot or {}).get("verdicts", []) if x["status"] in BLOCKING]
                audit.record(
                    actor,
                    "payment.override",
                    obj,
                    person_id=obj.person_id,
                    reason=obj.override_reason,
                    after={"verdicts": blocked},
                )
        else:
            audit.record(
                actor,
                "contribution.imported",
                obj,
                person_id=obj.person_id,
                after={**contribution_snapshot(obj), "import": {**source, "line": line}},
            )


def import_checked(result: CheckResult, batch, *, actor, now: datetime) -> dict:
    """Insert every row of a check with no problems into ``batch`` (flushes; the caller commits once).

    Payments are drafts carrying their check: they count once a second person approves the batch.
    Contributions are history with no money: they are recorded at once."""
    if not result.ok:
        raise ValueError("Only a check with no problems can be imported.")
    actor_id = getattr(actor, "id", None)
    # The ledger event first, as recording a payment does: a check running at the same moment
    # waits, then sees these rows.
    ledger.changed(db.session, {v["person_id"] for _, v in result.rows})
    made: list[tuple[int, dict, Payment | Contribution]] = []
    for line, v in result.rows:
        obj: Payment | Contribution
        if result.kind == "payments":
            obj = _payment(v, result, line, batch, actor_id)
        else:
            obj = Contribution(recorded_by_id=actor_id, **v)
        made.append((line, v, obj))
    db.session.add_all([obj for _, _, obj in made])
    db.session.flush()
    _audit_rows(made, result, batch, actor)
    done = {**summary(result), "batch": batch.id, "overridden": len(result.overridden)}
    audit.record(actor, "import.completed", batch, entity_type="import", after=done)
    db.session.flush()
    log.info(
        "Imported %s %s for %s people into import %s (file sha256 %s)",
        len(made),
        result.kind,
        result.people,
        batch.id,
        result.sha256[:12],
    )
    return done


def describe(done: dict) -> str:
    """The flash after an import, in plain words."""
    n = done["rows"]
    people = "person" if done["people"] == 1 else "people"
    if done["kind"] == "payments":
        what = "payment" if n == 1 else "payments"
        extra = (
            f", {format_money(done['total_amount'])} in total, as drafts. They count once someone other "
            "than you approves the import"
        )
    else:
        what = "contribution" if n == 1 else "contributions"
        extra = f", {done['total_hours']} hours in total"
    return f"Imported {n:,} {what} for {done['people']:,} {people} from {done['file']}{extra}."
