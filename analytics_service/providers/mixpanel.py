"""Mixpanel implementation of ReportingClient, built on the Query API's segmentation endpoint.

Every number comes from daily series of GET /segmentation (``unit=day``). Mixpanel allows only
60 queries an hour per project, so each method sends one request per distinct question over
the whole span of the ranges it is asked about (earliest start to latest end) and sums days
on the client. Event counts are additive across days, but distinct users are not, so user
counts come from ``type=unique`` daily series and are never summed (see ``active_users``).

Responses are cached on the client for ``cache_ttl`` seconds. A request without ``on`` is
also served from a cached response whose span covers its dates, because its daily values do
not depend on the span. The client is meant to live for the whole process, so its hourly
budget and cache carry over from one run to the next.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import aiohttp

from analytics_service.providers.base import (
    DateRange,
    EventQuery,
    ProviderConfigurationError,
    ProviderUsage,
    RankedValue,
)
from analytics_service.providers.mixpanel_cache import SegmentationCache
from analytics_service.providers.mixpanel_segmentation import (
    PROVIDER,
    SegmentationSeries,
    parse_segmentation,
    property_expression,
    where_expression,
)
from analytics_service.providers.mixpanel_transport import MixpanelTransport, RetryPolicy, basic_authorization

T = TypeVar("T")

# Query API hosts by data residency region (docs.mixpanel.com/reference/segmentation-query).
REGION_BASE_URLS = {
    "us": "https://mixpanel.com/api/query",
    "eu": "https://eu.mixpanel.com/api/query",
    "in": "https://in.mixpanel.com/api/query",
}

SEGMENTATION = "/segmentation"
# Maximum of the segmentation ``limit`` parameter, per Mixpanel's Query API reference.
MAX_TOP_VALUES = 10_000

# The event whose daily distinct users count as active users. /segmentation takes exactly one
# event name and has no "any event" option. Session Start is not used: Mixpanel's Sessions docs
# (docs.mixpanel.com/docs/features/sessions) describe it as a virtual event computed when a
# report runs, not as a stored event, so segmentation is not expected to count it.
# NOTE: users who are active without viewing content (only log in, share or comment) are not
# counted. Pass another event as ``activity_event`` if one marks activity better.
DEFAULT_ACTIVITY_EVENT = "contentViewed"

PROJECT_ID = re.compile(r"[0-9]+")


def query_base_url(region: str) -> str:
    """Return the Query API base URL of a data residency region ("us", "eu" or "in")."""
    try:
        return REGION_BASE_URLS[region]
    except KeyError:
        raise ValueError(f"unknown Mixpanel region {region!r}: expected one of {', '.join(REGION_BASE_URLS)}") from None


class MixpanelClient:
    """ReportingClient for one Mixpanel project, authenticated with a service account.

    The injected ``session`` is not closed by ``close``, because its owner may share it.
    ``base_url`` overrides the regional host, for tests. ``clock`` returns monotonic seconds
    and ``sleep`` waits, so tests can control time.
    """

    name = "mixpanel"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        project_id: str | int,
        username: str,
        secret: str,
        region: str = "us",
        base_url: str | None = None,
        workspace_id: int | None = None,
        activity_event: str = DEFAULT_ACTIVITY_EVENT,
        max_concurrent: int = 5,
        hourly_limit: int = 60,
        request_timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        cache_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        project_id = str(project_id)
        if not PROJECT_ID.fullmatch(project_id):
            raise ValueError(f"invalid Mixpanel project id {project_id!r}: expected digits only")
        if not username or not secret:
            raise ValueError("a Mixpanel service account username and secret are required")
        if ":" in username:
            raise ValueError("invalid Mixpanel service account username: Basic auth does not allow ':' in it")
        if max_concurrent < 1 or hourly_limit < 1:
            raise ValueError("max_concurrent and hourly_limit must be at least 1")
        if not activity_event:
            raise ValueError("activity_event must name an event")

        self.project_id = project_id
        self.region = region
        regional_url = query_base_url(region)
        self.base_url = (base_url or regional_url).rstrip("/")
        self.activity_event = activity_event
        self.usage = ProviderUsage()
        self._transport = MixpanelTransport(
            session,
            base_url=self.base_url,
            project_id=project_id,
            workspace_id=workspace_id,
            authorization=basic_authorization(username, secret),
            max_concurrent=max_concurrent,
            hourly_limit=hourly_limit,
            request_timeout=request_timeout,
            retry=retry or RetryPolicy(),
            clock=clock,
            sleep=sleep,
        )
        self._cache = SegmentationCache(cache_ttl, clock)

    def __repr__(self) -> str:
        return f"MixpanelClient(project_id={self.project_id!r}, base_url={self.base_url!r})"

    def requests_in_last_hour(self) -> int:
        """Return how many requests this client started in the last hour."""
        return self._transport.budget.used()

    async def event_counts(
        self, queries: Sequence[EventQuery], ranges: Sequence[DateRange]
    ) -> dict[EventQuery, dict[DateRange, int]]:
        """Return the number of events per query and date range.

        Sends one request per distinct query, over the span of all ranges.
        """
        distinct = list(dict.fromkeys(queries))
        if not ranges:
            return {query: {} for query in distinct}
        span = _span(ranges)
        daily = await _gather_or_cancel(self._daily_event_counts(query, span) for query in distinct)
        return {
            query: {date_range: _total(counts, date_range) for date_range in ranges}
            for query, counts in zip(distinct, daily, strict=True)
        }

    async def daily_event_counts(
        self, queries: Sequence[EventQuery], date_range: DateRange
    ) -> dict[EventQuery, dict[date, int]]:
        """Return events per day for every day of ``date_range``, zeros included.

        Sends one request per distinct query unless a cached response covers ``date_range``.
        """
        distinct = list(dict.fromkeys(queries))
        daily = await _gather_or_cancel(self._daily_event_counts(query, date_range) for query in distinct)
        return {
            query: {day: counts.get(day, 0) for day in date_range.dates()}
            for query, counts in zip(distinct, daily, strict=True)
        }

    async def active_users(self, ranges: Sequence[DateRange]) -> dict[DateRange, int | None]:
        """Return distinct users of ``activity_event`` for 1-day ranges and None for longer ones.

        Segmentation returns distinct users per day (``type=unique``, ``unit=day``), and those
        counts cannot be added up, because a user active on two days would count twice.
        Rolling multi-day windows have no exact distinct count in segmentation, so they get
        None. The 1-day ranges cost one request over their span, or none when a cached
        daily series covers them.
        """
        single_days = [date_range for date_range in ranges if date_range.days == 1]
        daily: Mapping[date, int] = {}
        if single_days:
            daily = await self._daily_unique_users(_span(single_days))
        return {date_range: daily.get(date_range.start, 0) if date_range.days == 1 else None for date_range in ranges}

    async def daily_active_users(self, date_range: DateRange) -> dict[date, int]:
        """Return distinct users of ``activity_event`` on each day of ``date_range``, zeros included.

        Sends one request (``type=unique``, ``unit=day``) unless a cached response covers the range.
        """
        daily = await self._daily_unique_users(date_range)
        return {day: daily.get(day, 0) for day in date_range.dates()}

    async def top_values(
        self, query: EventQuery, parameter: str, ranges: Sequence[DateRange], limit: int
    ) -> dict[DateRange, list[RankedValue]]:
        """Return the ``limit`` most frequent values of an event parameter per range, largest first.

        Sends one request with ``on=properties["<parameter>"]`` and ``limit`` over the span of
        all ranges, then sums each value's days per range. Values with no events in a range
        are left out of that range. Ties are ordered by value.

        NOTE: Mixpanel picks the top ``limit`` values over the whole span, not per range. A
        value that is frequent in a short range but not over the span can be missing there.
        """
        if not 1 <= limit <= MAX_TOP_VALUES:
            raise ProviderConfigurationError(
                PROVIDER, f"invalid top values limit {limit}: expected 1 to {MAX_TOP_VALUES}"
            )
        if not ranges:
            return {}
        params = self._event_params(query, "general")
        params["on"] = property_expression(parameter)
        params["limit"] = str(limit)
        series = await self._segmentation(params, _span(ranges), reuse_covering=False)

        ranked: dict[DateRange, list[RankedValue]] = {}
        for date_range in ranges:
            totals = [RankedValue(value, _total(counts, date_range)) for value, counts in series.values.items()]
            totals = [item for item in totals if item.count > 0]
            totals.sort(key=lambda item: (-item.count, item.value))
            ranked[date_range] = totals[:limit]
        return ranked

    async def close(self) -> None:
        """Drop cached responses. The injected session stays open for its owner to close."""
        self._cache.clear()

    async def _daily_event_counts(self, query: EventQuery, span: DateRange) -> Mapping[date, int]:
        series = await self._segmentation(self._event_params(query, "general"), span, reuse_covering=True)
        return series.event_counts(query.event, SEGMENTATION)

    async def _daily_unique_users(self, span: DateRange) -> Mapping[date, int]:
        params = self._event_params(EventQuery(self.activity_event), "unique")
        series = await self._segmentation(params, span, reuse_covering=True)
        return series.event_counts(self.activity_event, SEGMENTATION)

    def _event_params(self, query: EventQuery, count_type: str) -> dict[str, str]:
        params = {"event": query.event, "type": count_type, "unit": "day"}
        where = where_expression(query.parameters)
        if where is not None:
            params["where"] = where
        return params

    async def _segmentation(
        self, params: Mapping[str, str], span: DateRange, *, reuse_covering: bool
    ) -> SegmentationSeries:
        return await self._cache.get(params, span, self._request_segmentation, reuse_covering=reuse_covering)

    async def _request_segmentation(self, params: Mapping[str, str], span: DateRange) -> SegmentationSeries:
        request = {**params, "from_date": span.start.isoformat(), "to_date": span.end.isoformat()}
        body = await self._transport.get_json(SEGMENTATION, request, self.usage)
        return parse_segmentation(body, SEGMENTATION)


def _span(ranges: Iterable[DateRange]) -> DateRange:
    ranges = list(ranges)
    return DateRange(min(date_range.start for date_range in ranges), max(date_range.end for date_range in ranges))


def _total(daily: Mapping[date, int], date_range: DateRange) -> int:
    return sum(daily.get(day, 0) for day in date_range.dates())


async def _gather_or_cancel(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run coroutines concurrently and return their results in order.

    On the first exception the other coroutines are cancelled and that exception is raised,
    unlike asyncio.gather, which leaves them running, and TaskGroup, which wraps it in an
    ExceptionGroup.
    """
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
