"""Issuing and importing signed earnings records, and the issuers this installation trusts.

Services flush, never commit. Importing writes other income (a ledger), so it calls
``rules.ledger.changed`` and audits what it adds and what it removes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.earnings import keys, records, signing
from tracker.earnings.models import EarningsImport, TrustedIssuer
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.payments.models import OtherIncome
from tracker.payments.service import text_field
from tracker.people.models import Person
from tracker.picks import pick
from tracker.rules import ledger
from tracker.timeutil import day_text
from tracker.vocab import EARNED_MONEY_KINDS

MAX_RECORD_BYTES = 2_000_000


# ---- issuing ------------------------------------------------------------------------------------


def issue(person: Person, start: date | None, end: date | None, *, actor, now: datetime) -> dict:
    """A signed record for the person and period; audited (who took which record)."""
    start, end = records.check_period(start, end)
    record = records.build(person, start, end, keys.signing_key(), now=now)
    audit.record(
        actor,
        "earnings_record.issued",
        person,
        person_id=person.id,
        after={
            "record_id": record["record_id"],
            "start_on": start,
            "end_on": end,
            "entries": len(record["entries"]),
            "total": record["total"],
            "verification_code": signing.verification_code(record),
        },
    )
    return record


def published_key() -> dict:
    """What ``/.well-known/tracker-earnings-key.json`` says about this installation's key."""
    key = keys.signing_key()
    return {
        "organisation": key.organisation,
        "key_id": key.key_id,
        "algorithm": "Ed25519",
        "public_key": base64.b64encode(key.public).decode(),
        "format": signing.FORMAT,
    }


# ---- importing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """``imported``, ``replaced`` (a newer record of a series) or ``unchanged`` (imported before)."""

    status: str
    row: EarningsImport
    added: int
    removed: int


def _refuse(message: str, code: str) -> ValidationFailed:
    e = ValidationFailed({"record": [message]}, message)
    e.code = code
    return e


def parse_upload(raw: bytes) -> Any:
    """A record file's bytes as JSON; a 422 on ``record`` when it is not."""
    if len(raw) > MAX_RECORD_BYTES:
        raise _refuse("The file is too large to be an earnings record.", "invalid_record")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refuse(
            "This file is not an earnings record: choose the .json file the organisation gave.", "invalid_record"
        ) from None


def _trusted(record: Any) -> TrustedIssuer:
    key_id = records.issuer_key_id(record)
    if key_id is None:
        raise _refuse("This is not an earnings record from a payment tracker.", "invalid_record")
    issuer = db.session.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.key_id == key_id))
    if issuer is None or issuer.revoked_at is not None:
        raise _refuse(
            f"The record was signed with key {key_id}, which this organisation does not trust. "
            "An administrator can add the issuing organisation's public key under trusted issuers.",
            "untrusted_issuer",
        )
    if not signing.verify(record, base64.b64decode(issuer.public_key)):
        raise _refuse(
            f"The record has been changed since {issuer.name} signed it (or its signature is missing), "
            f"so it cannot be used. Ask {issuer.name} for a new copy.",
            "bad_signature",
        )
    return issuer


def verified(record: Any) -> tuple[TrustedIssuer, records.Record]:
    """The trusted issuer and the record's content, once its signature is good; a 422 otherwise."""
    issuer = _trusted(record)
    try:
        return issuer, records.read(record)
    except records.BadRecord as e:
        raise _refuse(f"The record is signed but cannot be read: {e}", "invalid_record") from None


def import_record(person: Person, record: Any, *, consent: bool, actor, now: datetime) -> Outcome:
    """Add a verified record's money entries as other income from its issuer, once.

    The same record again changes nothing; a newer record for the same period replaces the older
    one's entries; an older one than what is held is refused.
    """
    if consent is not True:
        raise ValidationFailed({"consent": [f"Confirm that {person.name} agreed to add these earnings."]})
    issuer, content = verified(record)
    same = db.session.scalar(
        sa.select(EarningsImport).where(
            EarningsImport.person_id == person.id,
            EarningsImport.key_id == issuer.key_id,
            EarningsImport.record_id == content.record_id,
        )
    )
    if same is not None:
        return Outcome("unchanged", same, 0, 0)
    ledger.changed(db.session, [person.id])  # takes the person's lock before reading the series
    current = _current(person.id, issuer.key_id, content)
    if current is not None and current.record_id == content.record_id:
        return Outcome("unchanged", current, 0, 0)  # imported by a request that held the lock first
    if current is not None and current.issued_at >= content.issued_at:
        raise Conflict(
            f"A newer record from {issuer.name} for {day_text(content.start)} to {day_text(content.end)} "
            f"(issued {day_text(current.issued_at)}) is already added; this older one was not.",
            code="newer_record_imported",
        )
    removed = _replace(current, actor, now) if current is not None else 0
    row, added = _add(person, issuer, content, record, actor=actor, now=now)
    return Outcome("replaced" if current is not None else "imported", row, added, removed)


