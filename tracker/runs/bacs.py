"""Bacs Standard 18 payment files: pure functions, no Flask, no database.

A file is a volume label and header labels (80 characters each), one 100-character record per
credit, a contra record that debits the originator's account with the total, and trailer labels
with the totals and counts. The layout and its source are in docs/payment-runs.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

LABEL_LENGTH = 80
RECORD_LENGTH = 100
CREDIT = "99"
CONTRA = "17"
LINE_END = "\r\n"
_NOT_BACS = re.compile(r"[^A-Z0-9 .&/\-]")


class BacsError(ValueError):
    """The values cannot be written as a Bacs file (a field too long, an amount too large)."""


@dataclass(frozen=True)
class Originator:
    service_user_number: str
    sort_code: str
    account_number: str
    name: str


@dataclass(frozen=True)
class Credit:
    sort_code: str
    account_number: str
    account_name: str
    amount: Decimal
    reference: str


def bacs_text(value: str, width: int) -> str:
    """Upper case, only the characters Bacs allows (others become spaces), cut and padded to width."""
    return _NOT_BACS.sub(" ", value.upper())[:width].ljust(width)


def _digits(value: str, width: int, what: str) -> str:
    if not (value.isdigit() and len(value) == width):
        raise BacsError(f"The {what} must be {width} digits.")
    return value


def pence(amount: Decimal, width: int) -> str:
    value = int((amount * 100).to_integral_exact())
    if value < 0 or len(str(value)) > width:
        raise BacsError(f"The amount {amount} does not fit {width} digits of pence.")
    return str(value).zfill(width)


def julian(day: date) -> str:
    """' YYDDD': a space, the year's last two digits and the day of the year."""
    return f" {day:%y}{day.timetuple().tm_yday:03d}"


def _fixed(parts: Sequence[str], length: int) -> str:
    line = "".join(parts)
    if len(line) != length:  # a bug here, never the caller's input
        raise AssertionError(f"A Bacs line of {len(line)} characters, not {length}: {line!r}")
    return line


def vol1(o: Originator, serial: str) -> str:
    owner = " " * 4 + o.service_user_number + " " * 4
    return _fixed(["VOL1", serial, " ", " " * 26, owner, " " * 28, "1"], LABEL_LENGTH)


def _file_header(label: str, o: Originator, serial: str, created: date) -> str:
    file_id = ("A" + o.service_user_number + "S  " + o.service_user_number).ljust(17)
    return _fixed(
        [
            label,
            file_id,
            serial,
            "0001",
            "0001",
            " " * 4,
            " " * 2,
            julian(created),
            julian(created),
            " ",
            "000000",
            " " * 13,
            " " * 7,
        ],
        LABEL_LENGTH,
    )


def _file_format(label: str) -> str:
    return _fixed([label, "F", "02000", "00100", " " * 35, "00", " " * 28], LABEL_LENGTH)


def uhl1(processing: date) -> str:
    return _fixed(
        ["UHL1", julian(processing), "999999    ", "00", "000000", "1 DAILY  ", "001", " " * 7, " " * 7, " " * 26],
        LABEL_LENGTH,
    )


def detail(o: Originator, c: Credit) -> str:
    return _fixed(
        [
            _digits(c.sort_code, 6, "sort code"),
            _digits(c.account_number, 8, "account number"),
            "0",
            CREDIT,
            o.sort_code,
            o.account_number,
            " " * 4,
            pence(c.amount, 11),
            bacs_text(o.name, 18),
            bacs_text(c.reference, 18),
            bacs_text(c.account_name, 18),
        ],
        RECORD_LENGTH,
    )


def contra(o: Originator, total: Decimal, narrative: str) -> str:
    return _fixed(
        [
            o.sort_code,
            o.account_number,
            "0",
            CONTRA,
            o.sort_code,
            o.account_number,
            " " * 4,
            pence(total, 11),
            bacs_text(narrative, 18),
            bacs_text("CONTRA", 18),
            bacs_text(o.name, 18),
        ],
        RECORD_LENGTH,
    )


def utl1(total: Decimal, credits: int) -> str:
    # Debits: the one contra record, for the total; credits: one per payment.
    return _fixed(
        ["UTL1", pence(total, 13), pence(total, 13), "1".zfill(7), str(credits).zfill(7), " " * 8, " " * 28],
        LABEL_LENGTH,
    )


def check_originator(o: Originator) -> Originator:
    _digits(o.service_user_number, 6, "service user number (BACS_SERVICE_USER_NUMBER)")
    _digits(o.sort_code, 6, "originator's sort code (BACS_SORT_CODE)")
    _digits(o.account_number, 8, "originator's account number (BACS_ACCOUNT_NUMBER)")
    return o


def standard18(
    o: Originator, credits: Sequence[Credit], *, processing: date, created: date, serial: str, narrative: str
) -> str:
    """The whole file. ``serial`` (6 characters) names the volume and the file set."""
    check_originator(o)
    serial = bacs_text(serial, 6)
    total = sum((c.amount for c in credits), Decimal("0.00"))
    lines = [vol1(o, serial), _file_header("HDR1", o, serial, created), _file_format("HDR2"), uhl1(processing)]
    lines += [detail(o, c) for c in credits]
    lines.append(contra(o, total, narrative))
    lines += [_file_header("EOF1", o, serial, created), _file_format("EOF2"), utl1(total, len(credits))]
    return LINE_END.join(lines) + LINE_END
