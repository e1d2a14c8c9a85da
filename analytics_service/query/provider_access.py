"""The provider questions of one run, each asked once for all provider-backed cards.

Planners register what their card needs; the first reader that awaits a question sends
it with everything registered, and later readers share the answer or the error. A
failing or slow provider fails only the cards that asked it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from analytics_service.providers.base import (
    DateRange,
    EventQuery,
    ProviderError,
    RankedValue,
    ReportingClient,
)
from analytics_service.providers.remote_config import AnalyticsConfig
from analytics_service.timeframes import KPI_FRAMES, TimeFrame, complete_day_ranges

logger = logging.getLogger(__name__)

# Content ids fetched per window for views by topic and by person: views of headlines
# beyond this rank are not attributed, which the card reports as its limit.
TOP_CONTENT_LIMIT = 1000
VIEW_EVENT = EventQuery("contentViewed")


@dataclass
class ProviderSelection:
    """The provider chosen for a run, or why there is none."""

    client: ReportingClient | None
    reason: str | None
    config: AnalyticsConfig
    timeout_s: float = 60.0


@dataclass
class ProviderFailure:
    question: str
    error: str


@dataclass
class ProviderAccess:
    selection: ProviderSelection
    ranges: dict[TimeFrame, tuple[DateRange, DateRange]]
    day_range: DateRange
    window_queries: set[EventQuery] = field(default_factory=set)
    daily_queries: set[EventQuery] = field(default_factory=set)
    daily_active_users_needed: bool = False
    failures: list[ProviderFailure] = field(default_factory=list)
    _answers: dict[str, asyncio.Task] = field(default_factory=dict)
    # Clients live across runs, so the run's own usage is the difference from the start.
    _requests_at_start: int = 0
    _retries_at_start: int = 0

    def __post_init__(self) -> None:
        if self.selection.client is not None:
            self._requests_at_start = self.selection.client.usage.requests
            self._retries_at_start = self.selection.client.usage.retries

    @classmethod
    def for_run(cls, selection: ProviderSelection, now, tz) -> ProviderAccess:
        ranges = {}
        for frame in KPI_FRAMES:
            current, previous = complete_day_ranges(frame, now, tz)
            ranges[frame] = (DateRange(*current), DateRange(*previous))
        # Daily series cover the complete days of the longest frame, so they lie inside
        # the span of the window counts and a provider can serve both from one request.
        return cls(selection, ranges, ranges[TimeFrame.YEAR][0])

    def chart_days(self) -> list[Any]:
        return self.day_range.dates()

    @property
    def client(self) -> ReportingClient | None:
        return self.selection.client

    def all_ranges(self) -> list[DateRange]:
        return sorted({item for pair in self.ranges.values() for item in pair})

    def current_ranges(self) -> list[DateRange]:
        return sorted({pair[0] for pair in self.ranges.values()})

    def unavailable_reason(self, events: list[str]) -> str | None:
        """Return why provider data cannot exist for ``events``, or None when it can be asked."""
        if self.selection.client is None:
            return self.selection.reason
        if not self.selection.config.enabled:
            return "analytics is disabled in remote_configs (features.analytics.enabled is false)"
        disabled = [event for event in events if event in self.selection.config.disabled_events]
        if disabled:
            return f"the app does not send {', '.join(disabled)} (listed in remote_configs disabledEvents)"
        return None

    def corrected(self, event: str, count: float) -> int:
        """Scale an event count up by the app's sampling rate for that event."""
        return round(count / self.selection.config.sampling_rate(event))

    async def _ask(self, question: str, send: Callable[[], Awaitable[Any]]) -> Any:
        task = self._answers.get(question)
        if task is None:
            task = asyncio.ensure_future(self._send(question, send))
            self._answers[question] = task
        return await asyncio.shield(task)

    async def _send(self, question: str, send: Callable[[], Awaitable[Any]]) -> Any:
        name = self.selection.client.name  # type: ignore[union-attr]
        try:
            return await asyncio.wait_for(send(), self.selection.timeout_s)
        except TimeoutError:
            error: ProviderError = ProviderError(name, f"{question} timed out after {self.selection.timeout_s:g} s")
        except ProviderError as provider_error:
            error = provider_error
        except Exception as unexpected:  # a client bug must not stop the run
            logger.exception("provider %s: %s failed unexpectedly", name, question)
            error = ProviderError(name, f"{question} failed: {type(unexpected).__name__}: {unexpected}")
        self.failures.append(ProviderFailure(question, str(error)))
        raise error

    async def missing_data_reason(self) -> str | None:
        """Return why the provider has no data at all, for providers that can tell (own events)."""
        check = getattr(self.client, "missing_data_reason", None)
        if check is None:
            return None
        return await self._ask("data presence", check)

    async def window_counts(self) -> dict[EventQuery, dict[DateRange, int]]:
        queries = sorted(self.window_queries, key=repr)
        return await self._ask("event counts", lambda: self.client.event_counts(queries, self.all_ranges()))

    async def daily_counts(self) -> dict[EventQuery, dict[Any, int]]:
        queries = sorted(self.daily_queries, key=repr)
        return await self._ask("daily event counts", lambda: self.client.daily_event_counts(queries, self.day_range))

    async def active_users(self) -> dict[DateRange, int | None]:
        if self.daily_active_users_needed:
            # Asking the wider daily question first lets a client that caches answers
            # (Mixpanel does) derive one-day counts from it instead of sending a request.
            await self.daily_active_users()
        return await self._ask("active users", lambda: self.client.active_users(self.all_ranges()))

    async def daily_active_users(self) -> dict[Any, int]:
        return await self._ask("daily active users", lambda: self.client.daily_active_users(self.day_range))

    async def top_content(self) -> dict[DateRange, list[RankedValue]]:
        return await self._ask(
            "most viewed content",
            lambda: self.client.top_values(VIEW_EVENT, "contentId", self.current_ranges(), TOP_CONTENT_LIMIT),
        )

    def report(self) -> dict[str, Any]:
        """Summarise the provider's part of the run for the run record."""
        client = self.selection.client
        if client is None:
            return {"selected": None, "reason": self.selection.reason}
        usage = client.usage
        return {
            "selected": client.name,
            "requests": usage.requests - self._requests_at_start,
            "retries": usage.retries - self._retries_at_start,
            "quota": usage.quota,
            "failures": [{"question": item.question, "error": item.error} for item in self.failures],
        }
