"""Daily ``$bucket`` branches over ISO strings and BSON dates, and reading their rows back."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from analytics_service.query.bounds import combine
from analytics_service.query.values import number
from analytics_service.timeframes import ISO_TIMESTAMP_PATTERN, format_bound

# $bucket needs a default for values outside the boundaries. "~" sorts after every
# ISO timestamp string and is of another type than dates, as MongoDB requires.
OUTSIDE = "~outside"


def bucket_branches(field: str, match: dict[str, Any], edges: list[datetime],
                    output: dict[str, Any] | None = None) -> tuple[list, list]:
    """Return the string-typed and date-typed ``$bucket`` branches over consecutive ``edges``.

    ``$bucket`` needs boundaries of one type, so strings and dates are bucketed in two
    branches whose results are added afterwards.
    """
    bucket_output = output or {"n": {"$sum": 1}}
    string_edges = [format_bound(edge) for edge in edges]
    not_array = {field: {"$not": {"$type": "array"}}}
    string_branch = [
        {"$match": combine(match, not_array, {field: {
            "$gte": string_edges[0], "$lt": string_edges[-1], "$regex": ISO_TIMESTAMP_PATTERN,
        }})},
        {"$bucket": {"groupBy": "$" + field, "boundaries": string_edges, "default": OUTSIDE,
                     "output": bucket_output}},
    ]
    date_branch = [
        {"$match": combine(match, not_array, {field: {"$gte": edges[0], "$lt": edges[-1]}})},
        {"$bucket": {"groupBy": "$" + field, "boundaries": list(edges), "default": OUTSIDE,
                     "output": bucket_output}},
    ]
    return string_branch, date_branch


def daily_counts(rows: list[dict[str, Any]], boundaries: list[Any]) -> list[int]:
    """Place ``$bucket`` rows (keyed by their lower boundary) on the day axis."""
    index_of = {boundary: position for position, boundary in enumerate(boundaries[:-1])}
    counts = [0] * (len(boundaries) - 1)
    for row in rows:
        if row["_id"] == OUTSIDE:
            continue
        position = index_of.get(row["_id"])
        if position is None:
            raise ValueError(f"$bucket returned an unknown boundary {row['_id']!r}")
        counts[position] += int(number(row, "n"))
    return counts


def boundary_keys(edges: list[datetime]) -> tuple[list[str], list[datetime]]:
    """Return the bucket keys of the string branch and of the date branch."""
    return [format_bound(edge) for edge in edges], list(edges)


def as_utc(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make naive bucket keys aware: PyMongo returns naive UTC datetimes unless tz_aware."""
    fixed = []
    for row in rows:
        key = row["_id"]
        if isinstance(key, datetime) and key.tzinfo is None:
            row = {**row, "_id": key.replace(tzinfo=timezone.utc)}
        fixed.append(row)
    return fixed
