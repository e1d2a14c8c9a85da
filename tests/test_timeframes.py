"""Tests for frame windows, daily buckets and timestamp parsing and formatting.

Expected instants are written out in UTC from the tz database's offsets, not recomputed
with the functions under test.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from analytics_service.timeframes import (
    ISO_TIMESTAMP_PATTERN,
    TimeFrame,
    daily_boundaries,
    daily_bucket_days,
    format_bound,
    format_local_midnight,
    format_timestamp,
    frame_windows,
    local_midnight,
    parse_timestamp,
    shift_local_days,
)

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
CHATHAM = ZoneInfo("Pacific/Chatham")
SANTIAGO = ZoneInfo("America/Santiago")
HAVANA = ZoneInfo("America/Havana")

DAY, WEEK, MONTH, YEAR = TimeFrame.DAY, TimeFrame.WEEK, TimeFrame.MONTH, TimeFrame.YEAR
HOUR = timedelta(hours=1)


def instant(text: str) -> datetime:
    """Parse an ISO-8601 string that carries its offset (``Z`` or ``+hh:mm``)."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, f"test data must be aware: {text}"
    return moment


def hours(delta: timedelta) -> float:
    return delta / HOUR


def gap_hours_between(instants: list[datetime]) -> list[float]:
    return [hours(later - earlier) for earlier, later in pairwise(instants)]


# --- frame_windows ---------------------------------------------------------------------

