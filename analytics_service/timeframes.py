"""Time frames, their windows and daily buckets, and timestamp parsing.

Pure functions: ``now`` is always an argument, and only the scheduler reads the clock.

Windows are rolling: a frame of N days ends at ``now`` and starts N calendar days
earlier at the same wall-clock time in the dashboard's time zone, so a "day" across a
DST change lasts 23 or 25 hours. The previous window is the N days before the start.
Chart series instead use whole calendar days: N daily buckets from local midnight to
local midnight, the last one being today.

The platform stores timestamps as ISO-8601 strings in UTC (``...Z``, sometimes without
the ``Z``), and other tools write BSON dates. Database queries compare strings with
strings and dates with dates, so every boundary exists in both forms; see ``Bound``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum


class TimeFrame(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    @property
    def days(self) -> int:
        return _FRAME_DAYS[self]


_FRAME_DAYS = {TimeFrame.DAY: 1, TimeFrame.WEEK: 7, TimeFrame.MONTH: 30, TimeFrame.YEAR: 365}

KPI_FRAMES: tuple[TimeFrame, ...] = (TimeFrame.DAY, TimeFrame.WEEK, TimeFrame.MONTH, TimeFrame.YEAR)
CHART_FRAMES: tuple[TimeFrame, ...] = (TimeFrame.WEEK, TimeFrame.MONTH, TimeFrame.YEAR)

# Accepted ISO-8601 forms: date, "T", time to the second, optional fraction, optional Z.
# Anything else (offsets, a space instead of "T", dates alone, a 31 November) is counted as
# malformed, because a string comparison against the window bounds would misplace it.
# The pattern runs in MongoDB (PCRE) and in Python, so it avoids what they read
# differently: [0-9] instead of \d (Unicode digits in Python), and "(?![\s\S])" instead
# of "$", which in both engines also matches before a final newline.
# NOTE: 29 February passes the pattern in every year; parse_timestamp rejects it outside
# leap years, so such a value is counted in database windows but not in Python checks.
_DAY_OF_MONTH = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-9]))"
)
ISO_TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-" + _DAY_OF_MONTH + r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?Z?(?![\s\S])"
)
_ISO_TIMESTAMP = re.compile(ISO_TIMESTAMP_PATTERN)


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) of aware UTC datetimes; ``start`` None means unbounded."""

    start: datetime | None
    end: datetime

    def contains(self, moment: datetime) -> bool:
        if self.start is not None and moment < self.start:
            return False
        return moment < self.end


@dataclass(frozen=True)
class FrameWindows:
    current: Window
    previous: Window


def floor_to_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {moment.isoformat()}")
    return moment


def shift_local_days(moment: datetime, days: int, tz: tzinfo) -> datetime:
    """Move ``moment`` by whole calendar days at the same wall-clock time in ``tz``.

    A wall time that a DST change skips resolves with the offset before the change
    (``fold=0``), as ``zoneinfo`` does.
    """
    local = require_aware(moment).astimezone(tz)
    wall = local.replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def frame_windows(frame: TimeFrame, now: datetime, tz: tzinfo) -> FrameWindows:
    """Return the rolling window of ``frame`` ending at ``now`` and the equal window before it."""
    end = floor_to_second(require_aware(now)).astimezone(timezone.utc)
    start = shift_local_days(end, -frame.days, tz)
    previous_start = shift_local_days(end, -2 * frame.days, tz)
    return FrameWindows(current=Window(start, end), previous=Window(previous_start, start))


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """Return the UTC instant at which ``day`` starts in ``tz``."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def daily_bucket_days(frame: TimeFrame, now: datetime, tz: tzinfo) -> list[date]:
    """Return the calendar days of a chart frame, oldest first, the last being today in ``tz``."""
    today = require_aware(now).astimezone(tz).date()
    return [today - timedelta(days=offset) for offset in range(frame.days - 1, -1, -1)]


def daily_boundaries(days: list[date], tz: tzinfo) -> list[datetime]:
    """Return the UTC boundaries of consecutive calendar days: one more than ``days``."""
    if not days:
        return []
    edges = [local_midnight(day, tz) for day in days]
    edges.append(local_midnight(days[-1] + timedelta(days=1), tz))
    return edges


def parse_timestamp(value: object) -> datetime | None:
    """Read a stored timestamp as an aware UTC datetime, or None when it is malformed.

    Accepts ISO-8601 strings in the form the platform writes (a missing ``Z`` is read as
    UTC) and BSON dates (naive ones are UTC, as PyMongo returns them without tz_aware).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    if not isinstance(value, str) or not _ISO_TIMESTAMP.match(value):
        return None
    text = value.removesuffix("Z")
    fraction = ""
    if "." in text:
        text, fraction = text.split(".", 1)
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    microseconds = int((fraction + "000000")[:6]) if fraction else 0
    return moment.replace(microsecond=microseconds, tzinfo=timezone.utc)


def format_bound(moment: datetime) -> str:
    """Format a whole-second UTC instant for string comparison with stored ISO timestamps.

    ``"2026-03-01T10:15:30"`` sorts before every stored form of that second
    (``...30Z``, ``...30.5Z``) and after every earlier second, so ``$gte``/``$lt`` on
    strings agree with the instants they stand for.
    """
    utc = require_aware(moment).astimezone(timezone.utc)
    if utc.microsecond:
        raise ValueError(f"bounds must be whole seconds, got {utc.isoformat()}")
    return utc.strftime("%Y-%m-%dT%H:%M:%S")


def format_timestamp(moment: datetime) -> str:
    """Format an instant as the ISO-8601 UTC string the platform writes."""
    return require_aware(moment).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_local_midnight(day: date, tz: tzinfo) -> str:
    """Format the start of ``day`` in ``tz`` with its UTC offset, e.g. 2026-03-29T00:00:00+01:00."""
    return datetime.combine(day, time(0), tzinfo=tz).isoformat()


def complete_day_ranges(frame: TimeFrame, now: datetime, tz: tzinfo) -> tuple[tuple[date, date], tuple[date, date]]:
    """Return the last N complete calendar days before today in ``tz`` and the N days before them.

    Analytics providers report whole days, and the current day is still incomplete
    (GA4 keeps revising the last 48 hours), so provider-backed frames end yesterday,
    as GA4's own "last 7 days" does. Both ends of each range are inclusive.
    """
    today = require_aware(now).astimezone(tz).date()
    end = today - timedelta(days=1)
    start = today - timedelta(days=frame.days)
    previous_end = start - timedelta(days=1)
    previous_start = start - timedelta(days=frame.days)
    return (start, end), (previous_start, previous_end)


def day_range_window(start: date, end: date, tz: tzinfo) -> Window:
    """Return the UTC window of whole calendar days ``start`` to ``end`` (inclusive) in ``tz``."""
    return Window(local_midnight(start, tz), local_midnight(end + timedelta(days=1), tz))
