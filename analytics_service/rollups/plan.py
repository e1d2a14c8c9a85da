"""The rollup side of a run: register specs while planning, refresh and sum them, serve the readers.

A run first reads the build state of every source group. A group is rebuilt from its
whole collection when it was never built, its specs changed, its last write failed
halfway, or the run is a rebuild. The other groups recount only the pieces from the
start of the update window (or from the last build, if that is earlier) up to ``now``. Then one aggregation on ``analytics_rollups`` sums every spec over the ranges
its cards need, and each card adds its edges.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any

from analytics_service.query.values import number
from analytics_service.rollups import store
from analytics_service.rollups.extract import Extraction, SourceGroup, read_extraction, refresh_pipeline
from analytics_service.rollups.pieces import piece_floor, zone_minute_offsets
from analytics_service.rollups.results import GroupOutcome, RollupResults
from analytics_service.rollups.specs import RollupSpec
from analytics_service.rollups.windows import PieceRange, edge_boundaries
from analytics_service.timeframes import TimeFrame, Window

logger = logging.getLogger(__name__)

# How far back any window reaches: the longest frame and its previous window, plus a day
# for DST. The zone's offsets are sampled over this span, and a full rebuild compacts
# the pieces older than it, which only cumulative counts read.
_REACH = timedelta(days=2 * max(frame.days for frame in TimeFrame) + 2)


class RollupPlan:
    """Specs, ranges and daily series that the cards of one run need."""

    def __init__(self, now: datetime, tz, days: list[date], day_edges: list[datetime], windows: list[Window],
                 update_window: timedelta, rebuild: bool) -> None:
        self.now = now
        self.days = days
        self.day_edges = day_edges
        self.update_window = update_window
        self.rebuild = rebuild
        self.tz = tz
        self.zone = str(tz)
        self.minutes = zone_minute_offsets(tz, now - _REACH, now)
        self.edges = edge_boundaries(windows, now, self.minutes)
        self.groups: dict[str, SourceGroup] = {}
        self._specs: dict[str, RollupSpec] = {}
        self._ranges: dict[PieceRange, str] = {}
        self._ranges_by_name: dict[str, PieceRange] = {}
        self._spec_ranges: dict[str, set[str]] = {}
        self._daily: set[str] = set()

    def watch(self, collection: str, time_field: str) -> str:
        """Refresh the source group of ``collection`` and ``time_field``, even without specs.

        Its full rebuilds count the documents whose timestamp is missing or malformed,
        which cards that query the collection directly report as skipped.
        """
        group = SourceGroup(collection, time_field)
        return self.groups.setdefault(group.state_id, group).state_id

    def add(self, spec: RollupSpec) -> str:
        spec_id = spec.spec_id(self.zone, self.minutes)
        group = self.groups[self.watch(spec.collection, spec.time_field)]
        group.specs[spec_id] = spec
        self._specs[spec_id] = spec
        self._spec_ranges.setdefault(spec_id, set())
        return spec_id

    def need_range(self, spec_id: str, piece_range: PieceRange) -> str:
        name = self._ranges.setdefault(piece_range, f"r{len(self._ranges)}")
        self._ranges_by_name[name] = piece_range
        self._spec_ranges[spec_id].add(name)
        return name

    def need_days(self, spec_id: str) -> None:
        self._daily.add(spec_id)

    def _start(self, state: dict[str, Any] | None, group: SourceGroup) -> datetime | None:
        """Return where the group's refresh starts; None rebuilds it whole."""
        if self.rebuild or state is None or state.get("dirty") or not set(group.specs) <= set(state.get("specs", [])):
            return None
        built_until = _aware(state.get("builtUntil"))
        if built_until is None:
            return None
        window_start = piece_floor(self.now - self.update_window, ())
        return min(window_start, piece_floor(built_until, self.minutes))

    async def run(self, context, run_id: str) -> RollupResults:
        results = RollupResults()
        if not self.groups:
            return results
        try:
            rows = await context.find(store.ROLLUP_STATE, {"_id": {"$in": list(self.groups)}}, {})
        except Exception as error:  # every rollup card fails; the others go on
            logger.warning("run %s: reading the rollup state failed: %s", run_id, error)
            context.source_failures.setdefault("database", f"reading the rollup state: {type(error).__name__}: {error}")
            results.errors.update({spec_id: error for spec_id in [*self._spec_ranges, *self.groups]})
            return results
        states = {row["_id"]: row for row in rows}
        for state_id, group in self.groups.items():
            await self._refresh(context, run_id, group, states.get(state_id), results)
        await self._sum(context, run_id, results)
        return results

    async def _refresh(self, context, run_id: str, group: SourceGroup, state: dict[str, Any] | None,
                       results: RollupResults) -> None:
        start = self._start(state, group)
        full = start is None
        outcome = results.outcomes[group.state_id] = GroupOutcome("full" if full else "incremental", start)
        try:
            pipeline = refresh_pipeline(group, start, self.now, self.minutes, self.edges, full)
            documents = await context.aggregate(group.collection, pipeline)
            compact_before = piece_floor(self.now - _REACH, self.minutes) if full else None
            extraction = read_extraction(group, _single(documents, group.collection), self.minutes, self.tz,
                                         compact_before)
            await store.save_extraction(context.database, group, extraction, start, self.now, full, state)
        except Exception as error:  # the cards of this group fail and keep their last documents
            outcome.error = f"{type(error).__name__}: {error}"
            logger.warning("run %s: refreshing rollups of %s failed: %s", run_id, group.state_id, outcome.error)
            context.source_failures.setdefault("database", f"rollups of {group.state_id}: {outcome.error}")
            for spec_id in [*group.specs, group.state_id]:
                results.errors[spec_id] = error
            return
        outcome.pieces = sum(len(documents) for documents in extraction.pieces.values())
        results.edges.update(extraction.edges)
        results.states[group.state_id] = _state_after(state, extraction, full, self.now)
        present = results.states[group.state_id]["present"]
        results.present[group.collection] = results.present.get(group.collection, False) or present

    async def _sum(self, context, run_id: str, results: RollupResults) -> None:
        ready = [spec_id for spec_id in self._spec_ranges if spec_id not in results.errors]
        if not ready:
            return
        daily = [spec_id for spec_id in ready if spec_id in self._daily]
        boundaries = sorted({moment for piece_range in self._ranges for moment in (piece_range.start, piece_range.end)
                             if moment is not None})
        with_sum = any(self._specs[spec_id].value_field is not None for spec_id in ready)
        branches = {"segments": store.segments_branch(boundaries, with_sum)}
        if daily:
            branches["daily"] = store.daily_branch(daily, self.day_edges)
        pipeline = [{"$match": self._sums_match(ready)}, {"$facet": branches}]
        try:
            result = _single(await context.aggregate(store.ROLLUPS, pipeline), store.ROLLUPS)
            segments = _segment_totals(result["segments"], len(boundaries) + 1)
            for spec_id in ready:
                results.ranges[spec_id] = {
                    slot: self._range_row(totals, boundaries, self._spec_ranges[spec_id])
                    for slot, totals in segments.get(spec_id, {}).items()
                }
            days = {day.isoformat(): position for position, day in enumerate(self.days)}
            for spec_id in daily:
                results.daily[spec_id] = [0] * len(self.days)
            for row in result.get("daily", []):
                position = days.get(row["_id"]["day"])
                if position is None:
                    raise ValueError(f"daily sum returned a day outside the chart: {row['_id']!r}")
                results.daily[row["_id"]["spec"]][position] += int(number(row, "n"))
        except Exception as error:  # every rollup card fails; the others go on
            logger.warning("run %s: summing rollups failed: %s", run_id, error)
            context.source_failures.setdefault("database", f"summing rollups: {type(error).__name__}: {error}")
            for spec_id in ready:
                results.errors[spec_id] = error

    def _range_row(self, totals: dict[str, Any], boundaries: list[datetime], names: set[str]) -> dict[str, Any]:
        """Add up the segments inside each named range of one spec and key."""
        row = {"_id": totals["key"], "label": totals["label"]}
        for name in names:
            piece_range = self._ranges_by_name[name]
            first = 0 if piece_range.start is None else boundaries.index(piece_range.start) + 1
            last = len(boundaries) if piece_range.end is None else boundaries.index(piece_range.end)
            row[f"{name}_n"] = sum(totals["n"][first:last + 1])
            row[f"{name}_s"] = sum(totals["s"][first:last + 1])
        return row

    def _sums_match(self, spec_ids: list[str]) -> dict[str, Any]:
        """Select every piece of the specs with an open-ended range and the recent pieces of the others."""
        open_ids, bounded_ids, starts = [], [], []
        for spec_id in spec_ids:
            spec_starts = [self._ranges_by_name[name].start for name in self._spec_ranges[spec_id]]
            if spec_id in self._daily:
                spec_starts.append(self.day_edges[0])
            if any(start is None for start in spec_starts):
                open_ids.append(spec_id)
                continue
            bounded_ids.append(spec_id)
            starts.extend(spec_starts)
        return store.sums_match(open_ids, bounded_ids, min(starts) if starts else None)


