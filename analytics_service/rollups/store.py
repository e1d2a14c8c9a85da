"""Rollup storage: pieces in ``analytics_rollups``, build state in ``analytics_rollup_state``.

A piece document contains the count (and sum) of one spec's documents in one piece, per key:
``{spec, group, collection, start, key, n, s, label}``. The state document of a source
group (one collection read by one time field) records which specs were built, up to
which instant, when the last full rebuild ran and what it found malformed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics_service.query.bounds import sum_if
from analytics_service.rollups.extract import Extraction, SourceGroup
from analytics_service.rollups.windows import PieceRange

ROLLUPS = "analytics_rollups"
ROLLUP_STATE = "analytics_rollup_state"

# $bucket needs a default for values outside the boundaries; a string is of another type
# than the piece starts, as MongoDB requires.
OUTSIDE = "outside"


async def save_extraction(database: Any, group: SourceGroup, extraction: Extraction, start: datetime | None,
                          now: datetime, full: bool, previous_state: dict[str, Any] | None) -> None:
    """Replace the group's pieces from ``start`` (all of them when ``full``) and record the build.

    The state is marked dirty first. If a write fails halfway, the next run finds the
    mark and rebuilds the group in full instead of reading a half-replaced range.
    """
    state = database[ROLLUP_STATE]
    await state.update_one({"_id": group.state_id}, {"$set": {"dirty": True}}, upsert=True)

    pieces = database[ROLLUPS]
    if full:
        await pieces.delete_many({"group": group.state_id})
    else:
        await pieces.delete_many({"spec": {"$in": list(group.specs)}, "start": {"$gte": start}})
    documents = [{**document, "group": group.state_id}
                 for spec_documents in extraction.pieces.values() for document in spec_documents]
    if documents:
        await pieces.insert_many(documents, ordered=False)

    update: dict[str, Any] = {"dirty": False, "specs": sorted(group.specs), "builtUntil": now,
                              "present": extraction.present or bool(previous_state and previous_state.get("present"))}
    if full:
        update.update({"present": extraction.present, "fullBuiltAt": now,
                       "invalidCount": extraction.invalid_count, "invalidIds": extraction.invalid_ids})
    await state.update_one({"_id": group.state_id}, {"$set": update}, upsert=True)


def _range_condition(piece_range: PieceRange) -> dict[str, Any] | None:
    conditions = []
    if piece_range.start is not None:
        conditions.append({"$gte": ["$start", piece_range.start]})
    if piece_range.end is not None:
        conditions.append({"$lt": ["$start", piece_range.end]})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def sums_branch(spec_id: str, ranges: dict[str, PieceRange], with_sum: bool, with_label: bool) -> list:
    """Sum one spec's pieces per key over each named range."""
    group: dict[str, Any] = {"_id": "$key"}
    for name, piece_range in ranges.items():
        condition = _range_condition(piece_range)
        group[f"{name}_n"] = {"$sum": "$n"} if condition is None else sum_if(condition, "$n")
        if with_sum:
            group[f"{name}_s"] = {"$sum": "$s"} if condition is None else sum_if(condition, "$s")
    if with_label:
        group["label"] = {"$first": "$label"}
    return [{"$match": {"spec": spec_id}}, {"$group": group}]


def daily_branch(spec_id: str, day_edges: list[datetime]) -> list:
    """Sum one spec's pieces per calendar day; local midnights are piece boundaries."""
    return [
        {"$match": {"spec": spec_id, "start": {"$gte": day_edges[0], "$lt": day_edges[-1]}}},
        {"$bucket": {"groupBy": "$start", "boundaries": list(day_edges), "default": OUTSIDE,
                     "output": {"n": {"$sum": "$n"}}}},
    ]


def sums_match(open_ids: list[str], bounded_ids: list[str], earliest: datetime | None) -> dict[str, Any]:
    """Select the pieces a run reads: all of an open-ended spec, the recent ones of the others."""
    alternatives = []
    if open_ids:
        alternatives.append({"spec": {"$in": open_ids}})
    if bounded_ids:
        bounded: dict[str, Any] = {"spec": {"$in": bounded_ids}}
        if earliest is not None:
            bounded["start"] = {"$gte": earliest}
        alternatives.append(bounded)
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}
