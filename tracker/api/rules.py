"""The benefit rules in force."""

from __future__ import annotations

from datetime import date

from flask import jsonify, request

from tracker.api import bp
from tracker.errors import ValidationFailed
from tracker.rules import service


@bp.get("/rules")
def list_rules():
    raw = request.args.get("on")
    try:
        on = date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ValidationFailed({"on": ["Use a real date like 2025-04-07."]}) from None
    items = []
    for row, rule in service.rules_in_force(on):
        items.append({**row.definition, "revision": row.revision, "effective_severity": rule.effective_severity})
    return jsonify({"on": on.isoformat() if on else None, "items": items})
