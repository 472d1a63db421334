"""Everything the tracker holds about one person: the "What we hold about you" page and the
download of it (one zip with a JSON file of everything and a CSV file per table).

Money and hours are strings with two decimals ("150.00"), never floats; dates are ISO
(YYYY-MM-DD). Reads only: the caller writes the audit events and commits.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import datetime

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.contributions.models import Activity, Contribution
from tracker.documents.models import Document
from tracker.extensions import db
from tracker.money import money_str
from tracker.payments.models import Expense, OtherIncome, Payment, payment_contribution
from tracker.people.models import PREFERENCE_LABELS, BenefitClaim, Consent, PartnerEarning, Person, Preference
from tracker.people.presenters import claim_name
from tracker.picks import pick, plain
from tracker.timeutil import when_text

FORMAT_VERSION = 1

# table name -> the columns of its CSV file, in order
COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("id", "name", "email", "phone", "notes", "created_at", "updated_at"),
    "preferences": ("position", "kind", "label", "note"),
    "consents": ("id", "given_on", "notice_version", "recorded_at", "withdrawn_on"),
    "claims": (
        "id",
        "benefit",
        "benefit_name",
        "start_on",
        "end_on",
        "attributes",
        "confirmed_on",
        "created_at",
        "updated_at",
    ),
    "contributions": (
        "id",
        "worked_on",
        "activity",
        "hours",
        "preparation_hours",
        "role",
        "description",
        "value_owed",
        "created_at",
    ),
    "payments": (
        "id",
        "kind",
        "amount",
        "benefit_value",
        "amount_offered",
        "currency",
        "status",
        "due_on",
        "paid_on",
        "worked_on",
        "covers_from",
        "covers_to",
        "method",
        "reference",
        "note",
        "charity_name",
        "reversal_of_id",
        "reason",
        "override_reason",
        "contribution_ids",
        "created_at",
        "approved_at",
        "paid_at",
        "cancelled_at",
    ),
    "expenses": (
        "id",
        "amount",
        "currency",
        "incurred_on",
        "paid_on",
        "description",
        "receipt_ref",
        "service_user_context",
        "created_at",
    ),
    "other_income": ("id", "amount", "received_on", "source", "created_at"),
    "partner_earnings": ("id", "amount", "received_on", "due_on", "note", "created_at"),
    "documents": (
        "id",
        "kind",
        "start_on",
        "end_on",
        "status",
        "failure_reason",
        "sha256",
        "options",
        "created_at",
        "ready_at",
    ),
    "audit_events": ("id", "at", "action", "by", "entity_type", "entity_id", "before", "after", "reason"),
}

# What each part of the data is, in plain words (the page and the read-me use them).
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("person", "Your details", "Your name, email address, phone number and any notes staff keep about you."),
    ("preferences", "How you want to be paid", "The ways you chose to be paid, most preferred first."),
    (
        "consents",
        "Your consent",
        "When you agreed that we may hold information about your benefits, and whether you withdrew it.",
    ),
    (
        "claims",
        "Your benefit information",
        "The benefits you told us you receive, and the details the "
        "checks need (such as the day your assessment period starts).",
    ),
    (
        "contributions",
        "What you did",
        "Each time you took part: the date, the activity, the hours and what you were owed.",
    ),
    (
        "payments",
        "What you were paid",
        "Each payment: how, how much, when, and what happened to it (approved, paid, cancelled or corrected).",
    ),
    ("expenses", "Expenses paid back to you", "Costs we repaid, such as travel or care, with the receipt reference."),
    (
        "other_income",
        "Other income you told us about",
        "Money from elsewhere that you asked us to count, so the checks are right.",
    ),
    (
        "partner_earnings",
        "Your partner's earnings",
        "Your partner's earnings that we count for benefits assessed on your household "
        "(a joint Universal Credit claim, Housing Benefit or Pension Credit for a couple).",
    ),
    ("documents", "Your statements and certificates", "The statements and certificates made for you."),
    (
        "audit_events",
        "The record of changes",
        "Who changed or looked at your information, and when. We keep this to protect you.",
    ),
)

_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def _plain(value):
    """A value as JSON: money as text with two decimal places, dates as ISO text, nested values walked."""
    return plain(value, money_str)


def _actor_label(user: User | None) -> str:
    if user is None:
        return "The system"
    if user.role == "contributor":
        return "You" if user.person_id is not None else "A contributor"
    return f"{user.name or 'A member of staff'} ({user.role})"


def downloaded(person: Person, actor, size: int) -> None:
    """The download is an audit event of its own: which format, and how many bytes were given."""
    after = {"format_version": FORMAT_VERSION, "size_bytes": size}
    audit.record(actor, "data.exported", person, person_id=person.id, after=after)


def _rows_of(pid: int, model, *order):
    """The person's rows of ``model``, in ``order`` (the table's own date, then id)."""
    return db.session.scalars(sa.select(model).where(model.person_id == pid).order_by(*order))


def gather(person: Person) -> dict[str, list[dict] | dict]:
    """Every row about the person, as plain JSON-ready dictionaries (one list per table)."""
    pid = person.id
    out: dict = {}
    out["person"] = _plain(pick(person, ("id", "name", "email", "phone", "notes", "created_at", "updated_at")))
    out["preferences"] = [
        {"position": p.position + 1, "kind": p.kind, "label": PREFERENCE_LABELS.get(p.kind, p.kind), "note": p.note}
        for p in _rows_of(pid, Preference, Preference.position)
    ]
    out["consents"] = [
        _plain(pick(c, ("id", "given_on", "notice_version", "recorded_at", "withdrawn_on")))
        for c in _rows_of(pid, Consent, Consent.id)
    ]
    out["claims"] = [
        _plain(
            {
                **pick(c, ("id", "benefit")),
                "benefit_name": claim_name(c.benefit),
                **pick(c, ("start_on", "end_on")),
                "attributes": dict(c.attributes or {}),
                **pick(c, ("confirmed_on", "created_at", "updated_at")),
            }
        )
        for c in _rows_of(pid, BenefitClaim, BenefitClaim.start_on, BenefitClaim.id)
    ]
    out["contributions"] = [
        _plain(
            {
                **pick(c, ("id", "worked_on")),
                "activity": name,
                **pick(c, ("hours", "preparation_hours", "role", "description", "value_owed", "created_at")),
            }
        )
        for c, name in db.session.execute(
            sa.select(Contribution, Activity.name)
            .outerjoin(Activity, Activity.id == Contribution.activity_id)
            .where(Contribution.person_id == pid)
            .order_by(Contribution.worked_on, Contribution.id)
        )
    ]
    links: dict[int, list[int]] = {}
    for payment_id, contribution_id in db.session.execute(
        sa.select(payment_contribution.c.payment_id, payment_contribution.c.contribution_id)
        .join(Payment, Payment.id == payment_contribution.c.payment_id)
        .where(Payment.person_id == pid)
        .order_by(payment_contribution.c.contribution_id)
    ):
        links.setdefault(payment_id, []).append(contribution_id)
    payments = []
    for p in _rows_of(pid, Payment, Payment.paid_on, Payment.id):
        row = _plain(
            {
                **pick(p, ("id", "kind", "amount", "benefit_value", "amount_offered", "currency", "status")),
                **pick(
                    p, ("due_on", "paid_on", "worked_on", "covers_from", "covers_to", "method", "reference", "note")
                ),
                "charity_name": p.charity_name,
                **pick(p, ("reversal_of_id", "reason", "override_reason")),
                "contribution_ids": links.get(p.id, []),
                **pick(p, ("created_at", "approved_at", "paid_at", "cancelled_at")),
            }
        )
        row["benefit_check"] = _plain(p.check_snapshot) if p.check_snapshot else None
        payments.append(row)
    out["payments"] = payments
    out["expenses"] = [
        _plain(
            {
                **pick(e, ("id", "amount", "currency", "incurred_on", "paid_on", "description", "receipt_ref")),
                **pick(e, ("service_user_context", "created_at")),
            }
        )
        for e in _rows_of(pid, Expense, Expense.paid_on, Expense.id)
    ]
    out["other_income"] = [
        _plain(pick(o, ("id", "amount", "received_on", "source", "created_at")))
        for o in _rows_of(pid, OtherIncome, OtherIncome.received_on, OtherIncome.id)
    ]
    out["partner_earnings"] = [
        _plain(pick(w, COLUMNS["partner_earnings"]))
        for w in _rows_of(pid, PartnerEarning, PartnerEarning.received_on, PartnerEarning.id)
    ]
    out["documents"] = [
        _plain(
            {
                **pick(d, ("id", "kind", "start_on", "end_on", "status", "failure_reason", "sha256")),
                "options": dict(d.options or {}),
                **pick(d, ("created_at", "ready_at")),
            }
        )
        for d in _rows_of(pid, Document, Document.created_at, Document.id)
    ]
    events = db.session.execute(
        sa.select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.person_id == pid)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    out["audit_events"] = [
        _plain(
            {
                **pick(e, ("id", "at", "action")),
                "by": _actor_label(u),
                **pick(e, ("entity_type", "entity_id", "before", "after", "reason")),
            }
        )
        for e, u in events
    ]
    return out


def counts(person: Person) -> dict[str, int]:
    """How many rows of each kind are held (for the "What we hold about you" page)."""
    pid = person.id

    def n(model, column) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(column == pid)) or 0

    return {
        "person": 1,
        "preferences": n(Preference, Preference.person_id),
        "consents": n(Consent, Consent.person_id),
        "claims": n(BenefitClaim, BenefitClaim.person_id),
        "contributions": n(Contribution, Contribution.person_id),
        "payments": n(Payment, Payment.person_id),
        "expenses": n(Expense, Expense.person_id),
        "other_income": n(OtherIncome, OtherIncome.person_id),
        "partner_earnings": n(PartnerEarning, PartnerEarning.person_id),
        "documents": n(Document, Document.person_id),
        "audit_events": n(AuditEvent, AuditEvent.person_id),
    }


def _cell(value) -> str:
    """One CSV cell. Nested values as JSON text; text that a spreadsheet would run as a formula
    gets a leading apostrophe (numbers such as "-150.00" are left exactly as they are)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if text and text[0] in "=+-@\t\r" and not _NUMERIC.match(text):
        return "'" + text
    return text


