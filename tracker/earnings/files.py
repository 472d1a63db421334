"""A signed record as a file to download: the JSON itself, or its printable copy."""

from __future__ import annotations

import json

from flask import Response

from tracker.earnings import presenters
from tracker.earnings.pdf import render


def record_response(record: dict, fmt: str) -> Response:
    """The signed record as a JSON file, or its printable copy."""
    if fmt == "pdf":
        body, mimetype, ext = render(presenters.record_print(record)), "application/pdf", "pdf"
    else:
        body, mimetype, ext = json.dumps(record, ensure_ascii=False, indent=2).encode(), "application/json", "json"
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{presenters.file_name(record, ext)}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
