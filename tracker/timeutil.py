"""Clock helpers. Services take "now" and "today" as arguments; only views and tasks call these.

Times are stored in UTC without a zone; people read them in UK time (``uk_time``)."""

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    UK: tzinfo = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without time zone data
    UK = UTC


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    return date.today()


def uk_time(at: datetime) -> datetime:
    """A stored time (UTC, with or without a zone) as the clock in the UK showed it."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UK)
