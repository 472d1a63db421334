"""Clock helpers and the one way times and dates are shown.

Services take "now" and "today" as arguments; only views and tasks call ``utcnow`` and ``today``.
Times are stored in UTC without a zone; people read every time in UK time (Europe/London, from the
``tzdata`` package, so it is the same on every machine) and every date as "7 December 2026".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.vocab import FIRST_YEAR, LAST_YEAR

UK = ZoneInfo("Europe/London")
UK_TIME = "UK time"
#: Month names in English whatever the machine's locale (strftime's %B follows the locale).
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


#: Every date the tracker accepts (a form, the API, a query, the command line) lies in these years.
EARLIEST_DAY, LATEST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
DAY_RANGE_MESSAGE = f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}, like 2025-04-07."


def in_day_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def parse_day(text: str | None) -> date:
    """A YYYY-MM-DD date from 2000 to 2100; ValueError (with a message for people) otherwise."""
    try:
        day = date.fromisoformat(text or "")
    except (TypeError, ValueError):
        raise ValueError("Use a real date like 2025-04-07.") from None
    if not in_day_range(day):
        raise ValueError(DAY_RANGE_MESSAGE)
    return day


def day_arg(args, name: str, errors: dict[str, list[str]]) -> date | None:
    """The date in query argument ``name`` (None when not given); a bad one's message goes into
    ``errors`` under its name, for a 422 that names the argument."""
    raw = args.get(name)
    if raw in (None, ""):
        return None
    try:
        return parse_day(raw)
    except ValueError as e:
        errors[name] = [str(e)]
        return None


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    """Today's date in the UK (a server's own clock may run on UTC or another zone)."""
    return datetime.now(UK).date()


def uk_time(at: datetime) -> datetime:
    """A stored time (UTC, with or without a zone) as the clock in the UK showed it."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UK)


def day_text(day: date | datetime | None) -> str:
    """A date in words: "7 December 2026". A stored time (UTC) is first turned into its UK date."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = uk_time(day).date()
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def span_text(start: date, end: date) -> str:
    """Two dates as a span, without saying a month or year twice: "7 to 13 December 2026",
    "30 November to 6 December 2026", "6 April 2026 to 5 April 2027"."""
    if start.year != end.year:
        return f"{day_text(start)} to {day_text(end)}"
    if start.month != end.month:
        return f"{start.day} {MONTHS[start.month - 1]} to {day_text(end)}"
    if start.day != end.day:
        return f"{start.day} to {day_text(end)}"
    return day_text(start)


def month_text(day: date) -> str:
    """A month in words: "December 2026"."""
    return f"{MONTHS[day.month - 1]} {day.year}"


def _day_and_clock(at: datetime | None, between: str, after: str = "") -> str:
    """A stored time's UK date in words and clock time, ``between`` them and ``after`` them ("" for None)."""
    if at is None:
        return ""
    local = uk_time(at)
    return f"{day_text(local.date())}{between}{local:%H:%M}{after}"


def stamp_text(at: datetime | None) -> str:
    """A stored time in a table cell, in UK time: "7 December 2026, 15:30"."""
    return _day_and_clock(at, ", ")


def clock_text(at: datetime) -> str:
    """A stored time's UK clock time alone: "10:02"."""
    return f"{uk_time(at):%H:%M}"


def when_text(at: datetime | None) -> str:
    """A stored time as people in the UK read it: "7 July 2026 at 15:30 UK time"."""
    return _day_and_clock(at, " at ", f" {UK_TIME}")


def utc_start_of(day: date) -> datetime | None:
    """The UTC moment a UK day starts (stored times are UTC without a zone); None beyond the calendar."""
    try:
        return datetime.combine(day, time.min, tzinfo=UK).astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return None


def utc_end_of(day: date) -> datetime | None:
    """The UTC moment after a UK day ends; None when that is beyond the calendar (no upper bound)."""
    try:
        return utc_start_of(day + timedelta(days=1))
    except OverflowError:
        return None


def minutes_text(seconds: int) -> str:
    """A wait in whole minutes, rounded up: "1 minute", "15 minutes"."""
    minutes = max(1, -(-int(seconds) // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
