"""Google Analytics 4 reporting through the Data API v1beta (google-analytics-data, gRPC).

Every report goes through ``batchRunReports``: up to 5 reports per call, each with up to
4 date ranges named ``r0``…``r3``, ``keepEmptyRows`` and ``returnPropertyQuota`` set.
Rows are matched to ranges by the ``dateRange`` dimension. Daily series re-read only the
days not cached plus the last 2 days of the range (see ga4_daily).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Sequence
from datetime import date

from google.analytics.data_v1beta import BetaAnalyticsDataAsyncClient, types

from analytics_service.providers.base import DateRange, EventQuery, ProviderUsage, RankedValue
from analytics_service.providers.ga4_credentials import build_data_client
from analytics_service.providers.ga4_daily import DailyCache, daily_rows
from analytics_service.providers.ga4_daily import spans as day_spans
from analytics_service.providers.ga4_requests import (
    ACTIVE_USERS,
    DATE,
    EVENT_COUNT,
    EVENT_NAME,
    MAX_DATE_RANGES,
    MAX_PAGE_SIZE,
    chunked,
    custom_dimension,
    event_filter,
    parameter_names,
    query_key,
    report_request,
    top_values_order,
    unique,
)
from analytics_service.providers.ga4_responses import read_rows, row_key
from analytics_service.providers.ga4_runner import ReportRunner, RetrySettings, Sleep

# Dimension values GA4 reports in place of a parameter value: for events without the
# parameter, and for the rows it groups when a report has too many distinct values.
PLACEHOLDER_VALUES = ("(not set)", "(other)")

_ACTIVE_USERS_KEY = ("activeUsers",)


class GA4Client:
    """A ReportingClient for one GA4 property."""

    name = "ga4"

    def __init__(
        self,
        property_id: str,
        client: BetaAnalyticsDataAsyncClient,
        *,
        max_attempts: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        timeout: float = 60.0,
        page_size: int = MAX_PAGE_SIZE,
        rng: random.Random | None = None,
    ) -> None:
        """Wrap ``client`` for the property ``property_id`` (the number in GA4 Admin > Property details).

        ``max_attempts``, ``base_delay`` and ``max_delay`` (seconds) set retries of server
        errors, ``timeout`` (seconds) bounds each call and ``page_size`` the rows per page.
        """
        _check_property_id(property_id)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}, got {page_size}")
        self.property_id = property_id
        self.usage = ProviderUsage()
        self._client = client
        self._page_size = page_size
        self._runner = ReportRunner(
            client,
            property_id,
            self.usage,
            retry=RetrySettings(max_attempts=max_attempts, base_delay=base_delay, max_delay=max_delay),
            sleep=sleep,
            timeout=timeout,
            rng=rng,
        )
        self._daily_cache = DailyCache()

    @classmethod
    def from_service_account(
        cls, property_id: str, service_account: str | os.PathLike[str], *, endpoint: str | None, **settings
    ) -> GA4Client:
        """Build a client that authenticates with a service-account key file path or JSON text.

        ``endpoint`` is the Data API ``host:port``. None selects the client library's own
        endpoint (Google's), and the argument has no default so that every caller decides.
        A loopback endpoint (127.0.0.0/8, ::1, localhost) is reached over plaintext gRPC
        without credentials, for local fakes. Any other endpoint is reached over TLS.
        ``settings`` are the keyword arguments of the constructor. Raises
        ProviderConfigurationError for unreadable or invalid credentials.
        """
        _check_property_id(property_id)
        if endpoint is not None and not endpoint.strip():
            raise ValueError("endpoint must be None or a host:port, got an empty string")
        client = build_data_client(service_account, endpoint)
        return cls(property_id, client, **settings)

    async def close(self) -> None:
        await self._client.transport.close()

    async def event_counts(
        self, queries: Sequence[EventQuery], ranges: Sequence[DateRange]
    ) -> dict[EventQuery, dict[DateRange, int]]:
        queries = unique(queries)
        ranges = unique(ranges)
        reports = []
        for group in _group_by_parameters(queries):
            for range_chunk in chunked(ranges, MAX_DATE_RANGES):
                reports.append((group, range_chunk))
        tables = await self._runner.run([self._event_request(group, chunk, daily=False) for group, chunk in reports])

        counts = {query: dict.fromkeys(ranges, 0) for query in queries}
        for (group, range_chunk), table in zip(reports, tables, strict=True):
            by_key = _queries_by_key(group)
            names = _key_dimensions(group[0])
            for row in read_rows(table, EVENT_COUNT, len(range_chunk), names):
                for query in by_key.get(row_key(row.dimensions, names), []):
                    counts[query][range_chunk[row.range_index]] = row.count
        return counts

    async def daily_event_counts(
        self, queries: Sequence[EventQuery], date_range: DateRange
    ) -> dict[EventQuery, dict[date, int]]:
        queries = unique(queries)
        # Queries that share their parameter names and the days still to read share reports.
        plans: dict[tuple, list[EventQuery]] = {}
        for query in queries:
            spans = day_spans(self._daily_cache.days_to_read(query, date_range))
            if spans:
                plans.setdefault((parameter_names(query), tuple(spans)), []).append(query)

        reports = []
        for (_, spans), group in plans.items():
            for span_chunk in chunked(list(spans), MAX_DATE_RANGES):
                reports.append((group, span_chunk))
        tables = await self._runner.run([self._event_request(group, chunk, daily=True) for group, chunk in reports])

        read: dict[EventQuery, dict[date, int]] = {query: {} for query in queries}
        for (group, span_chunk), table in zip(reports, tables, strict=True):
            by_key = _queries_by_key(group)
            names = _key_dimensions(group[0])
            for query in group:
                read[query].update({day: 0 for span in span_chunk for day in span.dates()})
            for day, dimensions, count in daily_rows(table, EVENT_COUNT, span_chunk, names):
                for query in by_key.get(row_key(dimensions, names), []):
                    read[query][day] = count
        return {query: self._daily_cache.merge(query, date_range, read[query]) for query in queries}

    async def active_users(self, ranges: Sequence[DateRange]) -> dict[DateRange, int | None]:
        ranges = unique(ranges)
        range_chunks = chunked(ranges, MAX_DATE_RANGES)
        requests = [
            report_request(
                property_name=self._runner.property_name,
                dimensions=[],
                metric=ACTIVE_USERS,
                ranges=chunk,
                limit=self._page_size,
            )
            for chunk in range_chunks
        ]
        tables = await self._runner.run(requests)

        users: dict[DateRange, int | None] = dict.fromkeys(ranges, 0)
        for range_chunk, table in zip(range_chunks, tables, strict=True):
            for row in read_rows(table, ACTIVE_USERS, len(range_chunk)):
                users[range_chunk[row.range_index]] = row.count
        return users

    async def daily_active_users(self, date_range: DateRange) -> dict[date, int]:
        spans = day_spans(self._daily_cache.days_to_read(_ACTIVE_USERS_KEY, date_range))
        span_chunks = chunked(spans, MAX_DATE_RANGES)
        requests = [
            report_request(
                property_name=self._runner.property_name,
                dimensions=[DATE],
                metric=ACTIVE_USERS,
                ranges=chunk,
                limit=self._page_size,
            )
            for chunk in span_chunks
        ]
        tables = await self._runner.run(requests)

        read = {day: 0 for span in spans for day in span.dates()}
        for span_chunk, table in zip(span_chunks, tables, strict=True):
            for day, _, count in daily_rows(table, ACTIVE_USERS, span_chunk, ()):
                read[day] = count
        return self._daily_cache.merge(_ACTIVE_USERS_KEY, date_range, read)

    async def top_values(
        self, query: EventQuery, parameter: str, ranges: Sequence[DateRange], limit: int
    ) -> dict[DateRange, list[RankedValue]]:
        """Return the ``limit`` most frequent values per range, largest first.

        The placeholder values "(not set)" (events without the parameter) and "(other)" (rows
        GA4 grouped because of high cardinality) are left out. Each range is its own report.
        """
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        ranges = unique(ranges)
        if limit == 0:
            return {item: [] for item in ranges}

        dimension = custom_dimension(parameter)
        # Read enough rows to fill the limit even when both placeholders are among the top rows.
        rows_to_read = limit + len(PLACEHOLDER_VALUES)
        requests = [
            report_request(
                property_name=self._runner.property_name,
                dimensions=[dimension],
                metric=EVENT_COUNT,
                ranges=[item],
                limit=min(rows_to_read, self._page_size),
                dimension_filter=event_filter([query]),
                order_bys=top_values_order(),
            )
            for item in ranges
        ]
        tables = await self._runner.run(requests, row_targets=[rows_to_read] * len(ranges))

        ranked = {}
        for item, table in zip(ranges, tables, strict=True):
            values = [
                RankedValue(value=row.dimensions[dimension], count=row.count)
                for row in read_rows(table, EVENT_COUNT, 1, [dimension])
                if row.dimensions[dimension] not in PLACEHOLDER_VALUES
            ]
            # Pages are each in order, but sorting again keeps ties stable across pages.
            values.sort(key=lambda ranked_value: (-ranked_value.count, ranked_value.value))
            ranked[item] = values[:limit]
        return ranked

    def _event_request(
        self, queries: Sequence[EventQuery], ranges: Sequence[DateRange], *, daily: bool
    ) -> types.RunReportRequest:
        dimensions = _key_dimensions(queries[0]) + ([DATE] if daily else [])
        return report_request(
            property_name=self._runner.property_name,
            dimensions=dimensions,
            metric=EVENT_COUNT,
            ranges=ranges,
            limit=self._page_size,
            dimension_filter=event_filter(queries),
        )


def _check_property_id(property_id: str) -> None:
    if not (isinstance(property_id, str) and property_id.isascii() and property_id.isdigit()):
        raise ValueError(f"GA4 property_id must be a string of digits such as '123456789', got {property_id!r}")


def _key_dimensions(query: EventQuery) -> list[str]:
    """Return the dimensions that identify a query's rows: eventName, then its custom dimensions."""
    return [EVENT_NAME, *(custom_dimension(name) for name in parameter_names(query))]


def _queries_by_key(queries: Sequence[EventQuery]) -> dict[tuple[str, ...], list[EventQuery]]:
    # Several queries can share a key, for example step_index 0 and step_index "0".
    by_key: dict[tuple[str, ...], list[EventQuery]] = {}
    for query in queries:
        by_key.setdefault(query_key(query), []).append(query)
    return by_key


def _group_by_parameters(queries: Sequence[EventQuery]) -> list[list[EventQuery]]:
    """Group queries that need the same dimensions, so each group can share reports."""
    groups: dict[tuple[str, ...], list[EventQuery]] = {}
    for query in queries:
        groups.setdefault(parameter_names(query), []).append(query)
    return list(groups.values())
