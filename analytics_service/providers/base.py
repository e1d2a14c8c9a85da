"""The provider-agnostic reporting interface that every analytics provider implements.

Cards that need an analytics provider ask only these questions, so adding a provider
is one new module. Dates are calendar days in the provider's reporting time zone (the
GA4 property's or the Mixpanel project's), and both ends of a ``DateRange`` are
inclusive, as both APIs define them.

    ProviderError                 any failure of a provider call
    ├── ProviderConfigurationError  wrong property or project id, missing access,
    │                               unknown custom dimension: retrying does not help
    ├── ProviderQuotaError          quota or rate limit exhausted
    └── ProviderResponseError       malformed or unexpected response body
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol


@dataclass(frozen=True, order=True)
class DateRange:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"date range ends before it starts: {self.start} to {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class EventQuery:
    """An event name, optionally narrowed by event parameters (equality only)."""

    event: str
    parameters: Mapping[str, str | int] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.event, tuple(sorted(self.parameters.items()))))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventQuery):
            return NotImplemented
        return self.event == other.event and dict(self.parameters) == dict(other.parameters)


@dataclass(frozen=True)
class RankedValue:
    value: str
    count: int


@dataclass
class ProviderUsage:
    """Requests, retries and quota a provider used during a run, recorded on the run."""

    requests: int = 0
    retries: int = 0
    # Provider-reported remaining quota, by quota name (GA4's propertyQuota).
    quota: dict[str, dict[str, int]] = field(default_factory=dict)


class ProviderError(Exception):
    """A provider call failed; the message is written for an operator."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class ProviderConfigurationError(ProviderError):
    """The provider rejected the request because of configuration; retrying does not help."""


class ProviderQuotaError(ProviderError):
    """The provider's quota or rate limit is exhausted."""


class ProviderResponseError(ProviderError):
    """The provider returned a body that does not have the documented shape."""


class ReportingClient(Protocol):
    """Questions the provider-backed cards ask; every method may raise ProviderError."""

    name: str
    usage: ProviderUsage

    async def event_counts(
        self, queries: Sequence[EventQuery], ranges: Sequence[DateRange]
    ) -> dict[EventQuery, dict[DateRange, int]]:
        """Return the number of events per query and date range."""
        ...

    async def daily_event_counts(
        self, queries: Sequence[EventQuery], date_range: DateRange
    ) -> dict[EventQuery, dict[date, int]]:
        """Return events per day for every day of ``date_range``, zeros included."""
        ...

    async def active_users(self, ranges: Sequence[DateRange]) -> dict[DateRange, int | None]:
        """Return distinct active users per range; None where the provider cannot tell."""
        ...

    async def daily_active_users(self, date_range: DateRange) -> dict[date, int]:
        """Return distinct active users of each day of ``date_range``, zeros included."""
        ...

    async def top_values(
        self, query: EventQuery, parameter: str, ranges: Sequence[DateRange], limit: int
    ) -> dict[DateRange, list[RankedValue]]:
        """Return the ``limit`` most frequent values of an event parameter per range, largest first."""
        ...

    async def close(self) -> None:
        ...
