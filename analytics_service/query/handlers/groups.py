"""Planner of bar charts that count documents per value of a field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics_service.catalogue import Card
from analytics_service.catalogue.labels import sanitize_language_map, value_label
from analytics_service.catalogue.sources import GroupCount
from analytics_service.query.bounds import combine, count_if, in_window, time_range_filter
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.handlers.common import category_key, check_timestamps, number
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.sync.data import CardData, DataPoint

# Open-ended categories (one bar per source, topic or person) keep only the largest bars,
# because the dashboard draws every bar it receives.
MAX_OPEN_BARS = 10

UNKNOWN = "unknown"


def _group_key(source: GroupCount) -> Any:
    field = "$" + source.group_field
    if source.fallback_field is None:
        return field
    return {"$ifNull": [field, "$" + source.fallback_field]}


def _group_stage(source: GroupCount, counters: Mapping[str, Any]) -> dict[str, Any]:
    group: dict[str, Any] = {"_id": _group_key(source), **counters}
    if source.label_field is not None:
        group["label"] = {"$first": "$" + source.label_field}
    return {"$group": group}


@planner(GroupCount)
def plan_group_count(card: Card, source: GroupCount, context: RunContext, batches: Batches) -> Reader:
    batch = batches.for_collection(source.collection)
    timestamps = None
    if source.snapshot:
        branch = batch.add([{"$match": dict(source.match)}, _group_stage(source, {"n": {"$sum": 1}})])
    else:
        counters = {str(frame): count_if(in_window(source.time_field, context.windows[frame].current))
                    for frame in card.frames}
        start = context.earliest_start(card.frames, include_previous=False)
        branch = batch.add([
            {"$match": combine(dict(source.match), time_range_filter(source.time_field, start, context.now))},
            _group_stage(source, counters),
        ])
        timestamps = check_timestamps(batch, source.time_field)

    async def read(results: FacetResults) -> CardData:
        rows = results.branch(source.collection, branch)
        frames = {}
        for frame in card.frames:
            counter = "n" if source.snapshot else str(frame)
            frames[frame] = category_points(source, rows, counter)
        data = CardData(frames)
        return timestamps.apply(results, data) if timestamps else data

    return read


def category_points(source: GroupCount, rows: list[dict[str, Any]], counter: str) -> list[DataPoint]:
    """Turn grouped rows into bars: known categories in order with zeros, then the rest."""
    values: dict[str, float] = {}
    labels: dict[str, dict[str, str]] = {}
    for row in rows:
        key = category_key(row["_id"])
        key = UNKNOWN if key is None else source.aliases.get(key, key)
        values[key] = values.get(key, 0) + number(row, counter)
        if source.label_field is not None:
            label = sanitize_language_map(row.get("label"))
            if label is not None:
                labels.setdefault(key, label)

    if source.categories:
        ordered = list(source.categories)
        extra = sorted((key for key in values if key not in source.categories), key=lambda key: (-values[key], key))
        ordered += [key for key in extra if values[key]]
        return [DataPoint(value=values.get(key, 0), label=value_label(key), key=key) for key in ordered]

    # Open-ended categories: largest first, zeros left out, at most MAX_OPEN_BARS.
    ranked = sorted((key for key in values if values[key]), key=lambda key: (-values[key], key))
    return [
        DataPoint(value=values[key], label=labels.get(key) or value_label(key), key=key)
        for key in ranked[:MAX_OPEN_BARS]
    ]
