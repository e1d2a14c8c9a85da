"""Prometheus metrics of one service instance, kept in a registry of its own.

Each ``ServiceMetrics`` owns a ``CollectorRegistry`` rather than using the process-wide
default, so tests and several applications in one process never register the same
metric name twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from analytics_service.catalogue import CARDS_BY_ID, CardKind
from analytics_service.sync.runner import RunStatus

if TYPE_CHECKING:
    from analytics_service.sync.runner import CardOutcome, SyncResult

logger = logging.getLogger(__name__)

# Label value of cards missing from the catalogue, e.g. cards a test passed to run_sync.
UNKNOWN_KIND = "unknown"

# A run aggregates every source collection and may wait on provider retries, so its
# buckets reach 30 minutes. One card's transform step takes milliseconds to seconds.
RUN_DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
CARD_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# Statuses a finished run can end with. RUNNING appears only on the run record in MongoDB.
_FINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED, RunStatus.CANCELLED)


class ServiceMetrics:
    """The sync, provider and HTTP metrics of one application, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry

        self.sync_runs = Counter(
            "analytics_sync_runs_total", "Sync runs by final status.", ["status"], registry=registry
        )
        self.sync_run_duration = Histogram(
            "analytics_sync_run_duration_seconds", "Wall-clock duration of sync runs, cancelled runs excluded.",
            buckets=RUN_DURATION_BUCKETS, registry=registry,
        )
        self.card_duration = Histogram(
            "analytics_card_duration_seconds", "Time to build one card from the extracted data, by card kind.",
            ["kind"], buckets=CARD_DURATION_BUCKETS, registry=registry,
        )
        self.card_failures = Counter(
            "analytics_card_failures_total", "Cards that failed in a sync run, by card kind.", ["kind"],
            registry=registry,
        )
        self.last_success = Gauge(
            "analytics_last_success_timestamp_seconds",
            "Unix time at which the last run that refreshed a card of this kind finished.", ["kind"],
            registry=registry,
        )
        self.provider_requests = Counter(
            "analytics_provider_requests_total", "Requests sent to the analytics provider, retries included.",
            ["provider"], registry=registry,
        )
        self.provider_retries = Counter(
            "analytics_provider_retries_total", "Provider requests that were retries of a failed request.",
            ["provider"], registry=registry,
        )
        self.provider_errors = Counter(
            "analytics_provider_errors_total", "Provider questions that failed after their retries.",
            ["provider"], registry=registry,
        )
        self.provider_quota_remaining = Gauge(
            "analytics_provider_quota_remaining", "Remaining provider quota as last reported by the provider.",
            ["provider", "quota"], registry=registry,
        )
        self.http_requests = Counter(
            "analytics_http_requests_total", "HTTP requests by route, method and response status.",
            ["route", "method", "status"], registry=registry,
        )
        self.http_request_duration = Histogram(
            "analytics_http_request_duration_seconds", "Time from receiving a request to returning its response.",
            ["route"], registry=registry,
        )

        # Create the zero-valued series up front so rate() and absent() work before the
        # first run. The last-success gauge stays absent until a card of that kind is
        # refreshed, because 0 would read as "last refreshed in 1970".
        for status in _FINAL_STATUSES:
            self.sync_runs.labels(status=str(status))
        for kind in CardKind:
            self.card_failures.labels(kind=str(kind))

    def observe_run(self, result: SyncResult, duration_s: float, finished_at_unix: float) -> None:
        """Record the run, card and provider metrics of one run that returned ``result``.

        ``duration_s`` is the wall-clock run time and ``finished_at_unix`` the Unix time the
        run ended, used as the last-success time of every card kind it refreshed.
        """
        self.sync_runs.labels(status=str(result.status)).inc()
        self.sync_run_duration.observe(duration_s)

        for outcome in result.outcomes:
            self._observe_card(result.run_id, outcome, finished_at_unix)

        self._observe_provider(result.provider)

    def observe_cancelled_run(self) -> None:
        """Count a run that was cancelled before it returned a result."""
        self.sync_runs.labels(status=str(RunStatus.CANCELLED)).inc()

    def observe_failed_run(self, duration_s: float) -> None:
        """Count a run that raised before it returned a result (e.g. the database was down) as failed."""
        self.sync_runs.labels(status=str(RunStatus.FAILED)).inc()
        self.sync_run_duration.observe(duration_s)

    async def track_run(self, run: Awaitable[SyncResult]) -> SyncResult:
        """Await ``run`` and record its result, its cancellation or its exception, which is re-raised."""
        started = time.perf_counter()
        try:
            result = await run
        except BaseException as error:
            if isinstance(error, Exception):
                self.observe_failed_run(time.perf_counter() - started)
            else:
                # CancelledError, KeyboardInterrupt and SystemExit all stop the run unfinished.
                self.observe_cancelled_run()
            raise
        self.observe_run(result, time.perf_counter() - started, time.time())
        return result

    def observe_http_request(self, route: str, method: str, status: int, duration_s: float) -> None:
        """Count one HTTP request and record its duration. ``route`` must come from a bounded set of values."""
        self.http_requests.labels(route=route, method=method, status=str(status)).inc()
        self.http_request_duration.labels(route=route).observe(duration_s)

    def render(self) -> tuple[bytes, str]:
        """Return the registry in the Prometheus text format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def _observe_card(self, run_id: str, outcome: CardOutcome, finished_at_unix: float) -> None:
        card = CARDS_BY_ID.get(outcome.card_id)
        kind = str(card.kind) if card is not None else UNKNOWN_KIND

        # A duration of 0 means the card was never timed: it failed while planning or
        # while being written, so it would only drag the histogram towards zero.
        if outcome.duration_ms > 0:
            self.card_duration.labels(kind=kind).observe(outcome.duration_ms / 1000)

        if outcome.status == "failed":
            self.card_failures.labels(kind=kind).inc()
        elif outcome.status == "refreshed":
            self.last_success.labels(kind=kind).set(finished_at_unix)
        else:
            logger.warning("run %s card %s: unexpected outcome status %r, so the card is not counted",
                           run_id, outcome.card_id, outcome.status)

    def _observe_provider(self, report: dict[str, Any]) -> None:
        provider = report.get("selected")
        if not provider:
            return

        # The report contains this run's deltas, which are not negative. max() still keeps a
        # malformed report from raising ValueError out of Counter.inc into the sync.
        self.provider_requests.labels(provider=provider).inc(max(report.get("requests", 0), 0))
        self.provider_retries.labels(provider=provider).inc(max(report.get("retries", 0), 0))
        self.provider_errors.labels(provider=provider).inc(len(report.get("failures", [])))

        for quota_name, quota in (report.get("quota") or {}).items():
            remaining = quota.get("remaining")
            if remaining is not None:
                self.provider_quota_remaining.labels(provider=provider, quota=quota_name).set(remaining)
