"""Planners of KPI counts read straight from their collection: snapshots and mean durations.

Windowed and cumulative counts and field sums read rollups (see ``handlers.rolled``).
"""

from __future__ import annotations

from analytics_service.catalogue import Card
from analytics_service.catalogue.sources import SnapshotArrayLength, SnapshotCount, WindowMeanDuration
from analytics_service.query.bounds import combine, count_if, time_range_filter
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.handlers.rolled import rollup_results, with_invalid_timestamps
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.query.values import SKIPPED_ID_SAMPLE, number, single_row
from analytics_service.sync.data import CardData, FrameUnavailable, KpiFrame
from analytics_service.timeframes import Window, parse_timestamp


def _frame_windows(card: Card, context: RunContext, cumulative: bool) -> dict[str, Window]:
    """Name every current and previous window of the card's frames."""
    named = {}
    for frame in card.frames:
        windows = context.windows[frame]
        current, previous = windows.current, windows.previous
        if cumulative:
            current = Window(None, current.end)
            previous = Window(None, previous.end)
        named[f"{frame}_current"] = current
        named[f"{frame}_previous"] = previous
    return named


@planner(SnapshotCount)
def plan_snapshot_count(card: Card, source: SnapshotCount, context: RunContext, batches: Batches) -> Reader:
    batch = batches.for_collection(source.collection)
    branch = batch.add([{"$match": dict(source.match)}, {"$count": "n"}])

    async def read(results: FacetResults) -> CardData:
        rows = results.branch(source.collection, branch)
        value = number(rows[0], "n") if rows else 0
        return CardData({frame: KpiFrame(value, None) for frame in card.frames})

    return read


@planner(SnapshotArrayLength)
def plan_array_length(card: Card, source: SnapshotArrayLength, context: RunContext, batches: Batches) -> Reader:
    batch = batches.for_collection(source.collection)
    reference = "$" + source.array_field
    is_array = {"$isArray": reference}
    # A value that is neither an array nor missing/null is malformed and counted apart.
    # Nested $cond instead of $not: the embedded engine evaluates {"$not": [...]} as false.
    present = {"$ne": [{"$ifNull": [reference, None]}, None]}
    is_malformed = {"$cond": [is_array, False, present]}
    branch = batch.add([
        {"$group": {
            "_id": None,
            "total": {"$sum": {"$cond": [is_array, {"$size": reference}, 0]}},
            "malformed": count_if(is_malformed),
        }},
    ])

    async def read(results: FacetResults) -> CardData:
        row = single_row(results.branch(source.collection, branch))
        data = CardData({frame: KpiFrame(number(row, "total"), None) for frame in card.frames})
        data.skipped_documents = int(number(row, "malformed"))
        if data.skipped_documents:
            data.skipped_reason = f"{source.array_field} is not an array"
        return data

    return read


@planner(WindowMeanDuration)
def plan_mean_duration(card: Card, source: WindowMeanDuration, context: RunContext, batches: Batches) -> Reader:
    # NOTE: durations are computed in Python from the projected timestamps, because
    # parsing ISO strings inside a pipeline needs $dateFromString, which the embedded
    # engine lacks. Filtering and projection still run in MongoDB, in one aggregation.
    start = context.earliest_start(card.frames, include_previous=True)
    pipeline = [
        {"$match": combine(dict(source.match), time_range_filter(source.start_field, start, context.now))},
        {"$project": {"_id": 1, "start": "$" + source.start_field, "end": "$" + source.end_field}},
    ]
    windows = _frame_windows(card, context, cumulative=False)
    # Documents without a valid start time are found by the rollup group's full rebuilds.
    batches.rollups.watch(source.collection, source.start_field)

    async def read(results: FacetResults) -> CardData:
        rows = await context.memo(
            f"durations:{source}", lambda: context.aggregate(source.collection, pipeline)
        )
        totals = {name: [0.0, 0] for name in windows}
        skipped_ids = []
        for row in rows:
            started, ended = parse_timestamp(row.get("start")), parse_timestamp(row.get("end"))
            if started is None or ended is None or ended < started:
                skipped_ids.append(str(row["_id"]))
                continue
            seconds = (ended - started).total_seconds()
            for name, window in windows.items():
                if window.contains(started):
                    totals[name][0] += seconds
                    totals[name][1] += 1

        def mean(name: str) -> float | None:
            total, count = totals[name]
            return total / count if count else None

        frames = {}
        for frame in card.frames:
            current = mean(f"{frame}_current")
            if current is None:
                frames[frame] = FrameUnavailable(f"no {source.collection} document matching {dict(source.match)} in the window")
            else:
                frames[frame] = KpiFrame(round(current, 3), _rounded(mean(f"{frame}_previous")))
        data = with_invalid_timestamps(rollup_results(results), source.collection, source.start_field,
                                       CardData(frames))
        if skipped_ids:
            data.skipped_documents += len(skipped_ids)
            data.skipped_ids = (data.skipped_ids + skipped_ids)[:SKIPPED_ID_SAMPLE]
            data.skipped_reason = (
                f"missing or malformed {source.start_field} or {source.end_field}, "
                f"or {source.end_field} before {source.start_field}"
            )
        return data

    return read


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
