"""Window filters and conditions that work on ISO strings and BSON dates alike.

MongoDB orders values of different BSON types by type (every string sorts before every
date), and never converts a string to a date in a comparison. So each bound exists twice:
a string bound compared with string timestamps and a date bound compared with dates.
A stored string never satisfies a date range and a stored date never satisfies a string
range, so the two halves of an ``$or`` never count a document twice. Malformed strings
are kept out by the ``$regex`` on the string half; see ``ISO_TIMESTAMP_PATTERN``.

No date operator (``$dateFromString``, ``$toDate``) is used: the embedded engine lacks
them, and they fail on the first malformed value.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from analytics_service.timeframes import ISO_TIMESTAMP_PATTERN, Window, format_bound

# Stands in for "no lower bound" on the date half; a string half needs none because
# every string sorts after "".
EARLIEST_DATE = datetime(1, 1, 1, tzinfo=timezone.utc)


def _not_array(field: str) -> dict[str, Any]:
    # Query operators match an array when any element matches, so an array holding one
    # well-formed timestamp would otherwise pass for a timestamp. It comes first in
    # "$and" because the embedded engine fails when comparing a list with a string.
    return {field: {"$not": {"$type": "array"}}}


def time_range_filter(field: str, start: datetime | None, end: datetime) -> dict[str, Any]:
    """Return a query filter for documents whose ``field`` lies in [start, end)."""
    string_range: dict[str, Any] = {"$lt": format_bound(end), "$regex": ISO_TIMESTAMP_PATTERN}
    date_range: dict[str, Any] = {"$lt": end}
    if start is not None:
        string_range["$gte"] = format_bound(start)
        date_range["$gte"] = start
    return {"$and": [_not_array(field), {"$or": [{field: string_range}, {field: date_range}]}]}


def invalid_timestamp_filter(field: str) -> dict[str, Any]:
    """Return a filter for documents whose ``field`` is missing, an array, not a date, or an odd string."""
    return {"$or": [
        {field: {"$type": "array"}},
        {"$nor": [{field: {"$type": "date"}}, {field: {"$regex": ISO_TIMESTAMP_PATTERN}}]},
    ]}


def in_window(field: str, window: Window) -> dict[str, Any]:
    """Return an expression that is true when ``field`` lies in ``window``.

    Only valid inside a stage that follows a ``time_range_filter`` on the same field:
    both halves rely on the value being a well-formed string or a date.
    """
    reference = "$" + field
    string_start = format_bound(window.start) if window.start is not None else ""
    date_start = window.start if window.start is not None else EARLIEST_DATE
    string_half = {"$and": [{"$gte": [reference, string_start]}, {"$lt": [reference, format_bound(window.end)]}]}
    date_half = {"$and": [{"$gte": [reference, date_start]}, {"$lt": [reference, window.end]}]}
    return {"$or": [string_half, date_half]}


def count_if(condition: dict[str, Any]) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def sum_if(condition: dict[str, Any], value: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, value, 0]}}


def combine(*filters: dict[str, Any]) -> dict[str, Any]:
    """AND together query filters, leaving out empty ones."""
    present = [item for item in filters if item]
    if not present:
        return {}
    if len(present) == 1:
        return present[0]
    return {"$and": present}
