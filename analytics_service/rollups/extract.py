"""The one aggregation per source collection that refreshes its rollups and counts its edges.

An incremental run starts with a ``$match`` on the time field, so a MongoDB server reads
only the update window and the few pieces around window starts through the time-field
index. A full rebuild reads the whole collection and also counts the documents whose
timestamp is missing or malformed, which no time range can find.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any

from analytics_service.query.bounds import (
    combine,
    count_if,
    in_window,
    invalid_timestamp_filter,
    sum_if,
    time_range_filter,
)
from analytics_service.query.values import SKIPPED_ID_SAMPLE, number
from analytics_service.rollups.pieces import piece_ceil, piece_floor, piece_start
from analytics_service.rollups.specs import RollupSpec
from analytics_service.timeframes import ISO_TIMESTAMP_PATTERN, Window, format_bound

# The start given to pieces older than every window, which a full rebuild sums into one
# document per key. Only cumulative counts read them.
COMPACTED_START = datetime(1970, 1, 1, tzinfo=timezone.utc)

PRESENT = "present"
INVALID_COUNT = "invalid"
INVALID_SAMPLE = "invalidSample"


@dataclass
class SourceGroup:
    """The specs that read one collection by one time field."""

    collection: str
    time_field: str
    specs: dict[str, RollupSpec] = field(default_factory=dict)  # by spec id

    @property
    def state_id(self) -> str:
        return f"{self.collection}:{self.time_field}"


@dataclass
class Extraction:
    """The rollup documents, edge counts and checks that one refresh aggregation returned."""

    pieces: dict[str, list[dict[str, Any]]]  # rollup documents by spec id
    edges: dict[str, dict[str, dict[str, Any]]]  # per spec id, per repr(key): _id, e<j>, v<j>, label
    present: bool
    invalid_count: int | None = None  # only counted by a full rebuild
    invalid_ids: list[str] = field(default_factory=list)


def _not_array(time_field: str) -> dict[str, Any]:
    return {time_field: {"$not": {"$type": "array"}}}


def _piece_id(reference: str, typed: str, minutes: tuple[int, ...], key: Any) -> dict[str, Any]:
    # Strings are ISO timestamps checked by the pattern, so their first 13 characters are
    # the UTC hour; dates are formatted to the same text. "$substr" rather than
    # "$substrBytes" because the embedded engine implements only the former.
    if typed == "string":
        hour: Any = {"$substr": [reference, 0, 13]}
        minute: Any = {"$substr": [reference, 14, 2]}
        parts = [{"$cond": [{"$gte": [minute, f"{value:02d}"]}, 1, 0]} for value in minutes]
    else:
        hour = {"$dateToString": {"format": "%Y-%m-%dT%H", "date": reference}}
        parts = [{"$cond": [{"$gte": [{"$minute": reference}, value]}, 1, 0]} for value in minutes]
    group_id: dict[str, Any] = {"h": hour}
    if parts:
        group_id["p"] = parts[0] if len(parts) == 1 else {"$add": parts}
    if key is not None:
        group_id["k"] = key
    return group_id


def _counters(spec: RollupSpec) -> dict[str, Any]:
    counters: dict[str, Any] = {"n": {"$sum": 1}}
    if spec.value_field is not None:
        counters["s"] = {"$sum": "$" + spec.value_field}
    if spec.label_field is not None:
        counters["label"] = {"$first": "$" + spec.label_field}
    return counters


def piece_branches(spec: RollupSpec, start: datetime | None, now: datetime,
                   minutes: tuple[int, ...]) -> tuple[list, list]:
    """Return the string-typed and date-typed branches that count ``spec`` per piece in [start, now)."""
    reference = "$" + spec.time_field
    string_range: dict[str, Any] = {"$lt": format_bound(now), "$regex": ISO_TIMESTAMP_PATTERN}
    date_range: dict[str, Any] = {"$lt": now}
    if start is not None:
        string_range["$gte"] = format_bound(start)
        date_range["$gte"] = start
    branches = []
    for typed, time_range in (("string", string_range), ("date", date_range)):
        branches.append([
            {"$match": combine(spec.match, _not_array(spec.time_field), {spec.time_field: time_range})},
            {"$group": {"_id": _piece_id(reference, typed, minutes, spec.key), **_counters(spec)}},
        ])
    return branches[0], branches[1]


def edge_filter(time_field: str, edges: list[datetime], minutes: tuple[int, ...]) -> dict[str, Any]:
    return {"$or": [time_range_filter(time_field, piece_floor(edge, minutes), piece_ceil(edge, minutes))
                    for edge in edges]}


def edge_branch(spec: RollupSpec, edges: list[datetime], minutes: tuple[int, ...]) -> list[dict[str, Any]]:
    """Count, per key, the documents of each edge's piece dated before the edge."""
    group: dict[str, Any] = {"_id": spec.key}
    for position, edge in enumerate(edges):
        before = in_window(spec.time_field, Window(piece_floor(edge, minutes), edge))
        group[f"e{position}"] = count_if(before)
        if spec.value_field is not None:
            group[f"v{position}"] = sum_if(before, "$" + spec.value_field)
    if spec.label_field is not None:
        group["label"] = {"$first": "$" + spec.label_field}
    return [{"$match": combine(spec.match, edge_filter(spec.time_field, edges, minutes))}, {"$group": group}]