# Columns: zone, frame, now, current start, current end, previous start,
# current length in hours, previous length in hours. The previous window always ends
# at the current start.
FRAME_WINDOW_CASES = [
    # UTC: plain calendar arithmetic.
    pytest.param(
        UTC, DAY, "2026-06-15T12:00:00Z",
        "2026-06-14T12:00:00Z", "2026-06-15T12:00:00Z", "2026-06-13T12:00:00Z", 24, 24,
        id="utc-day-ordinary",
    ),
    pytest.param(
        UTC, WEEK, "2026-06-15T12:00:00Z",
        "2026-06-08T12:00:00Z", "2026-06-15T12:00:00Z", "2026-06-01T12:00:00Z", 168, 168,
        id="utc-week-ordinary",
    ),
    pytest.param(
        UTC, MONTH, "2026-06-15T12:00:00Z",
        "2026-05-16T12:00:00Z", "2026-06-15T12:00:00Z", "2026-04-16T12:00:00Z", 720, 720,
        id="utc-month-ordinary",
    ),
    pytest.param(
        UTC, YEAR, "2026-06-15T12:00:00Z",
        "2025-06-15T12:00:00Z", "2026-06-15T12:00:00Z", "2024-06-15T12:00:00Z", 8760, 8760,
        id="utc-year-ordinary",
    ),
    # A month frame is 30 calendar days, so it starts on 1 March from 31 March and the
    # previous window crosses the 28-day February.
    pytest.param(
        UTC, MONTH, "2026-03-31T12:00:00Z",
        "2026-03-01T12:00:00Z", "2026-03-31T12:00:00Z", "2026-01-30T12:00:00Z", 720, 720,
        id="utc-month-from-31-march",
    ),
    pytest.param(
        UTC, MONTH, "2026-03-01T12:00:00Z",
        "2026-01-30T12:00:00Z", "2026-03-01T12:00:00Z", "2025-12-31T12:00:00Z", 720, 720,
        id="utc-month-from-1-march",
    ),
    # Leap day as now: 365 days back from 29 Feb 2028 is 1 Mar 2027.
    pytest.param(
        UTC, YEAR, "2028-02-29T12:00:00Z",
        "2027-03-01T12:00:00Z", "2028-02-29T12:00:00Z", "2026-03-01T12:00:00Z", 8760, 8760,
        id="utc-year-leap-day-now",
    ),
    pytest.param(
        UTC, MONTH, "2028-02-29T12:00:00Z",
        "2028-01-30T12:00:00Z", "2028-02-29T12:00:00Z", "2027-12-31T12:00:00Z", 720, 720,
        id="utc-month-leap-day-now",
    ),
    # Leap day as window start: 365 days back from 28 Feb 2029 is 29 Feb 2028.
    pytest.param(
        UTC, YEAR, "2029-02-28T12:00:00Z",
        "2028-02-29T12:00:00Z", "2029-02-28T12:00:00Z", "2027-03-01T12:00:00Z", 8760, 8760,
        id="utc-year-leap-day-start",
    ),
    pytest.param(
        UTC, DAY, "2026-06-15T12:00:00.999999Z",
        "2026-06-14T12:00:00Z", "2026-06-15T12:00:00Z", "2026-06-13T12:00:00Z", 24, 24,
        id="utc-day-microseconds-floored",
    ),
    pytest.param(
        UTC, DAY, "2026-06-15T00:00:00Z",
        "2026-06-14T00:00:00Z", "2026-06-15T00:00:00Z", "2026-06-13T00:00:00Z", 24, 24,
        id="utc-day-at-midnight",
    ),
    # Europe/Berlin: CET +01:00, CEST +02:00 from 2026-03-29 02:00 to 2026-10-25 03:00.
    pytest.param(
        BERLIN, DAY, "2026-06-15T10:00:00Z",
        "2026-06-14T10:00:00Z", "2026-06-15T10:00:00Z", "2026-06-13T10:00:00Z", 24, 24,
        id="berlin-day-ordinary",
    ),
    pytest.param(
        BERLIN, DAY, "2026-06-15T12:00:00+02:00",
        "2026-06-14T10:00:00Z", "2026-06-15T10:00:00Z", "2026-06-13T10:00:00Z", 24, 24,
        id="berlin-day-now-with-offset",
    ),
    pytest.param(
        BERLIN, DAY, "2026-03-29T10:00:00Z",
        "2026-03-28T11:00:00Z", "2026-03-29T10:00:00Z", "2026-03-27T11:00:00Z", 23, 24,
        id="berlin-day-spring-forward",
    ),
    pytest.param(
        BERLIN, DAY, "2026-03-30T10:00:00Z",
        "2026-03-29T10:00:00Z", "2026-03-30T10:00:00Z", "2026-03-28T11:00:00Z", 24, 23,
        id="berlin-day-after-spring-forward",
    ),
    pytest.param(
        BERLIN, DAY, "2026-10-25T11:00:00Z",
        "2026-10-24T10:00:00Z", "2026-10-25T11:00:00Z", "2026-10-23T10:00:00Z", 25, 24,
        id="berlin-day-fall-back",
    ),
    pytest.param(
        BERLIN, DAY, "2026-10-26T11:00:00Z",
        "2026-10-25T11:00:00Z", "2026-10-26T11:00:00Z", "2026-10-24T10:00:00Z", 24, 25,
        id="berlin-day-after-fall-back",
    ),
    # 02:30 on 29 March does not exist in Berlin, so it resolves with the earlier offset
    # (+01:00), which is 03:30 CEST.
    pytest.param(
        BERLIN, DAY, "2026-03-30T00:30:00Z",
        "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z", "2026-03-28T01:30:00Z", 23, 24,
        id="berlin-day-start-in-skipped-hour",
    ),
    # 02:30 on 25 October happens twice in Berlin, and the first one (CEST) is taken.
    pytest.param(
        BERLIN, DAY, "2026-10-26T01:30:00Z",
        "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-24T00:30:00Z", 25, 24,
        id="berlin-day-start-in-repeated-hour",
    ),
    pytest.param(
        BERLIN, WEEK, "2026-06-14T22:00:00Z",
        "2026-06-07T22:00:00Z", "2026-06-14T22:00:00Z", "2026-05-31T22:00:00Z", 168, 168,
        id="berlin-week-at-local-midnight",
    ),
    pytest.param(
        BERLIN, MONTH, "2026-03-31T10:00:00Z",
        "2026-03-01T11:00:00Z", "2026-03-31T10:00:00Z", "2026-01-30T11:00:00Z", 719, 720,
        id="berlin-month-from-31-march",
    ),
    pytest.param(
        BERLIN, YEAR, "2026-06-15T10:00:00Z",
        "2025-06-15T10:00:00Z", "2026-06-15T10:00:00Z", "2024-06-15T10:00:00Z", 8760, 8760,
        id="berlin-year-ordinary",
    ),
    # America/New_York: EST -05:00, EDT -04:00 from 2026-03-08 02:00 to 2026-11-01 02:00.
    pytest.param(
        NEW_YORK, WEEK, "2026-06-15T16:00:00Z",
        "2026-06-08T16:00:00Z", "2026-06-15T16:00:00Z", "2026-06-01T16:00:00Z", 168, 168,
        id="new-york-week-ordinary",
    ),
    pytest.param(
        NEW_YORK, DAY, "2026-03-08T16:00:00Z",
        "2026-03-07T17:00:00Z", "2026-03-08T16:00:00Z", "2026-03-06T17:00:00Z", 23, 24,
        id="new-york-day-spring-forward",
    ),
    pytest.param(
        NEW_YORK, DAY, "2026-11-01T17:00:00Z",
        "2026-10-31T16:00:00Z", "2026-11-01T17:00:00Z", "2026-10-30T16:00:00Z", 25, 24,
        id="new-york-day-fall-back",
    ),
    pytest.param(
        NEW_YORK, DAY, "2026-01-10T05:00:00Z",
        "2026-01-09T05:00:00Z", "2026-01-10T05:00:00Z", "2026-01-08T05:00:00Z", 24, 24,
        id="new-york-day-at-local-midnight",
    ),
    pytest.param(
        NEW_YORK, MONTH, "2026-03-31T16:00:00Z",
        "2026-03-01T17:00:00Z", "2026-03-31T16:00:00Z", "2026-01-30T17:00:00Z", 719, 720,
        id="new-york-month-from-31-march",
    ),
    # Australia/Sydney: AEST +10:00, AEDT +11:00 until 2026-04-05 03:00 and from
    # 2026-10-04 02:00, so spring-forward falls in October.
    pytest.param(
        SYDNEY, DAY, "2026-07-15T02:00:00Z",
        "2026-07-14T02:00:00Z", "2026-07-15T02:00:00Z", "2026-07-13T02:00:00Z", 24, 24,
        id="sydney-day-ordinary",
    ),
    pytest.param(
        SYDNEY, MONTH, "2026-07-15T02:00:00Z",
        "2026-06-15T02:00:00Z", "2026-07-15T02:00:00Z", "2026-05-16T02:00:00Z", 720, 720,
        id="sydney-month-ordinary",
    ),
    pytest.param(
        SYDNEY, DAY, "2026-10-04T01:00:00Z",
        "2026-10-03T02:00:00Z", "2026-10-04T01:00:00Z", "2026-10-02T02:00:00Z", 23, 24,
        id="sydney-day-spring-forward",
    ),
    pytest.param(
        SYDNEY, DAY, "2026-04-05T02:00:00Z",
        "2026-04-04T01:00:00Z", "2026-04-05T02:00:00Z", "2026-04-03T01:00:00Z", 25, 24,
        id="sydney-day-fall-back",
    ),
    pytest.param(
        SYDNEY, DAY, "2026-07-14T14:00:00Z",
        "2026-07-13T14:00:00Z", "2026-07-14T14:00:00Z", "2026-07-12T14:00:00Z", 24, 24,
        id="sydney-day-at-local-midnight",
    ),
    # The previous year spans 29 Feb 2024, so it starts on 16 January, not 15.
    pytest.param(
        SYDNEY, YEAR, "2026-01-15T01:00:00Z",
        "2025-01-15T01:00:00Z", "2026-01-15T01:00:00Z", "2024-01-16T01:00:00Z", 8760, 8760,
        id="sydney-year-previous-spans-leap-day",
    ),
    # Asia/Kolkata: +05:30 all year.
    pytest.param(
        KOLKATA, DAY, "2026-06-15T06:30:00Z",
        "2026-06-14T06:30:00Z", "2026-06-15T06:30:00Z", "2026-06-13T06:30:00Z", 24, 24,
        id="kolkata-day-ordinary",
    ),
    pytest.param(
        KOLKATA, WEEK, "2026-06-14T18:30:00Z",
        "2026-06-07T18:30:00Z", "2026-06-14T18:30:00Z", "2026-05-31T18:30:00Z", 168, 168,
        id="kolkata-week-at-local-midnight",
    ),
    pytest.param(
        KOLKATA, YEAR, "2029-02-28T06:30:00Z",
        "2028-02-29T06:30:00Z", "2029-02-28T06:30:00Z", "2027-03-01T06:30:00Z", 8760, 8760,
        id="kolkata-year-leap-day-start",
    ),
    # Pacific/Chatham: +12:45, +13:45 until 2026-04-05 03:45 and from 2026-09-27 02:45.
    pytest.param(
        CHATHAM, DAY, "2026-07-15T00:00:00Z",
        "2026-07-14T00:00:00Z", "2026-07-15T00:00:00Z", "2026-07-13T00:00:00Z", 24, 24,
        id="chatham-day-ordinary",
    ),
    pytest.param(
        CHATHAM, DAY, "2026-09-27T00:00:00Z",
        "2026-09-26T01:00:00Z", "2026-09-27T00:00:00Z", "2026-09-25T01:00:00Z", 23, 24,
        id="chatham-day-spring-forward",
    ),
    pytest.param(
        CHATHAM, DAY, "2026-04-05T00:00:00Z",
        "2026-04-03T23:00:00Z", "2026-04-05T00:00:00Z", "2026-04-02T23:00:00Z", 25, 24,
        id="chatham-day-fall-back",
    ),
    pytest.param(
        CHATHAM, DAY, "2026-07-14T11:15:00Z",
        "2026-07-13T11:15:00Z", "2026-07-14T11:15:00Z", "2026-07-12T11:15:00Z", 24, 24,
        id="chatham-day-at-local-midnight",
    ),
    pytest.param(
        CHATHAM, MONTH, "2026-03-31T00:00:00Z",
        "2026-03-01T00:00:00Z", "2026-03-31T00:00:00Z", "2026-01-30T00:00:00Z", 720, 720,
        id="chatham-month-from-31-march",
    ),
]


