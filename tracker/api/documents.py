"""Certificates and statements, produced by a Celery worker."""

from __future__ import annotations

from flask import abort, jsonify

from tracker.api import bp
from tracker.api.base import (
    current_api_user,
    found_or_404,
    own_row_or_404,
    parse_body,
    require_role,
    visible_person_or_404,
    writes,
)
from tracker.api.schemas import BatchIn, DocumentIn
from tracker.documents import presenters, service
from tracker.documents.models import Document, DocumentBatch
from tracker.errors import Conflict
from tracker.vocab import STAFF_ROLES


@bp.post("/documents")
@writes
def create_document():
    body = parse_body(DocumentIn)
    person = visible_person_or_404(body.person_id)
    options = {
        k: v
        for k, v in (("cover_letter", body.cover_letter), ("signatory", body.signatory), ("training", body.training))
        if v
    }
    doc, _ = service.request_document(
        person,
        body.kind,
        body.start_on,
        body.end_on,
        actor=current_api_user(),
        options=options,
        fresh=body.fresh,
        fmt=body.format,
    )
    return jsonify(service.document_json(doc)), 202


def _readable_or_404(document_id: int) -> Document:
    """The document, if this token's user may open it (see ``service.readable_by``); else 404."""
    doc = own_row_or_404(Document, document_id)
    if not service.readable_by(doc, current_api_user()):
        abort(404)
    return doc


@bp.get("/documents/<int:document_id>")
def get_document(document_id: int):
    return jsonify(service.document_json(_readable_or_404(document_id)))


@bp.get("/documents/<int:document_id>/file")
def get_document_file(document_id: int):
    doc = _readable_or_404(document_id)
    if doc.status != "ready" or not doc.file_name:
        raise Conflict("The document is not ready yet.", code="not_ready", extra={"status": doc.status})
    body = service.open_file(doc)  # checked against its SHA-256; None when missing or altered
    if body is None:
        raise Conflict("The document's file is missing; ask for it again.", code="file_missing")
    name = f"{doc.kind}-{doc.person_id}-{doc.start_on.isoformat()}-{doc.end_on.isoformat()}.pdf"
    resp = presenters.file_response(body, doc, name)
    resp.headers["X-Content-SHA256"] = doc.sha256 or ""
    return resp


@bp.post("/documents/batches")
@writes
def create_batch():
    body = parse_body(BatchIn, roles=STAFF_ROLES)
    batch = service.request_batch(body.kind, body.start_on, body.end_on, actor=current_api_user())
    return jsonify(service.batch_progress(batch)), 202


@bp.get("/documents/batches/<int:batch_id>")
def get_batch(batch_id: int):
    require_role(*STAFF_ROLES)
    batch = found_or_404(DocumentBatch, batch_id)
    return jsonify(service.batch_progress(batch))
