"""Bar charts that count documents per value of a field: snapshots, and turning rows into bars.

Windowed per-category counts read rollups (see ``handlers.rolled``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics_service.catalogue import Card
from analytics_service.catalogue.labels import sanitize_language_map, value_label
from analytics_service.catalogue.sources import GroupCount
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.plan import Batches, Reader
from analytics_service.query.values import category_key, number
from analytics_service.rollups.specs import group_key
from analytics_service.sync.data import CardData, DataPoint

# Open-ended categories (one bar per source, topic or person) keep only the largest bars,
# because the dashboard draws every bar it receives.
MAX_OPEN_BARS = 10

UNKNOWN = "unknown"


def _group_stage(source: GroupCount, counters: Mapping[str, Any]) -> dict[str, Any]:
    group: dict[str, Any] = {"_id": group_key(source), **counters}
    if source.label_field is not None:
        group["label"] = {"$first": "$" + source.label_field}
    return {"$group": group}


def plan_snapshot_group_count(card: Card, source: GroupCount, context: RunContext, batches: Batches) -> Reader:
    """Bars per category of the documents as they are now, read straight from the collection."""
    batch = batches.for_collection(source.collection)
    branch = batch.add([{"$match": dict(source.match)}, _group_stage(source, {"n": {"$sum": 1}})])

    async def read(results: FacetResults) -> CardData:
        rows = results.branch(source.collection, branch)
        return CardData({frame: category_points(source, rows, "n") for frame in card.frames})

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