@pytest.mark.parametrize(
    ("zone", "frame", "now", "start", "end", "previous_start", "current_hours", "previous_hours"),
    FRAME_WINDOW_CASES,
)
def test_frame_windows_table(zone, frame, now, start, end, previous_start, current_hours, previous_hours):
    windows = frame_windows(frame, instant(now), zone)

    assert windows.current.start == instant(start)
    assert windows.current.end == instant(end)
    assert windows.previous.start == instant(previous_start)
    assert windows.previous.end == instant(start)
    assert hours(windows.current.end - windows.current.start) == current_hours
    assert hours(windows.previous.end - windows.previous.start) == previous_hours


@pytest.mark.parametrize("zone", [UTC, BERLIN, SYDNEY], ids=["utc", "berlin", "sydney"])
def test_frame_windows_return_utc(zone):
    now = datetime(2026, 6, 15, 12, 0, 0, 500, tzinfo=BERLIN)

    windows = frame_windows(WEEK, now, zone)

    for moment in (windows.current.start, windows.current.end, windows.previous.start):
        assert moment.utcoffset() == timedelta(0)
        assert moment.microsecond == 0


def test_frame_windows_half_open():
    windows = frame_windows(DAY, instant("2026-06-15T12:00:00Z"), UTC)

    assert windows.current.contains(instant("2026-06-14T12:00:00Z"))
    assert windows.current.contains(instant("2026-06-15T11:59:59.999999Z"))
    assert not windows.current.contains(instant("2026-06-15T12:00:00Z"))
    assert not windows.previous.contains(instant("2026-06-14T12:00:00Z"))
    assert windows.previous.contains(instant("2026-06-13T12:00:00Z"))


