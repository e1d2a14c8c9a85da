"""Send GA4 report requests through batchRunReports, with retries and offset paging."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from google.analytics.data_v1beta import BetaAnalyticsDataAsyncClient, types
from google.api_core import exceptions

from analytics_service.providers.base import ProviderResponseError, ProviderUsage
from analytics_service.providers.ga4_errors import PROVIDER, is_retryable, provider_error, status_name
from analytics_service.providers.ga4_requests import MAX_REPORTS_PER_BATCH, check_batch_limits, chunked
from analytics_service.providers.ga4_responses import ReportTable, dimension_combinations, property_quota

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetrySettings:
    """Retry policy for server errors (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN).

    A standard GA4 property allows 10 server errors per project an hour, so the default
    makes at most 3 attempts per batch call. Delays are in seconds.
    """

    max_attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError(
                f"retry delays must satisfy 0 <= base_delay <= max_delay, got {self.base_delay} and {self.max_delay}"
            )

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Return the wait before retry ``retry_number`` (1-based): exponential, capped, with jitter.

        The jitter draws from the upper half of the capped delay so that concurrent clients
        spread out but every wait still grows.
        """
        capped = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return capped * (0.5 + rng.random() / 2)


class ReportRunner:
    """Runs report requests for one property and records what they cost in ``usage``.

    ``usage.requests`` counts every batchRunReports call sent, retries included, and
    ``usage.retries`` counts the retries alone.
    """

    def __init__(
        self,
        client: BetaAnalyticsDataAsyncClient,
        property_id: str,
        usage: ProviderUsage,
        *,
        retry: RetrySettings,
        sleep: Sleep = asyncio.sleep,
        timeout: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._property_id = property_id
        self._usage = usage
        self._retry = retry
        self._sleep = sleep
        self._timeout = timeout
        self._rng = rng or random.Random()
        self._warned_other_row = False

    @property
    def property_name(self) -> str:
        return f"properties/{self._property_id}"

    async def run(
        self, requests: Sequence[types.RunReportRequest], row_targets: Sequence[int | None] | None = None
    ) -> list[ReportTable]:
        """Run ``requests`` in batches of 5 and return one table per request, in order.

        A report whose ``row_count`` exceeds the rows read so far is read again from the
        next ``offset`` until all rows, or ``row_targets[i]`` rows when given, are read.
        """
        targets = list(row_targets) if row_targets is not None else [None] * len(requests)
        for batch in chunked(list(requests), MAX_REPORTS_PER_BATCH):
            check_batch_limits(batch)

        tables: list[ReportTable | None] = [None] * len(requests)
        pending = list(enumerate(requests))
        while pending:
            follow_ups = []
            for batch in chunked(pending, MAX_REPORTS_PER_BATCH):
                response = await self._send([request for _, request in batch])
                if len(response.reports) != len(batch):
                    raise ProviderResponseError(
                        PROVIDER, f"batch of {len(batch)} reports returned {len(response.reports)} reports"
                    )
                for (index, request), report in zip(batch, response.reports, strict=True):
                    tables[index] = self._merge(tables[index], report)
                    follow_up = _next_page(request, report, targets[index])
                    if follow_up is not None:
                        follow_ups.append((index, follow_up))
            pending = follow_ups
        return [table for table in tables if table is not None]

    def _merge(self, table: ReportTable | None, report: types.RunReportResponse) -> ReportTable:
        if report.metadata.data_loss_from_other_row and not self._warned_other_row:
            # Logged once per client: the flag repeats on every report of a high-cardinality query.
            self._warned_other_row = True
            logger.warning(
                "GA4 property %s grouped some rows into '(other)', so counts per value may be incomplete",
                self._property_id,
            )
        page = ReportTable.from_response(report)
        if table is None:
            return page
        if page.dimension_names != table.dimension_names or page.metric_names != table.metric_names:
            raise ProviderResponseError(PROVIDER, "pages of one report have different headers")
        # Pages can overlap when the API counts offsets differently from dimension_combinations().
        seen = {_row_identity(row) for row in table.rows}
        table.rows.extend(row for row in page.rows if _row_identity(row) not in seen)
        table.row_count = page.row_count
        table.data_loss_from_other_row = table.data_loss_from_other_row or page.data_loss_from_other_row
        return table

    async def _send(self, requests: list[types.RunReportRequest]) -> types.BatchRunReportsResponse:
        batch = types.BatchRunReportsRequest(property=self.property_name, requests=requests)
        attempt = 1
        while True:
            self._usage.requests += 1
            try:
                response = await self._client.batch_run_reports(request=batch, timeout=self._timeout)
            except exceptions.GoogleAPICallError as error:
                if not is_retryable(error) or attempt >= self._retry.max_attempts:
                    raise provider_error(error, self._property_id, attempts=attempt) from error
                delay = self._retry.delay(attempt, self._rng)
                logger.warning(
                    "GA4 batchRunReports on property %s failed with %s (attempt %d of %d), retrying in %.1f s: %s",
                    self._property_id,
                    status_name(error),
                    attempt,
                    self._retry.max_attempts,
                    delay,
                    error.message,
                )
                self._usage.retries += 1
                attempt += 1
                await self._sleep(delay)
                continue
            self._record_quota(response)
            return response

    def _record_quota(self, response: types.BatchRunReportsResponse) -> None:
        for report in response.reports:
            quota = property_quota(report)
            if quota:
                self._usage.quota = quota


def _row_identity(row: types.Row) -> tuple[str, ...]:
    return tuple(value.value for value in row.dimension_values)


def _next_page(
    request: types.RunReportRequest, report: types.RunReportResponse, target: int | None
) -> types.RunReportRequest | None:
    """Return the request for the next page of ``report``, or None when it is complete."""
    page_combinations = dimension_combinations(report)
    next_offset = request.offset + page_combinations
    # NOTE: the offset counts dimension combinations, as row_count does. The Data API docs do
    # not say how offsets work with several date ranges, so _merge() drops rows read twice.
    if page_combinations == 0 or report.row_count <= next_offset:
        return None
    if target is not None and next_offset >= target:
        return None
    follow_up = types.RunReportRequest(request)
    follow_up.offset = next_offset
    if target is not None:
        follow_up.limit = min(request.limit, target - next_offset)
    return follow_up
