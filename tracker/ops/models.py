"""What the operator's numbers are read from: when each scheduled job last finished."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.extensions import Model


class Heartbeat(Model):
    """The last time a scheduled job (named as in the beat schedule) finished its work.

    One row per job, written by the job's task in its own unit of work, so a job that fails
    leaves its last good time behind. ``/readyz`` and ``/metrics`` show each one's age."""

    __tablename__ = "heartbeat"

    name: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    beat_at: so.Mapped[datetime]
