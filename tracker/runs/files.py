"""The bank files of a run: CSV and XLSX (formula-safe, through tracker.exports.writers) and Bacs
Standard 18 (tracker.runs.bacs), with the originator's details from settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from operator import attrgetter

from flask import current_app

from tracker.errors import Conflict
from tracker.exports.writers import CSV_MIME, XLSX_MIME, Column, csv_chunks, xlsx_bytes
from tracker.runs import bacs
from tracker.runs.models import PaymentRun
from tracker.runs.service import FileRow

FORMATS = ("csv", "xlsx", "bacs18")
BACS_MIME = "text/plain; charset=us-ascii"

COLUMNS = [
    Column("Payment id", attrgetter("payment_id"), "int", 10),
    Column("Payee name", attrgetter("payee"), "text", 28),
    Column("Account name", attrgetter("details.account_name"), "text", 20),
    Column("Sort code", attrgetter("details.sort_code_text"), "text", 10),
    Column("Account number", attrgetter("details.account_number"), "text", 14),
    Column("Amount", attrgetter("amount"), "money", 12),
    Column("Reference", attrgetter("reference"), "text", 18),
]


def originator() -> bacs.Originator:
    cfg = current_app.config
    return bacs.Originator(
        service_user_number=str(cfg["BACS_SERVICE_USER_NUMBER"]),
        sort_code=str(cfg["BACS_SORT_CODE"]).replace("-", ""),
        account_number=str(cfg["BACS_ACCOUNT_NUMBER"]),
        name=str(cfg["BACS_ACCOUNT_NAME"]),
    )


def bacs_file(run: PaymentRun, rows: Sequence[FileRow], *, today: date) -> str:
    credits = [
        bacs.Credit(
            sort_code=r.details.sort_code,
            account_number=r.details.account_number,
            account_name=r.details.account_name,
            amount=r.amount,
            reference=r.reference,
        )
        for r in rows
    ]
    try:
        return bacs.standard18(
            originator(),
            credits,
            processing=run.pay_on,
            created=today,
            serial=f"{run.id % 1000000:06d}",
            narrative=run.reference or "",
        )
    except bacs.BacsError as e:
        raise Conflict(f"The Bacs file cannot be made: {e}", code="bacs_settings") from None


def render(run: PaymentRun, rows: Sequence[FileRow], file_format: str, *, today: date) -> tuple[bytes, str, str]:
    """(content, mimetype, file name)."""
    name = f"payment-run-{run.id}"
    if file_format == "csv":
        return "".join(csv_chunks(COLUMNS, rows)).encode("utf-8"), CSV_MIME, name + ".csv"
    if file_format == "xlsx":
        return xlsx_bytes(COLUMNS, rows, sheet_title=f"Run {run.id}"), XLSX_MIME, name + ".xlsx"
    return bacs_file(run, rows, today=today).encode("ascii"), BACS_MIME, name + ".txt"