def _segment_totals(rows: list[dict[str, Any]], count: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Collect the segment rows per spec and key: counts and sums as lists indexed by segment."""
    totals: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        identity = row["_id"]
        key = identity.get("key")
        slot = totals.setdefault(identity["spec"], {}).setdefault(
            repr(key), {"key": key, "label": None, "n": [0] * count, "s": [0] * count})
        segment = int(identity["segment"])
        slot["n"][segment] += number(row, "n")
        slot["s"][segment] += number(row, "s")
        if slot["label"] is None:
            slot["label"] = row.get("label")
    return totals


def _single(documents: list[dict[str, Any]], collection: str) -> dict[str, Any]:
    if len(documents) != 1:
        raise ValueError(f"$facet on {collection} returned {len(documents)} documents, expected 1")
    return documents[0]


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _state_after(state: dict[str, Any] | None, extraction: Extraction, full: bool, now: datetime) -> dict[str, Any]:
    if full:
        return {"present": extraction.present, "fullBuiltAt": now, "invalidCount": extraction.invalid_count,
                "invalidIds": extraction.invalid_ids}
    previous = state or {}
    return {"present": bool(previous.get("present")) or extraction.present,
            "fullBuiltAt": _aware(previous.get("fullBuiltAt")),
            "invalidCount": previous.get("invalidCount") or 0, "invalidIds": previous.get("invalidIds") or []}
