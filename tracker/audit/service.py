from __future__ import annotations

import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.picks import plain


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
    """Add one audit event to the caller's transaction (never commits)."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
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
