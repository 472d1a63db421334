from __future__ import annotations

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
