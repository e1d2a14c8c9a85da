"""Short-lived cache of Mixpanel segmentation responses, keyed by request parameters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from analytics_service.providers.base import DateRange
from analytics_service.providers.mixpanel_segmentation import SegmentationSeries

RequestKey = tuple[tuple[str, str], ...]
Loader = Callable[[Mapping[str, str], DateRange], Awaitable[SegmentationSeries]]


@dataclass(frozen=True)
class _Entry:
    span: DateRange
    series: SegmentationSeries
    stored_at: float


class SegmentationCache:
    """Segmentation series by request parameters and date span, kept for ``ttl`` seconds.

    A ``ttl`` of 0 turns caching off, but concurrent identical requests are still shared.
    """

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[RequestKey, list[_Entry]] = {}
        self._pending: dict[RequestKey, asyncio.Task[SegmentationSeries]] = {}

    async def get(
        self, params: Mapping[str, str], span: DateRange, load: Loader, *, reuse_covering: bool
    ) -> SegmentationSeries:
        """Return the series for ``params`` over ``span`` from the cache, or from ``load``.

        ``reuse_covering`` also accepts a cached series over a wider span. That is only correct
        for requests without ``on``, because with ``on`` the returned top values depend on the
        span. Concurrent calls for the same parameters and span share one ``load`` call.
        """
        base_key = tuple(sorted(params.items()))
        cached = self._lookup(base_key, span, reuse_covering)
        if cached is not None:
            return cached

        full_key = base_key + (("from_date", span.start.isoformat()), ("to_date", span.end.isoformat()))
        task = self._pending.get(full_key)
        if task is None:
            task = asyncio.ensure_future(self._load_and_store(params, span, base_key, load))
            self._pending[full_key] = task
            task.add_done_callback(lambda done: self._forget_pending(full_key, done))
        # shield: a cancelled caller must not cancel a request that other callers await.
        return await asyncio.shield(task)

    def clear(self) -> None:
        self._entries.clear()

    async def _load_and_store(
        self, params: Mapping[str, str], span: DateRange, base_key: RequestKey, load: Loader
    ) -> SegmentationSeries:
        series = await load(params, span)
        self._drop_expired()
        if self.ttl > 0:
            self._entries.setdefault(base_key, []).append(_Entry(span, series, self._clock()))
        return series

    def _lookup(self, base_key: RequestKey, span: DateRange, reuse_covering: bool) -> SegmentationSeries | None:
        self._drop_expired()
        for entry in self._entries.get(base_key, []):
            if entry.span == span:
                return entry.series
            if reuse_covering and entry.span.start <= span.start and span.end <= entry.span.end:
                return entry.series
        return None

    def _drop_expired(self) -> None:
        oldest_kept = self._clock() - self.ttl
        for key in list(self._entries):
            entries = [entry for entry in self._entries[key] if entry.stored_at > oldest_kept]
            if entries:
                self._entries[key] = entries
            else:
                del self._entries[key]

    def _forget_pending(self, key: RequestKey, task: asyncio.Task[SegmentationSeries]) -> None:
        self._pending.pop(key, None)
        # Mark the exception as retrieved, because the callers that still wait get it via shield.
        if not task.cancelled():
            task.exception()