def _current(person_id: int, key_id: str, content: records.Record) -> EarningsImport | None:
    return db.session.scalar(
        sa.select(EarningsImport).where(
            EarningsImport.person_id == person_id,
            EarningsImport.key_id == key_id,
            EarningsImport.person_ref == content.person_ref,
            EarningsImport.start_on == content.start,
            EarningsImport.end_on == content.end,
            EarningsImport.replaced_at.is_(None),
        )
    )


def _income_json(rows) -> list[dict]:
    return [{"entry": r.entry_ref, "amount": r.amount, "received_on": r.received_on} for r in rows]


def _replace(old: EarningsImport, actor, now: datetime) -> int:
    rows = list(db.session.scalars(sa.select(OtherIncome).where(OtherIncome.earnings_import_id == old.id)))
    for r in rows:
        db.session.delete(r)
    old.replaced_at = now
    audit.record(
        actor,
        "earnings_record.replaced",
        old,
        person_id=old.person_id,
        before={"record_id": old.record_id, "income": _income_json(rows)},
    )
    return len(rows)


#: The income row's fields that are the record entry's own, under the same names.
_ENTRY_FIELDS = ("amount", "received_on", "due_on", "worked_on")


def _add(person: Person, issuer: TrustedIssuer, content: records.Record, record: dict, *, actor, now: datetime):
    counted = [e for e in content.entries if e.kind in EARNED_MONEY_KINDS and e.amount > 0]
    row = EarningsImport(
        person_id=person.id,
        issuer_id=issuer.id,
        key_id=issuer.key_id,
        record_id=content.record_id,
        issuer_name=issuer.name,  # as the admin named it when trusting the key
        person_ref=content.person_ref,
        start_on=content.start,
        end_on=content.end,
        issued_at=content.issued_at,
        verification_code=signing.verification_code(record),
        entry_count=len(counted),
        total=sum((e.amount for e in counted), Decimal("0.00")),
        consent_by_id=getattr(actor, "id", None),
        consented_at=now,
    )
    db.session.add(row)
    db.session.flush()
    income = [
        OtherIncome(
            person_id=person.id,
            source=issuer.name,
            earnings_import_id=row.id,
            entry_ref=e.ref,
            recorded_by_id=getattr(actor, "id", None),
            **pick(e, _ENTRY_FIELDS),
        )
        for e in counted
    ]
    db.session.add_all(income)
    db.session.flush()
    audit.record(
        actor,
        "earnings_record.imported",
        row,
        person_id=person.id,
        after={
            "issuer": issuer.name,
            "key_id": issuer.key_id,
            "record_id": content.record_id,
            "start_on": content.start,
            "end_on": content.end,
            "verification_code": row.verification_code,
            "consent": {"by": getattr(actor, "id", None), "at": now},
            "income": _income_json(income),
            "not_counted": len(content.entries) - len(counted),
        },
    )
    return row, len(income)


def imports_for(person_id: int) -> list[EarningsImport]:
    return list(
        db.session.scalars(
            sa.select(EarningsImport)
            .where(EarningsImport.person_id == person_id)
            .order_by(EarningsImport.consented_at.desc(), EarningsImport.id.desc())
        )
    )


# ---- trusted issuers ----------------------------------------------------------------------------


def trusted_issuers() -> list[TrustedIssuer]:
    return list(
        db.session.scalars(sa.select(TrustedIssuer).order_by(TrustedIssuer.revoked_at.is_not(None), TrustedIssuer.name))
    )


def add_issuer(data: dict, *, actor, now: datetime) -> TrustedIssuer:
    """Trust an organisation's public key (again, if it was revoked)."""
    errors: dict[str, list[str]] = {}
    name = text_field(data, "name", errors, 200, required=True)
    public: bytes | None = None
    try:
        public = signing.load_public(data.get("public_key") or "")
    except signing.BadKey as e:
        errors["public_key"] = [str(e)]
    if errors or public is None or name is None:
        raise ValidationFailed(errors)
    key_id = signing.key_id(public)
    issuer = db.session.scalar(sa.select(TrustedIssuer).where(TrustedIssuer.key_id == key_id))
    if issuer is not None and issuer.revoked_at is None:
        raise ValidationFailed({"public_key": [f"This key is already trusted, for {issuer.name}."]})
    before = None
    if issuer is None:
        issuer = TrustedIssuer(key_id=key_id, public_key=base64.b64encode(public).decode())
        db.session.add(issuer)
    else:
        before = {"name": issuer.name, "revoked_at": issuer.revoked_at}
    issuer.name, issuer.added_by_id, issuer.added_at = name, getattr(actor, "id", None), now
    issuer.revoked_at = issuer.revoked_by_id = None
    db.session.flush()
    audit.record(actor, "trusted_issuer.added", issuer, before=before, after={"name": name, "key_id": key_id})
    return issuer


def revoke_issuer(issuer: TrustedIssuer, *, actor, now: datetime) -> bool:
    """Stop trusting the key: no new record from it is accepted. What it added stays. False when
    it was already revoked."""
    if issuer.revoked_at is not None:
        return False
    issuer.revoked_at, issuer.revoked_by_id = now, getattr(actor, "id", None)
    db.session.flush()
    audit.record(actor, "trusted_issuer.revoked", issuer, before={"name": issuer.name, "key_id": issuer.key_id})
    return True
