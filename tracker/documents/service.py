"""Documents: asking for one (queued, then rendered by a worker), gathering the data, rendering
and storing. Services flush; the caller commits once. The render task (``tasks.documents``)
claims the document (``claim_render``, or ``claim_again``) in a first commit and marks it ready
(``finish_render``) in a second."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import IO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tracker.audit import service as audit
from tracker.contributions.models import Activity, Contribution
from tracker.documents import easyread, pdf
from tracker.documents.models import (
    CERTIFICATE_TEMPLATE_VERSION,
    DOCUMENT_KINDS,
    FORMAT_OPTION,
    STATEMENT_TEMPLATE_VERSION,
    TEMPLATE_VERSION,
    UNIQUE_COLUMNS,
    Document,
    DocumentBatch,
    carries_link,
)
from tracker.documents.storage import Storage, StoreUnavailable, check_name, storage_for
from tracker.errors import Unavailable, ValidationFailed
from tracker.extensions import db, table_of
from tracker.jobs import enqueue_after_commit
from tracker.money import Money, format_money
from tracker.payments.models import Expense, Payment, counts
from tracker.people.models import PREFERENCE_LABELS, Person
from tracker.picks import pick
from tracker.rules import redaction
from tracker.timeutil import day_text, month_text, utcnow
from tracker.vocab import DOCUMENT_FORMATS

TASK = "tracker.documents.render"
log = logging.getLogger(__name__)
MAX_DAYS = 731


def storage() -> Storage:
    return storage_for(current_app.extensions, current_app.config)


STORE_DOWN = "The store that keeps documents is not answering. Please try again in a few minutes."


def open_file(doc: Document) -> IO[bytes] | None:
    """A ready document's file, checked against its SHA-256, for the caller to stream and close;
    None when it is missing or does not match (asking for the document again makes it again)."""
    if doc.status != "ready" or not doc.file_name or not storage_name_ok(doc.file_name):
        return None
    try:
        return storage().open_verified(doc.file_name)
    except StoreUnavailable as exc:
        log.warning("Document %s: %s", doc.id, exc)
        raise Unavailable(STORE_DOWN) from exc


def storage_name_ok(name: str) -> bool:
    try:
        check_name(name)
    except ValueError:
        return False
    return True


def _file_gone(doc: Document) -> bool:
    """A ready document whose file is no longer in the store."""
    if doc.status != "ready":
        return False
    if not doc.file_name or not storage_name_ok(doc.file_name):
        return True
    try:
        return not storage().exists(doc.file_name)
    except StoreUnavailable as exc:
        log.warning("Document %s: %s", doc.id, exc)
        raise Unavailable(STORE_DOWN) from exc


def _check_request(kind: str, start_on, end_on) -> None:
    errors: dict[str, list[str]] = {}
    if kind not in DOCUMENT_KINDS:
        errors["kind"] = ["Choose one of: " + ", ".join(DOCUMENT_KINDS) + "."]
    if not isinstance(start_on, date):
        errors["start_on"] = ["Enter a start date like 2025-04-01."]
    if not isinstance(end_on, date):
        errors["end_on"] = ["Enter an end date like 2025-04-30."]
    if not errors:
        if end_on < start_on:
            errors["end_on"] = ["The end date must be on or after the start date."]
        elif (end_on - start_on).days > MAX_DAYS:
            errors["end_on"] = ["Choose a period of two years or less."]
    if errors:
        raise ValidationFailed(errors)


#: What a contributor may not choose: a training certificate, or the organisation's own wording.
STAFF_ONLY_OPTIONS = {
    "signatory": "Only staff choose who signs a document.",
    "training": "Only staff write the training on a certificate.",
    "cover_letter": "Only staff add a cover letter: ask your coordinator for one.",
}
STAFF_ONLY_KIND = "Training certificates are made by staff: ask your coordinator for one."


def _check_requester(kind: str, options: dict, actor) -> None:
    """A contributor asks for their own statement or certificate, with no options: the signatory,
    training text and cover letter are the organisation's words, so only staff set them."""
    if getattr(actor, "role", None) != "contributor":
        return
    errors = {name: [message] for name, message in STAFF_ONLY_OPTIONS.items() if options.get(name)}
    if kind == "training_certificate":
        errors["kind"] = [STAFF_ONLY_KIND]
    if errors:
        raise ValidationFailed(errors)