@pytest.mark.parametrize("frame", list(TimeFrame), ids=str)
def test_frame_windows_naive_now_raises(frame):
    with pytest.raises(ValueError, match="aware"):
        frame_windows(frame, datetime(2026, 6, 15, 12, 0, 0), BERLIN)


# --- shift_local_days ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("zone", "moment", "days", "expected"),
    [
        pytest.param(BERLIN, "2026-03-28T11:00:00Z", 1, "2026-03-29T10:00:00Z", id="berlin-forward-over-gap"),
        pytest.param(BERLIN, "2026-03-29T10:00:00Z", -1, "2026-03-28T11:00:00Z", id="berlin-back-over-gap"),
        pytest.param(BERLIN, "2026-03-28T01:30:00Z", 1, "2026-03-29T01:30:00Z", id="berlin-into-skipped-hour"),
        pytest.param(BERLIN, "2026-10-24T00:30:00Z", 1, "2026-10-25T00:30:00Z", id="berlin-into-repeated-hour"),
        pytest.param(KOLKATA, "2026-06-15T06:30:00Z", -7, "2026-06-08T06:30:00Z", id="kolkata-week-back"),
        pytest.param(UTC, "2028-02-28T12:00:00Z", 1, "2028-02-29T12:00:00Z", id="utc-onto-leap-day"),
        pytest.param(UTC, "2026-06-15T12:00:00Z", 0, "2026-06-15T12:00:00Z", id="utc-zero-days"),
    ],
)
def test_shift_local_days_table(zone, moment, days, expected):
    assert shift_local_days(instant(moment), days, zone) == instant(expected)