def to_csv(rows: list[dict], columns: tuple[str, ...]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    # A byte-order mark, so spreadsheet programs read names with accents correctly.
    return buf.getvalue().encode("utf-8-sig")


def _read_me(person: Person, exported_at: datetime, organisation: str) -> str:
    lines = [
        f"Everything {organisation} holds about {person.name} in the payment tracker.",
        f"Downloaded on {when_text(exported_at)}.",
        "",
        "your-data.json holds all of it in one file. The CSV files hold the same information, one file",
        "for each kind, and open in a spreadsheet program.",
        "Money is written with two decimal places, for example 150.00. Dates are written year-month-day.",
        "A payment with a minus amount is a correction: it cancels out the payment given in reversal_of_id.",
        "",
    ]
    for key, title, description in CATEGORIES:
        lines.append(f"{key}.csv: {title}. {description}")
    lines += ["", "If something is wrong, tell us and we will correct it."]
    return "\r\n".join(lines) + "\r\n"


def build_zip(person: Person, *, exported_at: datetime, organisation: str) -> bytes:
    data = gather(person)
    document = {
        "format_version": FORMAT_VERSION,
        "exported_at": exported_at.isoformat(),
        "organisation": organisation,
        **data,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("read-me.txt", _read_me(person, exported_at, organisation).encode("utf-8"))
        zf.writestr(
            "your-data.json", json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
        )
        for key, columns in COLUMNS.items():
            value = data[key]
            rows = [value] if isinstance(value, dict) else value  # the person is one row; the rest are lists
            zf.writestr(f"{key}.csv", to_csv(rows, columns))
    return buf.getvalue()
