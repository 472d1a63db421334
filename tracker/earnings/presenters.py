"""Wording for earnings records: the printable copy, the imports a person has, the trusted issuers."""

from __future__ import annotations

from datetime import date, datetime

from tracker.earnings import signing
from tracker.earnings.models import EarningsImport, TrustedIssuer
from tracker.earnings.pdf import RecordPrint
from tracker.money import format_money, to_decimal
from tracker.timeutil import day_text, when_text
from tracker.vocab import KIND_LABELS, PAYMENT_STATUS_LABELS

PRINT_NOTICE = (
    "This record lists the payments {org} made or plans for you in the period, with the dates benefit "
    "rules count. The file that goes with it is signed: another organisation that uses a payment tracker "
    "can add these earnings to its own benefit checks, with your agreement. Check that the verification "
    "code it shows matches the one on this page."
)


def period_label(start: date, end: date) -> str:
    return f"{day_text(start)} to {day_text(end)}"


def _day(text: str) -> str:
    return day_text(date.fromisoformat(text))


def _row(e: dict) -> tuple[str, str, str, str, str, str, str]:
    worked = ", ".join(_day(d) for d in e["worked_on"]) or "Not given"
    return (
        _day(e["received_on"]),
        _day(e["due_on"]),
        worked,
        e["hours"],
        KIND_LABELS.get(e["kind"], e["kind"]),
        PAYMENT_STATUS_LABELS.get(e["status"], e["status"]),
        format_money(to_decimal(e["amount"])),
    )


def record_print(record: dict) -> RecordPrint:
    org = record["issuer"]["name"]
    period = record["period"]
    issued = datetime.fromisoformat(record["issued_at"]).replace(tzinfo=None)
    return RecordPrint(
        organisation=org,
        person_name=record["person"]["name"],
        person_ref=record["person"]["reference"],
        period_label=period_label(date.fromisoformat(period["start"]), date.fromisoformat(period["end"])),
        issued=when_text(issued),
        key_id=record["issuer"]["key_id"],
        verification_code=signing.verification_code(record),
        total=format_money(to_decimal(record["total"])),
        rows=tuple(_row(e) for e in record["entries"]),
        notice=PRINT_NOTICE.format(org=org),
    )


def file_name(record: dict, extension: str) -> str:
    period = record["period"]
    return f"earnings-record-{record['person']['reference']}-{period['start']}-{period['end']}.{extension}"


def import_rows(rows: list[EarningsImport]) -> list[dict]:
    return [
        {
            "issuer": r.issuer_name,
            "period": period_label(r.start_on, r.end_on),
            "issued": when_text(r.issued_at),
            "added": when_text(r.consented_at),
            "total": format_money(r.total),
            "entries": r.entry_count,
            "code": r.verification_code,
            "state": "Replaced by a newer record" if r.replaced_at else "Counted in benefit checks",
        }
        for r in rows
    ]


def issuer_rows(rows: list[TrustedIssuer]) -> list[dict]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "key_id": r.key_id,
            "public_key": r.public_key,
            "added": when_text(r.added_at),
            "revoked": when_text(r.revoked_at) if r.revoked_at else None,
        }
        for r in rows
    ]


def outcome_message(status: str, person_name: str, issuer: str, added: int, removed: int) -> str:
    if status == "unchanged":
        return f"This record from {issuer} was already added for {person_name}. Nothing has changed."
    noun = "payment" if added == 1 else "payments"
    text = (
        f"{added} {noun} from {issuer} added for {person_name} as income from elsewhere. Benefit checks now count them."
    )
    if status == "replaced":
        text += f" They replace the {removed} from the older record for the same period."
    return text
