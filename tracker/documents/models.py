"""Generated documents (certificates and statements) and batches of them."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model, one_of
from tracker.timeutil import utcnow

DOCUMENT_KINDS = ("statement", "certificate", "training_certificate")
#: What makes two requests the same document (a retry or a second click never makes another). A
#: document made afresh because its period's figures changed is the next ``version``; the old stays.
UNIQUE_COLUMNS = ("person_id", "kind", "start_on", "end_on", "template_version", "options_key", "version")
DOCUMENT_STATUSES = ("queued", "ready", "failed")
# Bump when a template changes: a new version makes a new document instead of reusing the old.
#: Certificates, and statements made before version 2 (those named the person's benefits).
TEMPLATE_VERSION = "1"
#: Statements before version 2 asked for by someone who may not see benefit information (finance):
#: their benefit periods were described neutrally. Kept so that older documents still read right.
NEUTRAL_TEMPLATE_VERSION = "1-neutral"
#: Statements from version 2 on carry facts only (issue 13, item 7): payments with the dates they
#: were due and received, hours, totals by month; no benefit, rule, limit or verdict. One document
#: for every reader, so every staff role may open it.
#: Version 3 (issue 16): the PDF ends with the address of its web page (the same content as HTML,
#: which a screen reader can use), and may be easy read (``options["format"] == "easy_read"``).
STATEMENT_TEMPLATE_VERSION = "3"
#: Certificates from version 2 on: the same two changes as statements' version 3.
CERTIFICATE_TEMPLATE_VERSION = "2"
#: The first version of each kind whose PDF carries the address of its web page.
LINKED_FROM = {"statement": 3, "certificate": 2, "training_certificate": 2}
#: The option that asks for an easy-read document (part of the document's identity, like the others).
FORMAT_OPTION = "format"


def carries_link(kind: str, template_version: str) -> bool:
    """Whether a document of this kind and template version ends with its web page's address (an
    older one, made again because its file has gone, must give the same bytes as before)."""
    number = template_version.split("-")[0]
    return number.isdigit() and int(number) >= LINKED_FROM.get(kind, 0)


def current_template(context) -> str:
    """The template a new document of its kind is made with, when none is given."""
    kind = context.get_current_parameters().get("kind")
    return STATEMENT_TEMPLATE_VERSION if kind == "statement" else CERTIFICATE_TEMPLATE_VERSION


class DocumentBatch(Model):
    """Statements for everyone for a period: one document (and one task) per person."""

    __tablename__ = "document_batch"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    start_on: so.Mapped[date]
    end_on: so.Mapped[date]
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    total: so.Mapped[int] = so.mapped_column(default=0)

    __table_args__ = (sa.CheckConstraint("end_on >= start_on", name="end_after_start"),)


class Document(Model):
    __tablename__ = "document"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    person_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("person.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    start_on: so.Mapped[date]
    end_on: so.Mapped[date]
    template_version: so.Mapped[str] = so.mapped_column(sa.String(20), default=current_template)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    failure_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    sha256: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    file_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    size_bytes: so.Mapped[int | None]
    # Optional extras chosen when asking: a cover letter, the signatory, the training name.
    options: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    # SHA-256 of the options' canonical JSON ('' for none): part of the document's identity.
    options_key: so.Mapped[str] = so.mapped_column(sa.String(64), default="", server_default="")
    # 1, then 2, 3... each made afresh when the figures it shows had changed (the older ones are kept).
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    # SHA-256 of what the rendered document shows (its date of issue aside): set when it is ready.
    figures_key: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    batch_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("document_batch.id"), index=True)
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    attempts: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    started_at: so.Mapped[datetime | None]
    worker_pid: so.Mapped[int | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    ready_at: so.Mapped[datetime | None]

    person = so.relationship("Person")

    __table_args__ = (
        sa.UniqueConstraint(*UNIQUE_COLUMNS, name="uq_document_identity"),
        one_of("kind", ("statement", "certificate", "training_certificate")),
        one_of("status", ("queued", "ready", "failed")),
        sa.CheckConstraint("end_on >= start_on", name="end_after_start"),
        sa.CheckConstraint("status != 'ready' OR sha256 IS NOT NULL", name="ready_has_hash"),
        sa.Index("ix_document_status_created", "status", "created_at"),
    )