def test_shift_local_days_naive_raises():
    with pytest.raises(ValueError, match="aware"):
        shift_local_days(datetime(2026, 6, 15, 12), 1, BERLIN)


# --- daily_bucket_days -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("zone", "frame", "now", "first", "last", "count"),
    [
        # 23:30 UTC is already 16 June in Berlin.
        pytest.param(BERLIN, WEEK, "2026-06-15T23:30:00Z", "2026-06-10", "2026-06-16", 7, id="berlin-week"),
        pytest.param(BERLIN, MONTH, "2026-06-15T23:30:00Z", "2026-05-18", "2026-06-16", 30, id="berlin-month"),
        pytest.param(BERLIN, YEAR, "2026-06-15T23:30:00Z", "2025-06-17", "2026-06-16", 365, id="berlin-year"),
        # 02:00 UTC is still 14 June in New York.
        pytest.param(NEW_YORK, WEEK, "2026-06-15T02:00:00Z", "2026-06-08", "2026-06-14", 7, id="new-york-week"),
        pytest.param(KOLKATA, WEEK, "2026-06-14T18:30:00Z", "2026-06-09", "2026-06-15", 7, id="kolkata-at-midnight"),
        pytest.param(CHATHAM, WEEK, "2026-07-14T11:14:59Z", "2026-07-08", "2026-07-14", 7, id="chatham-before-midnight"),
        pytest.param(SYDNEY, YEAR, "2026-01-15T01:00:00Z", "2025-01-16", "2026-01-15", 365, id="sydney-year"),
        pytest.param(UTC, YEAR, "2028-06-01T12:00:00Z", "2027-06-03", "2028-06-01", 365, id="utc-year-with-leap-day"),
    ],
)
def test_daily_bucket_days_table(zone, frame, now, first, last, count):
    days = daily_bucket_days(frame, instant(now), zone)

    assert len(days) == count
    assert days[0] == date.fromisoformat(first)
    assert days[-1] == date.fromisoformat(last)
    gaps = {later - earlier for earlier, later in pairwise(days)}
    assert gaps == {timedelta(days=1)}


def test_daily_bucket_days_year_contains_leap_day():
    days = daily_bucket_days(YEAR, instant("2028-06-01T12:00:00Z"), UTC)

    assert date(2028, 2, 29) in days
    assert len(days) == 365
    assert len(set(days)) == 365


def test_daily_bucket_days_naive_now_raises():
    with pytest.raises(ValueError, match="aware"):
        daily_bucket_days(WEEK, datetime(2026, 6, 15, 12), BERLIN)


