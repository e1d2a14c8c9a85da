"""Pieces: the time slots that rollups count documents in.

A piece is one UTC hour, split further at the minutes past the UTC hour where the
dashboard's time zone starts its own hours (":30" for Asia/Kolkata, ":15" for
Asia/Kathmandu, whose UTC+05:45 makes local midnight 18:15 UTC). Local
midnights are then always piece boundaries, so daily buckets are sums of whole pieces in
every time zone. Rolling windows start at any second; the part of a piece before such a
start is counted from the source collection (see ``rollups.windows``).

Pure functions: the caller passes every instant.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from analytics_service.timeframes import require_aware

HOUR = timedelta(hours=1)


def zone_minute_offsets(tz: tzinfo, start: datetime, end: datetime) -> tuple[int, ...]:
    """Return the minutes past the UTC hour at which hours start in ``tz`` between ``start`` and ``end``.

    Samples the offset once a day, which finds every offset a zone used for at least a
    day. An empty tuple means local hours are UTC hours.
    """
    minutes = set()
    moment = require_aware(start).astimezone(timezone.utc)
    end = require_aware(end).astimezone(timezone.utc)
    while True:
        offset = moment.astimezone(tz).utcoffset()
        if offset is not None:
            # Local hours start where the UTC minute cancels the offset's minutes:
            # at :15 for UTC+05:45, at :30 for UTC-03:30.
            minutes.add(-int(offset.total_seconds() // 60) % 60)
        if moment >= end:
            break
        moment = min(moment + timedelta(days=1), end)
    minutes.discard(0)
    return tuple(sorted(minutes))


def _hour_floor(moment: datetime) -> datetime:
    return require_aware(moment).astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def piece_floor(moment: datetime, minutes: tuple[int, ...]) -> datetime:
    """Return the start of the piece containing ``moment``."""
    hour = _hour_floor(moment)
    start = hour
    for minute in minutes:
        candidate = hour + timedelta(minutes=minute)
        if candidate <= moment:
            start = candidate
    return start


def piece_ceil(moment: datetime, minutes: tuple[int, ...]) -> datetime:
    """Return the first piece boundary at or after ``moment``."""
    start = piece_floor(moment, minutes)
    if start == moment:
        return start
    hour = _hour_floor(moment)
    for minute in minutes:
        candidate = hour + timedelta(minutes=minute)
        if candidate > moment:
            return candidate
    return hour + HOUR


def piece_start(hour_text: str, part: int, minutes: tuple[int, ...]) -> datetime:
    """Return the piece that a database group names by its UTC hour ("2026-03-01T10") and part.

    ``part`` counts the offsets in ``minutes`` that the document's minute reached.
    """
    hour = datetime.strptime(hour_text, "%Y-%m-%dT%H").replace(tzinfo=timezone.utc)
    if part < 0 or part > len(minutes):
        raise ValueError(f"piece part {part} out of range for minute offsets {minutes}")
    return hour + timedelta(minutes=minutes[part - 1]) if part else hour