def options_key(options: dict | None) -> str:
    """Part of what makes two requests the same document: the options chosen, as a SHA-256 of their
    canonical JSON ('' for none)."""
    if not options:
        return ""
    return hashlib.sha256(json.dumps(options, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _version(kind: str) -> str:
    """Statements carry facts only, the same for every reader; certificates have their own template."""
    return STATEMENT_TEMPLATE_VERSION if kind == "statement" else CERTIFICATE_TEMPLATE_VERSION


FORMAT_MESSAGE = "Choose standard or easy read."


def with_format(person: Person, options: dict | None, fmt: str | None) -> dict:
    """The options with the format asked for (``fmt``), or else the person's own preference: an
    easy-read document is asked for with ``{"format": "easy_read"}``; a standard one adds nothing,
    so it stays the same document as before formats existed."""
    chosen = fmt or person.document_format
    if chosen not in DOCUMENT_FORMATS:
        raise ValidationFailed({FORMAT_OPTION: [FORMAT_MESSAGE]})
    clean = {k: v for k, v in (options or {}).items() if k != FORMAT_OPTION}
    return {**clean, FORMAT_OPTION: chosen} if chosen != "standard" else clean


def is_easy_read(doc) -> bool:
    return (doc.options or {}).get(FORMAT_OPTION) == "easy_read"


def names_benefits(doc: Document) -> bool:
    """A statement made before statements carried facts only, worded for readers who may see
    benefit information (it names the benefits). Statements made now name none."""
    return doc.kind == "statement" and doc.template_version == TEMPLATE_VERSION


def readable_by(doc: Document, user) -> bool:
    """Whether ``user`` may open this document, beyond seeing its person: a statement that names
    benefits is never shown to a role that may not see benefit information (issue 12, item 1)."""
    return not (names_benefits(doc) and redaction.hides_for(user))


def request_document(
    person: Person,
    kind: str,
    start_on: date,
    end_on: date,
    *,
    actor,
    options: dict | None = None,
    batch_id: int | None = None,
    fresh: bool = False,
    fmt: str | None = None,
) -> tuple[Document, bool]:
    """Ask for a document. The same (person, kind, period, template, options) always gives the same
    row, its newest version: returns (document, created). A failed one is queued again. With
    ``fresh``, a ready document whose figures have changed since (a new payment in its period) is
    made again as the next version; the old one is kept. ``fmt`` ("standard" or "easy_read") is the
    format asked for; without it, the person's preferred one."""
    _check_request(kind, start_on, end_on)
    options = with_format(person, options, fmt)
    _check_requester(kind, options or {}, actor)
    key = dict(
        person_id=person.id,
        kind=kind,
        start_on=start_on,
        end_on=end_on,
        template_version=_version(kind),
        options_key=options_key(options),
    )
    existing = db.session.scalar(sa.select(Document).filter_by(**key).order_by(Document.version.desc()).limit(1))
    if existing is not None and fresh and _figures_changed(existing, options or {}):
        key["version"] = existing.version + 1
        existing = None
    if existing is None:
        # INSERT ... ON CONFLICT DO NOTHING: two people asking at the same moment get one row,
        # without a savepoint (which pysqlite cannot nest inside a read-only transaction).
        values = dict(
            key,
            version=key.get("version", 1),
            options=options or {},
            batch_id=batch_id,
            requested_by_id=getattr(actor, "id", None),
            status="queued",
            attempts=0,
            created_at=utcnow(),
        )
        new_id = db.session.execute(_insert_new(db.session.get_bind().dialect.name), values).scalar()
        if new_id is not None:
            doc = db.session.get_one(Document, new_id)  # inserted just now
            enqueue_after_commit(TASK, doc.id)
            audit.record(
                actor,
                "document.requested",
                doc,
                person_id=person.id,
                after={"kind": kind, "start_on": start_on, "end_on": end_on, "version": doc.version},
            )
            return doc, True
        existing = db.session.scalars(sa.select(Document).filter_by(**key)).one()  # the row the insert met
    if existing.status == "failed" or _file_gone(existing):
        existing.status, existing.failure_reason = "queued", None
        db.session.flush()
        enqueue_after_commit(TASK, existing.id)
    return existing, False


#: The columns a new document row is written with (the rest keep their defaults).
_NEW_COLUMNS = (*UNIQUE_COLUMNS, "options", "batch_id", "requested_by_id", "status", "attempts", "created_at")


@functools.cache
def _insert_new(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once per dialect, on the table: a plain
    Core statement, which skips the ORM's bulk-insert path (the dialects' ON CONFLICT forms are
    compiled again at every run whatever is done)."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(table_of(Document))
        .values({name: sa.bindparam(name) for name in _NEW_COLUMNS})
        .on_conflict_do_nothing(index_elements=list(UNIQUE_COLUMNS))
        .returning(table_of(Document).c.id)
    )


def request_batch(kind: str, start_on: date, end_on: date, *, actor) -> DocumentBatch:
    """Statements for everyone with a contribution or a payment in the period."""
    _check_request(kind, start_on, end_on)
    people = db.session.scalars(
        sa.select(Person)
        .where(
            sa.or_(
                Person.id.in_(
                    sa.select(Contribution.person_id).where(Contribution.worked_on.between(start_on, end_on))
                ),
                Person.id.in_(sa.select(Payment.person_id).where(Payment.paid_on.between(start_on, end_on))),
            )
        )
        .order_by(Person.id)
    ).all()
    batch = DocumentBatch(
        kind=kind, start_on=start_on, end_on=end_on, requested_by_id=getattr(actor, "id", None), total=len(people)
    )
    db.session.add(batch)
    db.session.flush()
    for person in people:
        doc, _ = request_document(person, kind, start_on, end_on, actor=actor, batch_id=batch.id)
        if doc.batch_id is None:
            doc.batch_id = batch.id
    db.session.flush()
    audit.record(
        actor,
        "document.batch_requested",
        batch,
        after={"kind": kind, "start_on": start_on, "end_on": end_on, "total": len(people)},
    )
    return batch


def batch_progress(batch: DocumentBatch) -> dict:
    rows = (
        db.session.execute(
            sa.select(Document.status, sa.func.count(Document.id))
            .where(Document.batch_id == batch.id)
            .group_by(Document.status)
        )
        .tuples()
        .all()
    )
    counts = {"queued": 0, "ready": 0, "failed": 0, **dict(rows)}
    failures = db.session.execute(
        sa.select(Document.id, Person.name, Document.failure_reason)
        .join(Person, Person.id == Document.person_id)
        .where(Document.batch_id == batch.id, Document.status == "failed")
        .order_by(Document.id)
        .limit(100)
    ).all()
    return {
        "id": batch.id,
        "kind": batch.kind,
        "start_on": batch.start_on.isoformat(),
        "end_on": batch.end_on.isoformat(),
        "total": batch.total,
        "done": counts["ready"] + counts["failed"],
        "ready": counts["ready"],
        "failed": counts["failed"],
        "queued": counts["queued"],
        "failures": [{"document_id": f.id, "person": f.name, "reason": f.failure_reason} for f in failures],
    }


# ---- gathering the data ---------------------------------------------------------------------------


def _d(day: date) -> str:
    return day_text(day)


def _hours(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _period_label(start: date, end: date) -> str:
    return f"{_d(start)} to {_d(end)}"


# Built once (a worker runs it for every statement): in one query, everything a statement lists,
# each part in date order: the period's contributions (part 0), its payments other than cancelled
# ones (1) and its expenses (2). ``what`` is the activity, the payment's kind or the expense's
# description; a column that a part does not have is NULL, typed so that amounts still come back
# as Decimals and dates as dates.
_PID: sa.BindParameter[int] = sa.bindparam("pid")
_FROM: sa.BindParameter[date] = sa.bindparam("start")
_TO: sa.BindParameter[date] = sa.bindparam("end")
_pc, _ec, _cc, _ac = (Payment.__table__.c, Expense.__table__.c, Contribution.__table__.c, Activity.__table__.c)


def _none(type_):
    return sa.type_coerce(sa.null(), type_)


_LISTED = sa.union_all(
    sa.select(
        sa.literal_column("0").label("part"),
        _cc.worked_on.label("day"),
        _cc.id,
        _ac.name.label("what"),
        _none(sa.String).label("status"),
        _none(sa.String).label("context"),
        _none(sa.String).label("charity_name"),
        _none(sa.Integer).label("reversal_of_id"),
        _cc.value_owed.label("amount"),
        _none(Money()).label("amount_offered"),
        _cc.hours,
        _cc.preparation_hours,
        _none(sa.Date).label("due_on"),
        _none(sa.Date).label("covers_from"),
        _none(sa.Date).label("covers_to"),
    )
    .select_from(Contribution.__table__.outerjoin(Activity.__table__, _ac.id == _cc.activity_id))
    .where(_cc.person_id == _PID, _cc.worked_on.between(_FROM, _TO)),
    sa.select(
        sa.literal_column("1"),
        _pc.paid_on,
        _pc.id,
        _pc.kind,
        _pc.status,
        sa.null(),
        _pc.charity_name,
        _pc.reversal_of_id,
        _pc.amount,
        _pc.amount_offered,
        sa.null(),
        sa.null(),
        _pc.due_on,
        _pc.covers_from,
        _pc.covers_to,
    ).where(_pc.person_id == _PID, counts(_pc), _pc.paid_on.between(_FROM, _TO)),
    sa.select(
        sa.literal_column("2"),
        _ec.paid_on,
        _ec.id,
        _ec.description,
        sa.null(),
        _ec.service_user_context,
        sa.null(),
        sa.null(),
        _ec.amount,
        sa.null(),
        sa.null(),
        sa.null(),
        sa.null(),
        sa.null(),
        sa.null(),
    ).where(_ec.person_id == _PID, _ec.paid_on.between(_FROM, _TO)),
).order_by("part", "day", "id")


def _person_name(person_id: int, known: str | None) -> str:
    if known is not None:
        return known
    name = db.session.scalar(sa.select(Person.name).where(Person.id == person_id))
    if name is None:
        raise LookupError(f"Person {person_id} does not exist.")
    return name


#: A statement's words for a payment's status, written for the person and their work coach (staff
#: pages use ``vocab.PAYMENT_STATUS_LABELS``); cancelled payments are not listed.
STATEMENT_PAYMENT_STATUS = {"paid": "Paid", "approved": "Approved, not yet paid", "draft": "Planned"}


def _choice(p) -> tuple | None:
    """A line of "choices about payment" for a payment row: declined, to a charity, or less than
    offered; None for an ordinary payment."""
    if p.what == "declined":
        return (
            _d(p.day),
            "Chose not to be paid",
            format_money(p.amount_offered or Decimal(0)),
            format_money(Decimal("0")),
        )
    if p.what == "charity":
        return (
            _d(p.day),
            f"Paid to a charity: {p.charity_name or ''}",
            format_money(p.amount_offered or p.amount),
            format_money(p.amount),
        )
    if p.amount_offered is not None and p.amount_offered > p.amount and p.reversal_of_id is None:
        return (_d(p.day), "Took less than offered", format_money(p.amount_offered), format_money(p.amount))
    return None


@dataclass
class _Payments:
    """A statement's payment rows, their totals by kind, the total paid and the choices made."""

    rows: list[tuple] = field(default_factory=list)
    totals: OrderedDict = field(default_factory=OrderedDict)
    paid: Decimal = Decimal("0.00")
    choices: list[tuple] = field(default_factory=list)


def _due(p) -> str:
    """When a payment was due, and the work it pays for when that was recorded: facts, no judgement."""
    due = _d(p.due_on) if p.due_on else "Not recorded"
    if p.covers_from and p.covers_to:
        return f"{due} (for work from {_d(p.covers_from)} to {_d(p.covers_to)})"
    return due


def _how(p) -> str:
    label = PREFERENCE_LABELS.get(p.what, p.what)
    note = "reversal of an earlier payment" if p.reversal_of_id else (p.charity_name or "")
    return f"{label} ({note})" if note else label


def _payments(payments: list) -> _Payments:
    out = _Payments()
    for p in payments:
        label = PREFERENCE_LABELS.get(p.what, p.what)
        out.rows.append(
            (_d(p.day), _due(p), _how(p), format_money(p.amount), STATEMENT_PAYMENT_STATUS.get(p.status, p.status))
        )
        out.totals[label] = out.totals.get(label, Decimal("0.00")) + p.amount
        if p.status == "paid":
            out.paid += p.amount
        choice = _choice(p)
        if choice is not None:
            out.choices.append(choice)
    return out


def _worked(c) -> Decimal:
    return c.hours + (c.preparation_hours or 0)


def _by_month(contribs: list, payments: list) -> tuple[tuple[str, str, str], ...]:
    """Hours worked and money received (paid) in each calendar month that has either: the
    figures people report, with no judgement on them."""
    months: dict[date, list[Decimal]] = {}
    for c in contribs:
        months.setdefault(c.day.replace(day=1), [Decimal("0"), Decimal("0.00")])[0] += _worked(c)
    for p in payments:
        if p.status == "paid":
            months.setdefault(p.day.replace(day=1), [Decimal("0"), Decimal("0.00")])[1] += p.amount
    return tuple(
        (month_text(month), _hours(hours), format_money(paid)) for month, (hours, paid) in sorted(months.items())
    )


#: The statement's closing words: what it is, and what it is not.
STATEMENT_NOTICE = (
    "This statement lists what was recorded: payments by the date they were received, with the date "
    "each was due, and hours of contribution. It is a record of facts, not benefits advice. For advice, "
    "speak to an independent benefits adviser, such as Citizens Advice or a local welfare rights service."
)


def nothing_recorded(person_name: str, start: date, end: date) -> str:
    """The one sentence of a statement for a period with nothing in it."""
    return f"No payments or hours were recorded for {person_name} from {_d(start)} to {_d(end)}."


def _cover_letter(doc: Document, person_name: str) -> pdf.CoverLetter | None:
    """The letter to the work coach, when the statement was asked for with one."""
    options = doc.options or {}
    if not options.get("cover_letter"):
        return None
    org = current_app.config["ORGANISATION_NAME"]
    return pdf.CoverLetter(
        addressee="To the Jobcentre Plus work coach",
        body=(
            f"{person_name} takes part in co-production work with {org}.",
            f"The attached statement lists what {person_name} received from us between {_d(doc.start_on)} and "
            f"{_d(doc.end_on)}, by the date it was received and with the date it was due, with the hours of "
            "contribution and totals for each month.",
            "Expenses repaid for taking part are listed separately. Please contact us if you need more information.",
        ),
        signatory=options.get("signatory") or "Finance team",
        signatory_role=org,
    )


def _expense_row(e) -> tuple:
    return (
        _d(e.day),
        e.what,
        format_money(e.amount),
        "No (taking part as a service user)" if e.context == "yes" else "It may: check with an adviser",
    )


def statement_data(doc: Document, issued_on: date, person_name: str | None = None) -> pdf.StatementData:
    """What a statement shows: facts only. ``doc`` is a Document, or any row with its columns (the
    task passes the row its UPDATE ... RETURNING gave back); ``person_name`` saves reading the
    person again."""
    person_name = _person_name(doc.person_id, person_name)
    start, end = doc.start_on, doc.end_on
    contribs: list[sa.Row] = []
    payments: list[sa.Row] = []
    expenses: list[sa.Row] = []
    for row in db.session.execute(_LISTED, {"pid": doc.person_id, "start": start, "end": end}):
        (contribs, payments, expenses)[row.part].append(row)
    paid = _payments(payments)
    hours = sum((_worked(c) for c in contribs), Decimal("0"))
    return pdf.StatementData(
        organisation=current_app.config["ORGANISATION_NAME"],
        person_name=person_name,
        period_label=_period_label(start, end),
        issued_on=_d(issued_on),
        contributions=tuple(
            (_d(c.day), c.what or "Other work", _hours(_worked(c)), format_money(c.amount)) for c in contribs
        ),
        payments=tuple(paid.rows),
        totals_by_kind=tuple((k, format_money(v)) for k, v in paid.totals.items()),
        expenses=tuple(_expense_row(e) for e in expenses),
        choices=tuple(paid.choices),
        by_month=_by_month(contribs, payments),
        total_paid=format_money(paid.paid),
        total_hours=_hours(hours),
        nothing="" if contribs or payments or expenses else nothing_recorded(person_name, start, end),
        notice=STATEMENT_NOTICE,
        cover_letter=_cover_letter(doc, person_name),
    )


def certificate_data(doc: Document, issued_on: date, person_name: str | None = None) -> pdf.CertificateData:
    person_name = _person_name(doc.person_id, person_name)
    org = current_app.config["ORGANISATION_NAME"]
    options = doc.options or {}
    signatory = options.get("signatory") or "Co-production lead"
    if doc.kind == "training_certificate":
        training = options.get("training") or "Training"
        return pdf.CertificateData(
            organisation=org,
            person_name=person_name,
            title="Certificate of training",
            statement=f"has completed {training}.",
            details=(("Training", training), ("Dates", _period_label(doc.start_on, doc.end_on))),
            signatory=signatory,
            signatory_role=org,
            issued_on=_d(issued_on),
        )
    rows = db.session.execute(
        sa.select(Activity.name, sa.func.count(Contribution.id), Contribution.hours, Contribution.preparation_hours)
        .outerjoin(Activity, Activity.id == Contribution.activity_id)
        .where(Contribution.person_id == doc.person_id, Contribution.worked_on.between(doc.start_on, doc.end_on))
        .group_by(Activity.name, Contribution.hours, Contribution.preparation_hours)
    ).all()
    per_activity: OrderedDict = OrderedDict()
    total = Decimal("0")
    for name, n, h, prep in rows:
        value = (h + (prep or 0)) * n
        per_activity[name or "Other work"] = per_activity.get(name or "Other work", Decimal("0")) + value
        total += value
    activities = ", ".join(sorted(per_activity)) or "co-production work"
    return pdf.CertificateData(
        organisation=org,
        person_name=person_name,
        title="Certificate of contribution",
        statement=f"gave {_hours(total)} hours of their time and lived experience to {org}.",
        details=(
            ("Activities", activities),
            ("Dates", _period_label(doc.start_on, doc.end_on)),
            ("Hours", _hours(total)),
        ),
        signatory=signatory,
        signatory_role="On behalf of " + org,
        issued_on=_d(issued_on),
    )


def document_data(doc, issued_on: date, person_name: str | None = None):
    """What the document shows: statement or certificate data."""
    if doc.kind == "statement":
        return statement_data(doc, issued_on, person_name)
    return certificate_data(doc, issued_on, person_name)


def page_url(document_id: int) -> str:
    """The address of a document's web page (``documents.page``), for its PDF to point to. Built
    from PUBLIC_URL, as a worker has no request to take a host from."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/documents/{document_id}/page"


def easy_read(doc, shown) -> easyread.EasyRead:
    """The easy-read words of ``shown`` (what ``document_data`` gives for the document)."""
    link = page_url(doc.id) if carries_link(doc.kind, doc.template_version) else ""
    if isinstance(shown, pdf.StatementData):
        return easyread.statement(shown, link)
    return easyread.certificate(shown, link)


def build_pdf(doc: Document, person_name: str | None = None, shown=None) -> bytes:
    """The PDF of ``shown`` (what ``document_data`` gives for the document), worked out if not given:
    standard or easy read, as the document was asked for."""
    if shown is None:
        shown = document_data(doc, (doc.created_at or utcnow()).date(), person_name)
    statement = isinstance(shown, pdf.StatementData)
    if is_easy_read(doc):
        words = easy_read(doc, shown)
        return pdf.easy_statement(shown, words) if statement else pdf.easy_certificate(shown, words)
    link = page_url(doc.id) if carries_link(doc.kind, doc.template_version) else ""
    return pdf.render_statement(shown, link) if statement else pdf.render_certificate(shown, link)


def figures_key(data) -> str:
    """SHA-256 of what a document shows, its date of issue aside: two renders with the same key show
    the same figures."""
    return hashlib.sha256(repr(dataclasses.replace(data, issued_on="")).encode()).hexdigest()


def _figures_changed(doc: Document, options: dict) -> bool:
    """A ready document whose figures today differ from the ones it shows (a queued or failed one is
    rendered from today's figures anyway). One made before its figures were recorded may be made again."""
    if doc.status != "ready":
        return False
    if not doc.figures_key:
        return True
    now = SimpleNamespace(**pick(doc, ("person_id", "kind", "start_on", "end_on", "template_version")), options=options)
    return figures_key(document_data(now, utcnow().date())) != doc.figures_key


# ---- rendering (called by the task) --------------------------------------------------------------

_DOC = table_of(Document)
_DOC_ID: sa.BindParameter[int] = sa.bindparam("doc_id")


def _start_statement(*where):
    """UPDATE ... RETURNING: one more attempt, by this process, now; gives back what rendering
    needs, the person's name included (SQLite 3.35+ and PostgreSQL)."""
    c = _DOC.c
    # Written out: SQLAlchemy's SQLite dialect drops every table name inside RETURNING, which
    # would leave "WHERE id = person_id" to SQLite's name resolution.
    name = sa.literal_column("(SELECT owner.name FROM person AS owner WHERE owner.id = document.person_id)", sa.String)
    return (
        _DOC.update()
        .where(c.id == _DOC_ID, *where)
        .values(attempts=c.attempts + 1, started_at=sa.bindparam("now"), worker_pid=sa.bindparam("pid"))
        .returning(
            c.id,
            c.person_id,
            c.kind,
            c.start_on,
            c.end_on,
            c.options,
            c.created_at,
            c.template_version,
            name.label("person_name"),
        )
    )


_START = _start_statement(_DOC.c.status != "ready")
_START_AGAIN = _start_statement()  # a ready row whose file has gone: make the file again
_READY = (
    _DOC.update()
    .where(_DOC.c.id == _DOC_ID, _DOC.c.status != "ready")
    .values(
        status="ready",
        sha256=sa.bindparam("digest"),
        file_name=sa.bindparam("name"),
        size_bytes=sa.bindparam("size"),
        ready_at=sa.bindparam("now"),
        figures_key=sa.bindparam("figures"),
        failure_reason=None,
    )
)


def start_render(document_id: int):
    """The first step of a render: claim the document (``claim_render``), and when that claims
    nothing, ``claim_again``. Returns the row ``finish_render`` takes, or a word when there is
    nothing to render: "missing", or "already ready" (the file is there)."""
    row = claim_render(document_id)
    return claim_again(document_id) if row is None else row


def _claim_params(document_id: int) -> dict:
    return {"doc_id": document_id, "now": utcnow(), "pid": os.getpid()}


def claim_render(document_id: int):
    """Claim the document with one statement (``_START``): unless the row is ready already, it
    counts the attempt and records which process started it and when, and gives back the row's
    columns and the person's name. None when the row is ready or missing. The task commits the
    claim before rendering starts (``tasks.documents``), so a worker killed mid-render leaves its
    traces."""
    return db.session.execute(_START, _claim_params(document_id)).one_or_none()


def claim_again(document_id: int):
    """A row ``claim_render`` did not claim: "missing", "already ready" (the file is there), or,
    when its file has gone, the row claimed again to make the file again. May ask the store, so
    the task runs it in a step of its own, with no write of its own waiting to be committed."""
    found = db.session.execute(sa.select(_DOC.c.file_name).where(_DOC.c.id == document_id)).one_or_none()
    if found is None:
        return "missing"
    if found.file_name and storage_name_ok(found.file_name) and storage().exists(found.file_name):
        return "already ready"
    row = db.session.execute(_START_AGAIN, _claim_params(document_id)).one_or_none()  # its file has gone
    return "missing" if row is None else row


def finish_render(row) -> str:
    """The second step: render the claimed row, store the file, mark the row ready (one UPDATE,
    ``_READY``; only the first of two runs at once marks it). Safe to run twice, or twice at once:
    the bytes are the same, so is the file."""
    delay = current_app.config.get("DOCUMENT_RENDER_DELAY_SECONDS")  # test hook: a slow render
    if delay:
        time.sleep(float(delay))
    started = time.monotonic()
    shown = document_data(row, (row.created_at or utcnow()).date(), row.person_name)
    data = build_pdf(row, row.person_name, shown)
    digest, name = storage().save(data)
    db.session.execute(
        _READY,
        {
            "doc_id": row.id,
            "digest": digest,
            "name": name,
            "size": len(data),
            "now": utcnow(),
            "figures": figures_key(shown),
        },
    )
    log.info("Document %s (%s) rendered: %s bytes in %.2f s", row.id, row.kind, len(data), time.monotonic() - started)
    return "ready"


def mark_failed(document_id: int, reason: str) -> None:
    """A queued document failed for good; ``reason`` is shown to people. Flushes."""
    table = table_of(Document)
    db.session.execute(
        table.update()
        .where(table.c.id == document_id, table.c.status == "queued")
        .values(status="failed", failure_reason=reason[:500])
    )
    log.warning("Document %s failed: %s", document_id, reason)


def redrive_stuck(older_than_seconds: int, now=None, limit: int = 500) -> int:
    """Queue again documents stuck in ``queued`` (a lost message, a killed worker). Flushes; they
    are sent when the caller commits."""
    cutoff = (now or utcnow()) - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(
        sa.select(Document.id)
        .where(
            Document.status == "queued",
            sa.or_(Document.started_at.is_(None), Document.started_at <= cutoff),
            Document.created_at <= cutoff,
        )
        .order_by(Document.id)
        .limit(limit)
    ).all()
    for doc_id in ids:
        enqueue_after_commit(TASK, doc_id)
    if ids:
        log.info("Queued %s stuck documents again (ids %s to %s)", len(ids), ids[0], ids[-1])
    return len(ids)


def document_json(doc: Document) -> dict:
    return {
        **pick(doc, ("id", "person_id", "kind")),
        "start_on": doc.start_on.isoformat(),
        "end_on": doc.end_on.isoformat(),
        **pick(doc, ("status", "sha256", "failure_reason", "template_version", "version", "batch_id")),
        "format": "easy_read" if is_easy_read(doc) else "standard",
    }