# --- daily_boundaries ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("zone", "first_day", "edges", "gap_hours"),
    [
        pytest.param(
            BERLIN, "2026-03-28",
            ["2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z"],
            [24, 23, 24], id="berlin-spring-forward",
        ),
        pytest.param(
            BERLIN, "2026-10-24",
            ["2026-10-23T22:00:00Z", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", "2026-10-26T23:00:00Z"],
            [24, 25, 24], id="berlin-fall-back",
        ),
        pytest.param(
            NEW_YORK, "2026-03-07",
            ["2026-03-07T05:00:00Z", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", "2026-03-10T04:00:00Z"],
            [24, 23, 24], id="new-york-spring-forward",
        ),
        pytest.param(
            NEW_YORK, "2026-10-31",
            ["2026-10-31T04:00:00Z", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", "2026-11-03T05:00:00Z"],
            [24, 25, 24], id="new-york-fall-back",
        ),
        pytest.param(
            SYDNEY, "2026-04-04",
            ["2026-04-03T13:00:00Z", "2026-04-04T13:00:00Z", "2026-04-05T14:00:00Z", "2026-04-06T14:00:00Z"],
            [24, 25, 24], id="sydney-fall-back",
        ),
        pytest.param(
            CHATHAM, "2026-09-26",
            ["2026-09-25T11:15:00Z", "2026-09-26T11:15:00Z", "2026-09-27T10:15:00Z", "2026-09-28T10:15:00Z"],
            [24, 23, 24], id="chatham-spring-forward",
        ),
        # Santiago skips from 00:00 to 01:00 on 6 September, so that day starts at 01:00
        # local time (04:00 UTC).
        pytest.param(
            SANTIAGO, "2026-09-05",
            ["2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", "2026-09-08T03:00:00Z"],
            [24, 23, 24], id="santiago-midnight-skipped",
        ),
        # Santiago turns 00:00 on 5 April back to 23:00 on 4 April.
        pytest.param(
            SANTIAGO, "2026-04-04",
            ["2026-04-04T03:00:00Z", "2026-04-05T04:00:00Z", "2026-04-06T04:00:00Z", "2026-04-07T04:00:00Z"],
            [25, 24, 24], id="santiago-midnight-turned-back",
        ),
        pytest.param(
            HAVANA, "2026-03-07",
            ["2026-03-07T05:00:00Z", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", "2026-03-10T04:00:00Z"],
            [24, 23, 24], id="havana-midnight-skipped",
        ),
        # Havana turns 01:00 on 1 November back to 00:00, so that midnight happens twice
        # and the first one starts the day.
        pytest.param(
            HAVANA, "2026-10-31",
            ["2026-10-31T04:00:00Z", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", "2026-11-03T05:00:00Z"],
            [24, 25, 24], id="havana-midnight-repeated",
        ),
    ],
)
def test_daily_boundaries_dst_table(zone, first_day, edges, gap_hours):
    start = date.fromisoformat(first_day)
    days = [start + timedelta(days=offset) for offset in range(3)]

    boundaries = daily_boundaries(days, zone)

    assert boundaries == [instant(edge) for edge in edges]
    assert gap_hours_between(boundaries) == gap_hours


# Each row: zone, a `now` whose year frame contains the zone's DST changes, and the
# number of 23-hour and 25-hour days in that year.
@pytest.mark.parametrize(
    ("zone", "now", "short_days", "long_days"),
    [
        pytest.param(UTC, "2026-12-04T15:30:00Z", 0, 0, id="utc"),
        pytest.param(BERLIN, "2026-12-04T15:30:00Z", 1, 1, id="berlin"),
        pytest.param(NEW_YORK, "2026-12-04T15:30:00Z", 1, 1, id="new-york"),
        pytest.param(SYDNEY, "2026-12-04T15:30:00Z", 1, 1, id="sydney"),
        pytest.param(KOLKATA, "2026-12-04T15:30:00Z", 0, 0, id="kolkata"),
        pytest.param(CHATHAM, "2026-12-04T15:30:00Z", 1, 1, id="chatham"),
        pytest.param(SANTIAGO, "2026-12-04T15:30:00Z", 1, 1, id="santiago"),
        pytest.param(HAVANA, "2026-12-04T15:30:00Z", 1, 1, id="havana"),
    ],
)
@pytest.mark.parametrize("frame", [WEEK, MONTH, YEAR], ids=str)
def test_daily_boundaries_chart_frames(zone, now, short_days, long_days, frame):
    days = daily_bucket_days(frame, instant(now), zone)

    boundaries = daily_boundaries(days, zone)

    assert len(boundaries) == len(days) + 1
    assert boundaries == [local_midnight(day, zone) for day in days + [days[-1] + timedelta(days=1)]]
    gaps = gap_hours_between(boundaries)
    assert all(gap > 0 for gap in gaps), "boundaries must be strictly increasing"
    assert set(gaps) <= {23, 24, 25}
    if frame is YEAR:
        assert gaps.count(23) == short_days
        assert gaps.count(25) == long_days


def test_daily_boundaries_year_with_leap_day():
    days = daily_bucket_days(YEAR, instant("2028-06-01T12:00:00Z"), BERLIN)

    boundaries = daily_boundaries(days, BERLIN)

    assert len(boundaries) == 366
    assert boundaries[0] == instant("2027-06-02T22:00:00Z")
    assert boundaries[-1] == instant("2028-06-01T22:00:00Z")


def test_daily_boundaries_empty():
    assert daily_boundaries([], BERLIN) == []


# --- parse_timestamp -------------------------------------------------------------------

PARSED = datetime(2026, 3, 1, 10, 15, 30, 123456, tzinfo=timezone.utc)
PARSED_WHOLE = datetime(2026, 3, 1, 10, 15, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-03-01T10:15:30.123456Z", PARSED, id="fraction-6-with-z"),
        pytest.param("2026-03-01T10:15:30.123456", PARSED, id="fraction-6-without-z"),
        pytest.param("2026-03-01T10:15:30.123Z", PARSED.replace(microsecond=123000), id="fraction-3"),
        pytest.param("2026-03-01T10:15:30.123456789Z", PARSED, id="fraction-9-truncated"),
        pytest.param("2026-03-01T10:15:30.5Z", PARSED.replace(microsecond=500000), id="fraction-1"),
        pytest.param("2026-03-01T10:15:30Z", PARSED_WHOLE, id="no-fraction-with-z"),
        pytest.param("2026-03-01T10:15:30", PARSED_WHOLE, id="no-fraction-without-z"),
        pytest.param(
            "2028-02-29T23:59:59Z", datetime(2028, 2, 29, 23, 59, 59, tzinfo=timezone.utc), id="leap-day",
        ),
        pytest.param(datetime(2026, 3, 1, 10, 15, 30), PARSED_WHOLE, id="naive-datetime-is-utc"),
        pytest.param(
            datetime(2026, 3, 1, 12, 15, 30, 123456, tzinfo=timezone(timedelta(hours=2))),
            PARSED,
            id="aware-datetime-converted",
        ),
        pytest.param(datetime(2026, 3, 1, 11, 15, 30, tzinfo=BERLIN), PARSED_WHOLE, id="zoneinfo-datetime"),
    ],
)
def test_parse_timestamp_valid(value, expected):
    parsed = parse_timestamp(value)

    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("2026-03-01", id="date-only"),
        pytest.param("2026-03-01 10:15:30", id="space-separator"),
        pytest.param("2026-03-01T10:15:30+02:00", id="offset"),
        pytest.param("2026-03-01T10:15:30+00:00", id="zero-offset"),
        pytest.param("2026-02-30T00:00:00Z", id="february-30"),
        pytest.param("2026-13-01T00:00:00Z", id="month-13"),
        pytest.param("2026-03-01T24:00:00Z", id="hour-24"),
        pytest.param("2026-03-01T10:15:60Z", id="leap-second"),
        pytest.param("2026-03-01T10:15Z", id="no-seconds"),
        pytest.param("2026-03-01T10:15:30.Z", id="empty-fraction"),
        pytest.param("2026-03-01T10:15:30.1234567890Z", id="fraction-10-digits"),
        pytest.param("2026-03-01t10:15:30z", id="lowercase"),
        pytest.param("  2026-03-01T10:15:30Z", id="leading-spaces"),
        pytest.param("2026-03-01T10:15:30Z ", id="trailing-space"),
        pytest.param("2026-03-01T10:15:30Z\n", id="trailing-newline-after-z"),
        pytest.param("2026-03-01T10:15:30\n", id="trailing-newline-no-fraction"),
        pytest.param("2026-03-01T10:15:30.5\n", id="trailing-newline-short-fraction"),
        pytest.param("2026-03-01T10:15:30.123456\n", id="trailing-newline-6-digit-fraction"),
        pytest.param("2026-03-01T10:15:30.\u0665Z", id="non-ascii-digit-in-fraction"),
        pytest.param(12345, id="int"),
        pytest.param(1772360130.0, id="float"),
        pytest.param(None, id="none"),
        pytest.param(b"2026-03-01T10:15:30Z", id="bytes"),
        pytest.param(date(2026, 3, 1), id="date-object"),
    ],
)
def test_parse_timestamp_invalid(value):
    assert parse_timestamp(value) is None


# --- format_bound ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(datetime(2026, 3, 1, 10, 15, 30, tzinfo=timezone.utc), "2026-03-01T10:15:30", id="utc"),
        pytest.param(
            datetime(2026, 3, 1, 12, 15, 30, tzinfo=timezone(timedelta(hours=2))),
            "2026-03-01T10:15:30",
            id="offset-converted",
        ),
        pytest.param(datetime(2026, 3, 29, 3, 0, 0, tzinfo=BERLIN), "2026-03-29T01:00:00", id="berlin-summer-time"),
        pytest.param(datetime(2026, 1, 1, 0, 0, 0, tzinfo=KOLKATA), "2025-12-31T18:30:00", id="kolkata-new-year"),
    ],
)
def test_format_bound_table(moment, expected):
    assert format_bound(moment) == expected


