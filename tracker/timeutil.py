"""Clock helpers. Services take "now" and "today" as arguments; only views and tasks call these."""

from datetime import date, datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    return date.today()
