"""The benefit rules in force."""

from __future__ import annotations

from flask import jsonify, request

from tracker.api import bp
from tracker.errors import ValidationFailed
from tracker.rules import service
from tracker.timeutil import parse_day


@bp.get("/rules")
def list_rules():
    raw = request.args.get("on")
    try:
        on = parse_day(raw) if raw else None
    except ValueError as e:
        raise ValidationFailed({"on": [str(e)]}) from None
    items = []
    for row, rule in service.rules_in_force(on):
        items.append({**row.definition, "revision": row.revision, "effective_severity": rule.effective_severity})
    return jsonify({"on": on.isoformat() if on else None, "items": items})