def refresh_pipeline(group: SourceGroup, start: datetime | None, now: datetime, minutes: tuple[int, ...],
                     edges: list[datetime], full: bool) -> list[dict[str, Any]]:
    """Return the aggregation that recounts ``group``'s pieces from ``start`` (None: all) and its edges."""
    branches: dict[str, list[dict[str, Any]]] = {PRESENT: [{"$limit": 1}, {"$project": {"_id": 1}}]}
    for position, spec in enumerate(group.specs.values()):
        strings, dates = piece_branches(spec, start, now, minutes)
        branches[f"s{position}"] = strings
        branches[f"d{position}"] = dates
        if edges:
            branches[f"e{position}"] = edge_branch(spec, edges, minutes)
    if full:
        invalid = {"$match": invalid_timestamp_filter(group.time_field)}
        branches[INVALID_COUNT] = [invalid, {"$count": "n"}]
        branches[INVALID_SAMPLE] = [invalid, {"$sort": {"_id": 1}}, {"$limit": SKIPPED_ID_SAMPLE},
                                    {"$project": {"_id": 1}}]
        return [{"$facet": branches}]
    ranges = [time_range_filter(group.time_field, start, now)]
    if edges:
        ranges.extend(edge_filter(group.time_field, edges, minutes)["$or"])
    return [{"$match": {"$or": ranges}}, {"$facet": branches}]


def _merge_pieces(spec_id: str, spec: RollupSpec, rows: list[dict[str, Any]],
                  minutes: tuple[int, ...], tz: tzinfo) -> list[dict[str, Any]]:
    merged: dict[tuple[datetime, str], dict[str, Any]] = {}
    for row in rows:
        identity = row["_id"]
        start = piece_start(identity["h"], int(identity.get("p", 0)), minutes)
        key = identity.get("k")
        slot = (start, repr(key))
        document = merged.get(slot)
        if document is None:
            document = merged[slot] = {"spec": spec_id, "collection": spec.collection, "start": start,
                                       "day": start.astimezone(tz).date().isoformat(), "key": key, "n": 0}
            if spec.value_field is not None:
                document["s"] = 0
        document["n"] += int(number(row, "n"))
        if spec.value_field is not None:
            document["s"] += number(row, "s")
        if spec.label_field is not None and document.get("label") is None:
            document["label"] = row.get("label")
    return sorted(merged.values(), key=lambda document: (document["start"], repr(document["key"])))


def compact(documents: list[dict[str, Any]], before: datetime) -> list[dict[str, Any]]:
    """Sum the pieces that start before ``before`` into one piece per key at ``COMPACTED_START``."""
    recent, old = [], {}
    for document in documents:
        if document["start"] >= before:
            recent.append(document)
            continue
        slot = old.get(repr(document["key"]))
        if slot is None:
            old[repr(document["key"])] = {**document, "start": COMPACTED_START, "day": None}
            continue
        slot["n"] += document["n"]
        if "s" in document:
            slot["s"] += document["s"]
        if slot.get("label") is None and document.get("label") is not None:
            slot["label"] = document["label"]
    return list(old.values()) + recent


def read_extraction(group: SourceGroup, result: dict[str, list[dict[str, Any]]],
                    minutes: tuple[int, ...], tz: tzinfo, compact_before: datetime | None) -> Extraction:
    """Turn the refresh aggregation's branches into rollup documents and edge counts.

    ``compact_before`` is set for a full rebuild, which compacts the older pieces.
    """
    full = compact_before is not None
    pieces, edges = {}, {}
    for position, (spec_id, spec) in enumerate(group.specs.items()):
        rows = result[f"s{position}"] + result[f"d{position}"]
        pieces[spec_id] = _merge_pieces(spec_id, spec, rows, minutes, tz)
        if full:
            pieces[spec_id] = compact(pieces[spec_id], compact_before)
        edges[spec_id] = {repr(row["_id"]): row for row in result.get(f"e{position}", [])}
    extraction = Extraction(pieces, edges, present=bool(result[PRESENT]))
    if full:
        counted = result[INVALID_COUNT]
        extraction.invalid_count = int(counted[0]["n"]) if counted else 0
        extraction.invalid_ids = [str(row["_id"]) for row in result[INVALID_SAMPLE]]
    return extraction
