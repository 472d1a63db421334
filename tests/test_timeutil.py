"""One display time zone: every time people read is UK time, every date "7 December 2026"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from tracker import timeutil

ROOT = Path(__file__).resolve().parent.parent


def test_a_stored_time_late_on_a_summer_evening_is_the_next_day_in_the_uk():
    late = datetime(2026, 7, 1, 23, 30)  # stored UTC: 00:30 on 2 July in the UK (BST)
    assert timeutil.day_text(late) == "2 July 2026"
    assert timeutil.when_text(late) == "2 July 2026 at 00:30 UK time"


def test_winter_times_equal_utc_and_aware_times_are_converted():
    assert timeutil.when_text(datetime(2026, 12, 7, 14, 5)) == "7 December 2026 at 14:05 UK time"
    assert timeutil.when_text(datetime(2026, 6, 1, 12, 0, tzinfo=UTC)) == "1 June 2026 at 13:00 UK time"
    assert timeutil.when_text(None) == "" and timeutil.day_text(None) == ""


def test_dates_are_written_in_words_whatever_the_locale():
    assert timeutil.day_text(date(2025, 3, 27)) == "27 March 2025"
    assert timeutil.MONTHS[11] == "December"


def test_months_and_table_stamps():
    assert timeutil.month_text(date(2026, 12, 1)) == "December 2026"
    assert timeutil.stamp_text(datetime(2025, 4, 20, 16, 30)) == "20 April 2025, 17:30"


def test_a_uk_day_starts_at_midnight_uk_time():
    assert timeutil.utc_start_of(date(2026, 7, 2)) == datetime(2026, 7, 1, 23, 0)
    assert timeutil.utc_start_of(date(2026, 12, 7)) == datetime(2026, 12, 7, 0, 0)
    assert timeutil.utc_end_of(date(9999, 12, 31)) is None


def test_today_is_the_uk_date(monkeypatch):
    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 7, 1, 23, 30, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(timeutil, "datetime", Clock)
    assert timeutil.today() == date(2026, 7, 2)


def test_no_page_or_module_shows_utc_or_formats_its_own_dates():
    shown = [p for p in (ROOT / "templates").rglob("*.html") if re.search(r"\bUTC\b|%B|%b|%H:%M", p.read_text())]
    assert not shown, shown
    own = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "tracker").rglob("*.py")
        if p.name != "timeutil.py" and re.search(r"%B|%d %b|%H:%M", p.read_text())
    ]
    assert not own, f"format dates and times with tracker.timeutil: {own}"


def test_the_notifications_page_shows_uk_time(app, client, login):
    from tracker.extensions import db
    from tracker.notify.models import Notification

    user = login("coordinator")
    with app.app_context():
        db.session.add(
            Notification(
                user_id=user,
                to_email="c@example.org",
                kind="flag",
                subject="A flag",
                body="B",
                status="outbox",
                created_at=datetime(2026, 7, 1, 23, 30),
            )
        )
        db.session.commit()
    page = client.get("/risks/notifications").get_data(as_text=True)
    assert "2 July 2026 at 00:30 UK time" in page and "UTC" not in page
