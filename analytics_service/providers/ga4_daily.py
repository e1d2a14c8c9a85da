"""Daily GA4 series: a cache of settled days and the date spans still to read.

GA4 keeps revising the last 24-48 hours of data. A day is treated as settled once it lies
at least REVISED_DAYS days before the end of the requested range.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from datetime import date, timedelta

from analytics_service.providers.base import DateRange
from analytics_service.providers.ga4_requests import DATE
from analytics_service.providers.ga4_responses import ReportTable, parse_report_date, read_rows

# Days this close to a range's end may still change, so they are always read again.
REVISED_DAYS = 2


class DailyCache:
    """Settled daily values by series key (a query, or a name for a metric), then by day."""

    def __init__(self) -> None:
        self._values: dict[Hashable, dict[date, int]] = {}

    def days_to_read(self, key: Hashable, date_range: DateRange) -> list[date]:
        """Return the days of ``date_range`` not in the cache, plus its last REVISED_DAYS days, in order."""
        cached = self._values.get(key, {})
        revised_from = date_range.end - timedelta(days=REVISED_DAYS - 1)
        return [day for day in date_range.dates() if day >= revised_from or day not in cached]

    def merge(self, key: Hashable, date_range: DateRange, read: dict[date, int]) -> dict[date, int]:
        """Return every day of ``date_range`` from ``read`` or the cache, and cache the settled days read."""
        cached = self._values.setdefault(key, {})
        settled_until = date_range.end - timedelta(days=REVISED_DAYS)
        cached.update({day: count for day, count in read.items() if day <= settled_until})
        return {day: read[day] if day in read else cached[day] for day in date_range.dates()}


def spans(days: Sequence[date]) -> list[DateRange]:
    """Split sorted days into ranges of consecutive days."""
    result: list[DateRange] = []
    for day in days:
        if result and day == result[-1].end + timedelta(days=1):
            result[-1] = DateRange(result[-1].start, day)
        else:
            result.append(DateRange(day, day))
    return result


def daily_rows(
    table: ReportTable, metric: str, ranges: Sequence[DateRange], key_dimensions: Sequence[str]
) -> Iterator[tuple[date, dict[str, str], int]]:
    """Yield (day, other dimensions, count) for the rows of a report with a ``date`` dimension.

    Rows whose day lies outside the range they are listed under are skipped. The API sends
    them, with zeros, when a report has several ranges and keepEmptyRows is set.
    """
    for row in read_rows(table, metric, len(ranges), [*key_dimensions, DATE]):
        dimensions = dict(row.dimensions)
        day = parse_report_date(dimensions.pop(DATE))
        if ranges[row.range_index].contains(day):
            yield day, dimensions, row.count