def test_format_bound_microseconds_raise():
    with pytest.raises(ValueError, match="whole seconds"):
        format_bound(datetime(2026, 3, 1, 10, 15, 30, 1, tzinfo=timezone.utc))


def test_format_bound_naive_raises():
    with pytest.raises(ValueError, match="aware"):
        format_bound(datetime(2026, 3, 1, 10, 15, 30))


def stored_forms(moment: datetime) -> list[str]:
    """Return the string forms the platform may store for ``moment``, all denoting it exactly."""
    seconds = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micro = f"{moment.microsecond:06d}"
    fractions = {micro, micro + "000", micro.rstrip("0") or "0"}
    if moment.microsecond == 0:
        fractions.add("000")
    forms = [seconds, seconds + "Z"] if moment.microsecond == 0 else []
    for fraction in sorted(fractions):
        forms.append(f"{seconds}.{fraction}")
        forms.append(f"{seconds}.{fraction}Z")
    return forms


# A bound in the middle of a minute and one at a month change, where the date part
# of the string changes too.
BOUNDS = [
    datetime(2026, 3, 1, 10, 15, 30, tzinfo=timezone.utc),
    datetime(2026, 3, 1, 0, 0, 0, tzinfo=timezone.utc),
]
OFFSETS = (
    [timedelta(milliseconds=250 * step) for step in range(-12, 13)]
    + [timedelta(microseconds=step) for step in (-1, 1, 999_999, 1_000_001)]
    + [timedelta(minutes=step) for step in (-1, 1)]
    + [timedelta(days=step) for step in (-1, 1, 365)]
)


