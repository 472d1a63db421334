"""Audit events: added to the caller's transaction, never committed here.

Repeated views of one person's benefit information by the same user, from the same place, within
``BENEFIT_VIEW_COALESCE_MINUTES`` of the first are one row: the view counts them in ``after``
(``views``, ``last_at``) instead of adding a row each time (docs/security.md says why).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.dialects.postgresql import JSONB

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


def _counted_view(actor_id: int | None, action: str, person_id: int | None, after: dict | None) -> AuditEvent | None:
    """Count a repeated view of benefit information on its open row (the same user, person and place,
    first written within the window), if there is one: one UPDATE, which also finds the row. The count
    is raised in the database, so two views at once count twice."""
    minutes = _coalesce_minutes() if action == BENEFIT_VIEW else 0
    if minutes <= 0 or actor_id is None or person_id is None:
        return None
    now = utcnow()
    values = {
        "view_actor": actor_id,
        "view_person": person_id,
        "view_since": now - timedelta(minutes=minutes),
        "view_where": (after or {}).get("where") or "",
        "view_last_at": now.isoformat(timespec="seconds"),
    }
    return db.session.scalars(_count_view_statement(db.session.get_bind().dialect.name), values).first()


#: The UPDATE that counts a repeated view, built once per kind of database (its values are bound).
_COUNT_VIEW: dict[str, sa.Update] = {}


def _count_view_statement(dialect: str) -> sa.Update:
    if dialect not in _COUNT_VIEW:
        open_row = (
            sa.select(AuditEvent.id)
            .where(
                AuditEvent.action == BENEFIT_VIEW,
                AuditEvent.actor_id == sa.bindparam("view_actor"),
                AuditEvent.person_id == sa.bindparam("view_person"),
                AuditEvent.at >= sa.bindparam("view_since"),
                sa.func.coalesce(AuditEvent.after["where"].as_string(), "")
                == sa.bindparam("view_where", type_=sa.String),
            )
            .order_by(AuditEvent.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        _COUNT_VIEW[dialect] = (
            sa.update(AuditEvent)
            .where(AuditEvent.id == open_row)
            .values(after=_one_more_view(dialect, sa.bindparam("view_last_at", type_=sa.String)))
            .returning(AuditEvent)
            .execution_options(synchronize_session=False)
        )
    return _COUNT_VIEW[dialect]


def _one_more_view(dialect: str, last_at: sa.BindParameter) -> sa.ColumnElement:
    """``after`` with ``views`` one higher (a row counts as one view before its first repeat) and
    ``last_at`` set, as SQL for the database in use (SQLite's JSON functions or PostgreSQL's jsonb)."""
    after = AuditEvent.__table__.c.after
    if dialect == "postgresql":
        details = sa.cast(after, JSONB)
        views = sa.func.coalesce(sa.cast(details[VIEWS].astext, sa.Integer), 1) + 1
        return sa.cast(details.op("||")(sa.func.jsonb_build_object(VIEWS, views, LAST_AT, last_at)), sa.JSON)
    views = sa.func.coalesce(sa.func.json_extract(after, f"$.{VIEWS}"), 1) + 1
    return sa.func.json_set(after, f"$.{VIEWS}", views, f"$.{LAST_AT}", last_at)


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
    repeated = _counted_view(actor_id, action, person_id, after)
    if repeated is not None:
        return repeated
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
