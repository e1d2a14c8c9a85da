"""Per-run state shared by the query handlers: the clock reading, windows and counters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from analytics_service.storage.retry import retry_transient
from analytics_service.timeframes import (
    CHART_FRAMES,
    FrameWindows,
    TimeFrame,
    daily_boundaries,
    daily_bucket_days,
    floor_to_second,
    frame_windows,
)


@dataclass
class QueryStats:
    """Database round trips of one run, by kind."""

    aggregations: int = 0
    finds: int = 0
    documents_returned: int = 0

    @property
    def round_trips(self) -> int:
        return self.aggregations + self.finds

    def as_dict(self) -> dict[str, int]:
        return {
            "aggregations": self.aggregations,
            "finds": self.finds,
            "roundTrips": self.round_trips,
            "documentsReturned": self.documents_returned,
        }


@dataclass
class RunContext:
    """Everything a handler needs to build and read its queries for one run."""

    now: datetime
    tz: tzinfo
    database: Any
    stats: QueryStats = field(default_factory=QueryStats)
    # Provider questions of the run; None when the run has no provider selection at all.
    provider: Any = None
    # The first error of each source that failed during the run, for SourceHealth.
    source_failures: dict[str, str] = field(default_factory=dict)
    windows: dict[TimeFrame, FrameWindows] = field(init=False)
    # Calendar days of the longest chart frame; shorter frames use its last days.
    days: list[date] = field(init=False)
    day_edges: list[datetime] = field(init=False)
    _memo: dict[str, asyncio.Task] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.now = floor_to_second(self.now)
        self.windows = {frame: frame_windows(frame, self.now, self.tz) for frame in TimeFrame}
        longest = max(CHART_FRAMES, key=lambda frame: frame.days)
        self.days = daily_bucket_days(longest, self.now, self.tz)
        self.day_edges = daily_boundaries(self.days, self.tz)

    def earliest_start(self, frames: tuple[TimeFrame, ...], include_previous: bool) -> datetime:
        windows = [self.windows[frame] for frame in frames]
        if include_previous:
            return min(item.previous.start for item in windows)  # type: ignore[type-var]
        return min(item.current.start for item in windows)  # type: ignore[type-var]

    async def aggregate(self, collection: str, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run one aggregation, retrying transient errors, and count it as a round trip."""

        async def attempt() -> list[dict[str, Any]]:
            self.stats.aggregations += 1
            cursor = await self.database[collection].aggregate(pipeline, allowDiskUse=True)
            return await cursor.to_list(None)

        documents = await retry_transient(attempt, f"aggregation on {collection}")
        self.stats.documents_returned += len(documents)
        return documents

    async def find(self, collection: str, query: dict[str, Any], projection: dict[str, Any]) -> list[dict[str, Any]]:
        async def attempt() -> list[dict[str, Any]]:
            self.stats.finds += 1
            return await self.database[collection].find(query, projection).to_list(None)

        documents = await retry_transient(attempt, f"find on {collection}")
        self.stats.documents_returned += len(documents)
        return documents

    async def memo(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``compute`` once per run for ``key``; later callers share its result or error."""
        task = self._memo.get(key)
        if task is None:
            task = asyncio.ensure_future(compute())
            self._memo[key] = task
        return await asyncio.shield(task)
