"""Planners of the cards that read rollups: counts, field sums, daily series, per-category counts.

Each planner registers its spec and the piece ranges of its windows with the run's
``RollupPlan``. Its reader then turns the summed pieces and edges into the card's frames.
"""

from __future__ import annotations

from typing import Any

from analytics_service.catalogue import Card
from analytics_service.catalogue.sources import DailyCount, GroupCount, WindowCount, WindowFieldSum
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.handlers.groups import category_points, plan_snapshot_group_count
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.query.values import SKIPPED_ID_SAMPLE
from analytics_service.rollups.plan import RollupPlan
from analytics_service.rollups.results import RollupResults, Totals
from analytics_service.rollups.specs import RollupSpec, spec_for
from analytics_service.rollups.windows import window_terms
from analytics_service.sync.data import CardData, DataPoint, FrameUnavailable, KpiFrame
from analytics_service.timeframes import Window, format_local_midnight


def _named_windows(card: Card, context: RunContext, cumulative: bool, previous: bool = True) -> dict[str, Window]:
    named = {}
    for frame in card.frames:
        windows = context.windows[frame]
        current, earlier = windows.current, windows.previous
        if cumulative:
            current, earlier = Window(None, current.end), Window(None, earlier.end)
        named[f"{frame}_current"] = current
        if previous:
            named[f"{frame}_previous"] = earlier
    return named


class _Windows:
    """The windows of one card, registered with the plan and read back as totals per key."""

    def __init__(self, plan: RollupPlan, spec: RollupSpec, windows: dict[str, Window]) -> None:
        self.plan = plan
        self.spec = spec
        self.spec_id = plan.add(spec)
        self.terms = {name: window_terms(window, plan.now, plan.minutes) for name, window in windows.items()}
        self.range_names = {name: plan.need_range(self.spec_id, terms.pieces) for name, terms in self.terms.items()}

    def totals(self, results: RollupResults, name: str) -> dict[str, Totals]:
        return results.window(self.spec_id, self.range_names[name], self.terms[name], self.plan.edges)

    def total(self, results: RollupResults, name: str) -> Totals:
        rows = self.totals(results, name)
        if len(rows) > 1:
            raise ValueError(f"expected one total for {name}, got {len(rows)} keys")
        return next(iter(rows.values()), Totals(None))

    def with_skipped(self, results: RollupResults, data: CardData) -> CardData:
        return with_invalid_timestamps(results, self.spec.collection, self.spec.time_field, data)


def with_invalid_timestamps(results: RollupResults, collection: str, time_field: str, data: CardData) -> CardData:
    """Report the documents whose timestamp the last full rebuild found missing or malformed."""
    count, ids = results.invalid_timestamps(f"{collection}:{time_field}")
    data.skipped_documents += count
    if count:
        data.skipped_ids = (data.skipped_ids + ids)[:SKIPPED_ID_SAMPLE]
        data.skipped_reason = f"missing or malformed {time_field}"
    return data


def rollup_results(results: FacetResults) -> RollupResults:
    if results.rollups is None:
        raise RuntimeError("the run has no rollup results")
    return results.rollups


@planner(WindowCount)
def plan_window_count(card: Card, source: WindowCount, context: RunContext, batches: Batches) -> Reader:
    windows = _Windows(batches.rollups, spec_for(source), _named_windows(card, context, source.cumulative))

    async def read(results: FacetResults) -> CardData:
        rollups = rollup_results(results)
        frames = {
            frame: KpiFrame(windows.total(rollups, f"{frame}_current").n, windows.total(rollups, f"{frame}_previous").n)
            for frame in card.frames
        }
        return windows.with_skipped(rollups, CardData(frames))

    return read


@planner(WindowFieldSum)
def plan_field_sum(card: Card, source: WindowFieldSum, context: RunContext, batches: Batches) -> Reader:
    windows = _Windows(batches.rollups, spec_for(source), _named_windows(card, context, cumulative=False))
    missing = (
        f"no {source.collection} document in the window records {source.value_field}; "
        "this deployment does not write that field"
    )

    async def read(results: FacetResults) -> CardData:
        rollups = rollup_results(results)
        frames: dict[Any, Any] = {}
        for frame in card.frames:
            current = windows.total(rollups, f"{frame}_current")
            if not current.n:
                frames[frame] = FrameUnavailable(missing)
                continue
            previous = windows.total(rollups, f"{frame}_previous")
            frames[frame] = KpiFrame(current.s, previous.s if previous.n else None)
        return windows.with_skipped(rollups, CardData(frames))

    return read


@planner(DailyCount)
def plan_daily_count(card: Card, source: DailyCount, context: RunContext, batches: Batches) -> Reader:
    windows = _Windows(batches.rollups, spec_for(source), {})
    batches.rollups.need_days(windows.spec_id)

    async def read(results: FacetResults) -> CardData:
        rollups = rollup_results(results)
        counts = rollups.days(windows.spec_id)
        points = [
            DataPoint(value=count, timestamp=format_local_midnight(day, context.tz))
            for day, count in zip(context.days, counts, strict=True)
        ]
        frames = {frame: points[-frame.days:] for frame in card.frames}
        return windows.with_skipped(rollups, CardData(frames))

    return read


@planner(GroupCount)
def plan_group_count(card: Card, source: GroupCount, context: RunContext, batches: Batches) -> Reader:
    """Bars per category over each frame's current window, or of the documents as they are now."""
    if source.snapshot:
        return plan_snapshot_group_count(card, source, context, batches)
    windows = _Windows(batches.rollups, spec_for(source), _named_windows(card, context, False, previous=False))

    async def read(results: FacetResults) -> CardData:
        rollups = rollup_results(results)
        frames = {}
        for frame in card.frames:
            rows = [{"_id": totals.key, str(frame): totals.n, "label": totals.label}
                    for totals in windows.totals(rollups, f"{frame}_current").values()]
            frames[frame] = category_points(source, rows, str(frame))
        return windows.with_skipped(rollups, CardData(frames))

    return read
