"""Audit events: added to the caller's transaction, never committed here.

Repeated views of one person's benefit information by the same user, from the same place, within
``BENEFIT_VIEW_COALESCE_MINUTES`` of the first are one row: the view counts them in ``after``
(``views``, ``last_at``) instead of adding a row each time (docs/security.md says why).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.picks import plain
from tracker.timeutil import utcnow

BENEFIT_VIEW = "benefits.viewed"
#: The keys a coalesced view keeps its count and its latest time under, in ``after``.
VIEWS, LAST_AT = "views", "last_at"


def _coalesce_minutes() -> int:
    if not has_app_context():
        return 0
    return int(current_app.config.get("BENEFIT_VIEW_COALESCE_MINUTES", 10) or 0)


def _repeated_view(actor_id: int | None, action: str, person_id: int | None, after: dict | None) -> AuditEvent | None:
    """The open row a repeated view of benefit information is counted on, if any: the same user,
    person and place, first written within the window. Locked (PostgreSQL) so two views count twice."""
    minutes = _coalesce_minutes() if action == BENEFIT_VIEW else 0
    if minutes <= 0 or actor_id is None or person_id is None:
        return None
    since = utcnow() - timedelta(minutes=minutes)
    candidates = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.action == BENEFIT_VIEW,
            AuditEvent.actor_id == actor_id,
            AuditEvent.person_id == person_id,
            AuditEvent.at >= since,
        )
        .order_by(AuditEvent.id.desc())
        .limit(5)
        .with_for_update()
    )
    where = (after or {}).get("where")
    return next((e for e in candidates if (e.after or {}).get("where") == where), None)


def _count_view(event: AuditEvent) -> AuditEvent:
    """One more view on an open row: one UPDATE of its details when the caller's transaction is
    flushed (left pending, so a read-only boundary sees the session dirty and commits it)."""
    details = dict(event.after or {})
    details[VIEWS] = int(details.get(VIEWS, 1)) + 1
    details[LAST_AT] = utcnow().isoformat(timespec="seconds")
    event.after = details
    return event


def record(
    actor,
    action: str,
    entity,
    *,
    before: dict | None = None,
    after: dict | None = None,
    person_id: int | None = None,
    reason: str | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
) -> AuditEvent:
    """Add one audit event to the caller's transaction (never commits); a repeated view of a person's
    benefit information is counted on the open row instead (see the module's docstring)."""
    actor_id = getattr(actor, "id", None)
    repeated = _repeated_view(actor_id, action, person_id, after)
    if repeated is not None:
        return _count_view(repeated)
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        entity_type=entity_type or (type(entity).__tablename__ if entity is not None else "none"),
        entity_id=entity_id if entity_id is not None else getattr(entity, "id", None),
        person_id=person_id,
        before=plain(before) if before is not None else None,
        after=plain(after) if after is not None else None,
        reason=reason,
    )
    db.session.add(event)
    return event


def record_many(actor, action: str, entity_type: str, events: list[dict]) -> None:
    """Many events of one kind in one INSERT (paying a run): each dict has ``entity_id`` and may have
    ``person_id``, ``before``, ``after`` and ``reason``. Added to the caller's transaction."""
    if not events:
        return
    actor_id = getattr(actor, "id", None)
    db.session.execute(
        sa.insert(AuditEvent),
        [
            {
                "actor_id": actor_id,
                "action": action,
                "entity_type": entity_type,
                "entity_id": e["entity_id"],
                "person_id": e.get("person_id"),
                "before": plain(e["before"]) if e.get("before") is not None else None,
                "after": plain(e["after"]) if e.get("after") is not None else None,
                "reason": e.get("reason"),
            }
            for e in events
        ],
    )
