"""The OpenAPI 3 document, built from the same strict models that validate request bodies."""

from __future__ import annotations

from flask import current_app, jsonify

from tracker.api import bp
from tracker.api.openapi import build_document


@bp.get("/openapi.json")
def openapi():
    doc = current_app.extensions.get("tracker.openapi")
    if doc is None:
        doc = current_app.extensions["tracker.openapi"] = build_document()
    return jsonify(doc)
