"""Rollup storage: pieces in ``analytics_rollups``, build state in ``analytics_rollup_state``.

A piece document contains the count (and sum) of one spec's documents in one piece, per key:
``{spec, group, collection, start, key, n, s, label}``. The state document of a source
group (one collection read by one time field) records which specs were built, up to
which instant, when the last full rebuild ran and what it found malformed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics_service.rollups.extract import Extraction, SourceGroup

ROLLUPS = "analytics_rollups"
ROLLUP_STATE = "analytics_rollup_state"


async def save_extraction(database: Any, group: SourceGroup, extraction: Extraction, start: datetime | None,
                          now: datetime, full: bool, previous_state: dict[str, Any] | None) -> None:
    """Replace the group's pieces from ``start`` (all of them when ``full``) and record the build.

    The state is marked dirty first. If a write fails halfway, the next run finds the
    mark and rebuilds the group in full instead of reading a half-replaced range.
    """
    # NOTE: unlike card writes, these writes carry no fencing token. A replica that
    # stalls past its lease and resumes here can still replace pieces; the next full
    # rebuild (daily by default) recounts them.
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


def segment_of(boundaries: list[datetime]) -> dict[str, Any]:
    """Return an expression for the segment of a piece: how many of ``boundaries`` its start reached."""
    steps = [{"$cond": [{"$gte": ["$start", boundary]}, 1, 0]} for boundary in boundaries]
    if not steps:
        return {"$literal": 0}
    return steps[0] if len(steps) == 1 else {"$add": steps}


def segments_branch(boundaries: list[datetime], with_sum: bool) -> list[dict[str, Any]]:
    """Sum every spec's pieces per key and per segment between consecutive ``boundaries``.

    Every range a card needs starts and ends on one of the boundaries, so its sum is the
    sum of whole segments, added up afterwards. One condition per boundary and piece is
    cheaper than one per range, field and piece.
    """
    group: dict[str, Any] = {
        "_id": {"spec": "$spec", "key": "$key", "segment": segment_of(boundaries)},
        "n": {"$sum": "$n"},
        "label": {"$first": "$label"},
    }
    if with_sum:
        group["s"] = {"$sum": "$s"}
    return [{"$group": group}]


def daily_branch(spec_ids: list[str], day_edges: list[datetime]) -> list[dict[str, Any]]:
    """Sum the pieces of each spec per local calendar day, which each piece records."""
    return [
        {"$match": {"spec": {"$in": spec_ids}, "start": {"$gte": day_edges[0], "$lt": day_edges[-1]}}},
        {"$group": {"_id": {"spec": "$spec", "day": "$day"}, "n": {"$sum": "$n"}}},
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
