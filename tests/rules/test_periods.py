"""Period windows: tables for the edge cases, and properties that the windows tile the calendar."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.engine import periods
from tracker.engine.periods import PeriodError, uc_ap_start, window

ONE = timedelta(days=1)
DAYS = [*periods.WEEKDAYS]


def uc(day):
    return {"ap_start_day": day}


# --- UC assessment periods (UC Regs 2013 reg 21) -----------------------------------------------

AP_TABLE = [
    # ap_start_day, date, expected window
    (15, date(2025, 4, 20), (date(2025, 4, 15), date(2025, 5, 14))),
    (15, date(2025, 4, 14), (date(2025, 3, 15), date(2025, 4, 14))),
    (1, date(2025, 2, 28), (date(2025, 2, 1), date(2025, 2, 28))),
    # 31st: the last day of shorter months
    (31, date(2025, 2, 15), (date(2025, 1, 31), date(2025, 2, 27))),
    (31, date(2025, 2, 28), (date(2025, 2, 28), date(2025, 3, 30))),
    (31, date(2024, 2, 28), (date(2024, 1, 31), date(2024, 2, 28))),
    (31, date(2024, 2, 29), (date(2024, 2, 29), date(2024, 3, 30))),
    (31, date(2025, 4, 15), (date(2025, 3, 31), date(2025, 4, 29))),
    (31, date(2025, 4, 30), (date(2025, 4, 30), date(2025, 5, 30))),
    (31, date(2025, 12, 31), (date(2025, 12, 31), date(2026, 1, 30))),
    # 30th: that day, except February: the 27th, or the 28th in a leap year
    (30, date(2025, 2, 26), (date(2025, 1, 30), date(2025, 2, 26))),
    (30, date(2025, 2, 27), (date(2025, 2, 27), date(2025, 3, 29))),
    (30, date(2024, 2, 27), (date(2024, 1, 30), date(2024, 2, 27))),
    (30, date(2024, 2, 28), (date(2024, 2, 28), date(2024, 3, 29))),
    (30, date(2025, 4, 30), (date(2025, 4, 30), date(2025, 5, 29))),
    # 29th: the same February rule
    (29, date(2025, 2, 26), (date(2025, 1, 29), date(2025, 2, 26))),
    (29, date(2025, 2, 27), (date(2025, 2, 27), date(2025, 3, 28))),
    (29, date(2024, 2, 28), (date(2024, 2, 28), date(2024, 3, 28))),
    (29, date(2024, 2, 29), (date(2024, 2, 28), date(2024, 3, 28))),
    (29, date(2024, 2, 27), (date(2024, 1, 29), date(2024, 2, 27))),
    # 28th is an ordinary day
    (28, date(2024, 2, 29), (date(2024, 2, 28), date(2024, 3, 27))),
    (28, date(2025, 3, 1), (date(2025, 2, 28), date(2025, 3, 27))),
]


@pytest.mark.parametrize("day,on,expected", AP_TABLE)
def test_uc_assessment_period_table(day, on, expected):
    assert window("uc_assessment_period", on, uc(day)) == expected


@pytest.mark.parametrize(
    "year,day,expected",
    [
        (2025, 29, 27),
        (2025, 30, 27),
        (2025, 31, 28),
        (2024, 29, 28),
        (2024, 30, 28),
        (2024, 31, 29),
        (2100, 29, 27),
        (2000, 29, 28),  # 2100 is not a leap year, 2000 is
    ],
)
def test_february_start_days(year, day, expected):
    assert uc_ap_start(year, 2, day) == date(year, 2, expected)


@pytest.mark.parametrize("month,expected", [(4, 30), (6, 30), (9, 30), (11, 30), (1, 31), (3, 31)])
def test_day_31_uses_last_day_of_month(month, expected):
    assert uc_ap_start(2025, month, 31) == date(2025, month, expected)


def test_uc_without_start_day_uses_the_anchor_day():
    assert window("uc_assessment_period", date(2025, 5, 3), {}, anchor=date(2024, 9, 20)) == (
        date(2025, 4, 20),
        date(2025, 5, 19),
    )


@pytest.mark.parametrize("bad", [0, 32, "15", True, None])
def test_bad_start_day(bad):
    with pytest.raises(PeriodError):
        window("uc_assessment_period", date(2025, 5, 3), {"ap_start_day": bad})


@pytest.mark.parametrize("day", range(1, 32))
def test_every_start_day_tiles_three_years_exhaustively(day):
    d = date(2023, 1, 1)
    start, end = window("uc_assessment_period", d, uc(day))
    assert start <= d <= end
    seen_starts = []
    while d <= date(2025, 12, 31):
        w = window("uc_assessment_period", d, uc(day))
        assert w[0] <= d <= w[1]
        if d == w[1]:
            nxt = window("uc_assessment_period", d + ONE, uc(day))
            assert nxt[0] == d + ONE  # consecutive windows abut
            seen_starts.append(nxt[0])
        d += ONE
    # one assessment period starts in every month
    assert len({(s.year, s.month) for s in seen_starts}) == len(seen_starts)


# --- weeks, months, tax years, rolling blocks --------------------------------------------------


def test_weeks():
    # Monday 2025-04-07
    assert window("week", date(2025, 4, 9)) == (date(2025, 4, 7), date(2025, 4, 13))
    assert window("week", date(2025, 4, 6), rule_week_start="sunday") == (date(2025, 4, 6), date(2025, 4, 12))
    assert window("week", date(2025, 4, 5), rule_week_start="sunday") == (date(2025, 3, 30), date(2025, 4, 5))
    # the claim's week_start wins over the rule's
    assert window("week", date(2025, 4, 9), {"week_start": "wednesday"}, "sunday") == (
        date(2025, 4, 9),
        date(2025, 4, 15),
    )


def test_calendar_month_tax_year_per_payment():
    assert window("calendar_month", date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert window("tax_year", date(2025, 4, 5)) == (date(2024, 4, 6), date(2025, 4, 5))
    assert window("tax_year", date(2025, 4, 6)) == (date(2025, 4, 6), date(2026, 4, 5))
    assert window("per_payment", date(2025, 4, 6)) == (date(2025, 4, 6), date(2025, 4, 6))
    assert window("none", date(2025, 4, 6)) == (date(2025, 4, 6), date(2025, 4, 6))


def test_rolling_weeks_anchor_aligned_back_to_week_start():
    # claim starts Thursday 2025-04-10; blocks of 5 weeks start Monday 2025-04-07
    anchor = date(2025, 4, 10)
    assert window("rolling_weeks:5", date(2025, 4, 10), anchor=anchor) == (date(2025, 4, 7), date(2025, 5, 11))
    assert window("rolling_weeks:5", date(2025, 5, 12), anchor=anchor) == (date(2025, 5, 12), date(2025, 6, 15))
    assert window("rolling_weeks:5", date(2025, 4, 6), anchor=anchor) == (date(2025, 3, 3), date(2025, 4, 6))


@pytest.mark.parametrize("bad", ["fortnight", "rolling_weeks", "rolling_weeks:0", "rolling_weeks:x", "week:2", 7])
def test_unknown_periods(bad):
    with pytest.raises(PeriodError):
        window(bad, date(2025, 1, 1))


def test_rejects_datetime():
    from datetime import datetime

    with pytest.raises(TypeError):
        window("week", datetime(2025, 1, 1, 12))


# --- properties: every kind tiles the calendar -------------------------------------------------

dates = st.dates(min_value=date(1999, 1, 1), max_value=date(2101, 12, 31))

period_kinds = st.one_of(
    st.tuples(st.just("week"), st.fixed_dictionaries({"week_start": st.sampled_from(DAYS)})),
    st.tuples(st.just("uc_assessment_period"), st.fixed_dictionaries({"ap_start_day": st.integers(1, 31)})),
    st.tuples(st.just("calendar_month"), st.just({})),
    st.tuples(st.just("tax_year"), st.just({})),
    st.tuples(st.just("per_payment"), st.just({})),
    st.tuples(
        st.integers(1, 52).map(lambda n: f"rolling_weeks:{n}"),
        st.fixed_dictionaries({"week_start": st.sampled_from(DAYS)}),
    ),
    st.tuples(st.integers(1, 366).map(lambda n: f"rolling_days:{n}"), st.just({})),
)


@settings(max_examples=300, deadline=None)
@given(kind=period_kinds, on=dates, anchor=dates)
def test_windows_tile_the_calendar(kind, on, anchor):
    period, attrs = kind
    start, end = window(period, on, attrs, anchor=anchor)
    assert start <= on <= end
    # every day of the window has the same window (sampled for long windows)
    span = (end - start).days
    step = max(1, span // 20)
    for k in range(0, span + 1, step):
        assert window(period, start + timedelta(days=k), attrs, anchor=anchor) == (start, end)
    assert window(period, end, attrs, anchor=anchor) == (start, end)
    # neighbours abut: no gap, no overlap
    assert window(period, end + ONE, attrs, anchor=anchor)[0] == end + ONE
    assert window(period, start - ONE, attrs, anchor=anchor)[1] == start - ONE
    assert periods.next_window(period, (start, end), attrs, anchor=anchor)[0] == end + ONE


@settings(max_examples=200, deadline=None)
@given(day=st.integers(1, 31), year=st.integers(1999, 2100), month=st.integers(1, 12))
def test_uc_start_is_in_its_month_and_increasing(day, year, month):
    s = uc_ap_start(year, month, day)
    assert (s.year, s.month) == (year, month)
    ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
    nxt = uc_ap_start(ny, nm, day)
    assert s < nxt
    assert window("uc_assessment_period", s, uc(day)) == (s, nxt - ONE)