@pytest.mark.parametrize("bound", BOUNDS, ids=["mid-minute", "month-change"])
def test_format_bound_string_order_matches_instants(bound):
    bound_text = format_bound(bound)

    for offset in OFFSETS:
        moment = bound + offset
        for stored in stored_forms(moment):
            assert re.match(ISO_TIMESTAMP_PATTERN, stored), stored
            assert parse_timestamp(stored) == moment, stored
            assert (stored >= bound_text) == (moment >= bound), f"{stored!r} against bound {bound_text!r}"
            assert (stored < bound_text) == (moment < bound), f"{stored!r} against bound {bound_text!r}"


# --- format_timestamp and format_local_midnight ----------------------------------------

def test_format_timestamp_utc_with_z():
    moment = datetime(2026, 12, 4, 16, 30, 0, 5, tzinfo=BERLIN)

    text = format_timestamp(moment)

    assert text == "2026-12-04T15:30:00.000005Z"
    assert re.match(ISO_TIMESTAMP_PATTERN, text)
    assert parse_timestamp(text) == moment


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        pytest.param(BERLIN, "2026-03-29", "2026-03-29T00:00:00+01:00", id="berlin-spring-forward-day"),
        pytest.param(BERLIN, "2026-03-30", "2026-03-30T00:00:00+02:00", id="berlin-after-spring-forward"),
        pytest.param(BERLIN, "2026-10-25", "2026-10-25T00:00:00+02:00", id="berlin-fall-back-day"),
        pytest.param(BERLIN, "2026-10-26", "2026-10-26T00:00:00+01:00", id="berlin-after-fall-back"),
        pytest.param(KOLKATA, "2026-06-15", "2026-06-15T00:00:00+05:30", id="kolkata"),
        pytest.param(CHATHAM, "2026-09-27", "2026-09-27T00:00:00+12:45", id="chatham-spring-forward-day"),
        pytest.param(CHATHAM, "2026-09-28", "2026-09-28T00:00:00+13:45", id="chatham-after-spring-forward"),
        pytest.param(UTC, "2028-02-29", "2028-02-29T00:00:00+00:00", id="utc-leap-day"),
    ],
)
def test_format_local_midnight_table(zone, day, expected):
    text = format_local_midnight(date.fromisoformat(day), zone)

    assert text == expected
    assert datetime.fromisoformat(text) == local_midnight(date.fromisoformat(day), zone)
