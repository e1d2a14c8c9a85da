"""Send requests to Mixpanel's Query API within its rate limits, with retries and error mapping.

Mixpanel allows 60 queries an hour and 5 concurrent queries per project and responds with HTTP
429 beyond that (docs.mixpanel.com/reference/rate-limits). The transport keeps both limits on the
client side: a semaphore caps concurrent requests, and ``HourlyBudget`` raises
ProviderQuotaError before a request that would exceed the hourly limit, instead of waiting up
to an hour.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import aiohttp

from analytics_service.providers.base import (
    ProviderConfigurationError,
    ProviderError,
    ProviderQuotaError,
    ProviderResponseError,
    ProviderUsage,
)
from analytics_service.providers.mixpanel_segmentation import PROVIDER

logger = logging.getLogger(__name__)

HOUR = 3600.0

# Mixpanel's 429 body is {"request": ..., "error": "... 1/5 queries running concurrently and
# 61/60 queries running in the last hour. ..."}, with no machine-readable fields.
HOURLY_USAGE = re.compile(r"(\d+)/(\d+) queries running in the last hour")
CONCURRENT_USAGE = re.compile(r"(\d+)/(\d+) queries running concurrently")

# Failures after which the same request may succeed. Anything else is raised at once.
TRANSIENT_ERRORS = (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)


class HourlyBudget:
    """Start times of the requests sent in the last hour, checked against an hourly limit."""

    def __init__(self, limit: int, clock: Callable[[], float], project_id: str) -> None:
        self.limit = limit
        self._clock = clock
        self._project_id = project_id
        self._starts: deque[float] = deque()

    def used(self) -> int:
        """Return the number of requests started in the last hour."""
        self._forget_old(self._clock())
        return len(self._starts)

    def reserve(self) -> None:
        """Record a request start, or raise ProviderQuotaError when the hourly limit is reached."""
        now = self._clock()
        self._forget_old(now)
        if len(self._starts) >= self.limit:
            wait = self._starts[0] + HOUR - now
            raise ProviderQuotaError(
                PROVIDER,
                f"query budget exhausted for project {self._project_id}: {len(self._starts)} requests "
                f"started in the last hour and the limit is {self.limit} per hour. "
                f"The next request slot frees up in {wait:.0f} s.",
            )
        self._starts.append(now)

    def _forget_old(self, now: float) -> None:
        while self._starts and self._starts[0] <= now - HOUR:
            self._starts.popleft()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long the transport waits before sending a failed request again."""

    # Retries after HTTP 429, and separately after 5xx responses, timeouts and lost connections.
    max_retries: int = 2
    # Wait in seconds after a 429 without a Retry-After header.
    default_retry_after: float = 60.0
    # Longest Retry-After in seconds that is waited for. A longer one raises ProviderQuotaError.
    max_retry_after: float = 120.0
    # First wait in seconds after a 5xx or timeout, doubled for each further retry.
    backoff: float = 1.0


@dataclass(frozen=True)
class _Response:
    status: int
    retry_after: str | None
    body: bytes


class MixpanelTransport:
    """Authenticated GET requests to one project's Query API, with a shared request budget."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        project_id: str,
        workspace_id: int | None,
        authorization: str,
        max_concurrent: int,
        hourly_limit: int,
        request_timeout: float,
        retry: RetryPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.project_id = project_id
        self.budget = HourlyBudget(hourly_limit, clock, project_id)
        self.retry = retry
        self._session = session
        self._workspace_id = workspace_id
        self._headers = {"Authorization": authorization}
        self._semaphore = asyncio.Semaphore(max_concurrent)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._sleep = sleep

    async def get_json(self, endpoint: str, params: Mapping[str, str], usage: ProviderUsage) -> object:
        """Send GET ``endpoint`` with ``params`` and return the decoded JSON body.

        Retries a 429 after its Retry-After delay, and a 5xx response, timeout or lost
        connection with exponential backoff, each at most ``retry.max_retries`` times. Every
        attempt counts against the hourly budget and is recorded in ``usage``.
        """
        query = {"project_id": self.project_id, **params}
        if self._workspace_id is not None:
            query["workspace_id"] = str(self._workspace_id)
        url = f"{self.base_url}/{endpoint.lstrip('/')}"
        rate_limited = 0
        failed = 0

        while True:
            try:
                response = await self._send(url, query, usage)
            except TRANSIENT_ERRORS as error:
                reason = _describe_transient(error)
                if failed >= self.retry.max_retries:
                    raise ProviderError(PROVIDER, f"{endpoint} failed after {failed + 1} attempts: {reason}") from error
                failed += 1
                await self._wait_before_retry(usage, endpoint, reason, self.retry.backoff * 2 ** (failed - 1))
                continue

            status = response.status
            if status == 200:
                return _decode_json(response.body, endpoint)

            message = _error_message(response.body)
            if status == 429:
                _record_reported_quota(message, usage)
                if rate_limited >= self.retry.max_retries:
                    raise ProviderQuotaError(
                        PROVIDER, f"{endpoint} was rate limited (HTTP 429) {rate_limited + 1} times in a row: {message}"
                    )
                delay = _retry_after_seconds(response.retry_after, self.retry.default_retry_after)
                if delay > self.retry.max_retry_after:
                    raise ProviderQuotaError(
                        PROVIDER,
                        f"{endpoint} was rate limited (HTTP 429) and its Retry-After requests a wait of {delay:.0f} s, "
                        f"longer than the maximum wait of {self.retry.max_retry_after:.0f} s: {message}",
                    )
                rate_limited += 1
                await self._wait_before_retry(usage, endpoint, "HTTP 429", delay)
                continue

            if status >= 500:
                if failed >= self.retry.max_retries:
                    raise ProviderError(
                        PROVIDER, f"{endpoint} failed after {failed + 1} attempts: HTTP {status}: {message}"
                    )
                failed += 1
                await self._wait_before_retry(usage, endpoint, f"HTTP {status}", self.retry.backoff * 2 ** (failed - 1))
                continue

            raise self._client_error(status, endpoint, params.get("event"), message)

    async def _send(self, url: str, query: Mapping[str, str], usage: ProviderUsage) -> _Response:
        async with self._semaphore:
            self.budget.reserve()
            usage.requests += 1
            logger.debug("Mixpanel request %s for project %s", url, self.project_id)
            async with self._session.get(url, params=query, headers=self._headers, timeout=self._timeout) as response:
                body = await response.read()
                return _Response(response.status, response.headers.get("Retry-After"), body)

    async def _wait_before_retry(self, usage: ProviderUsage, endpoint: str, reason: str, delay: float) -> None:
        usage.retries += 1
        logger.warning(
            "Mixpanel %s for project %s failed (%s), retrying in %.1f s", endpoint, self.project_id, reason, delay
        )
        await self._sleep(delay)

    def _client_error(self, status: int, endpoint: str, event: str | None, message: str) -> ProviderError:
        if status in (401, 403):
            return ProviderConfigurationError(
                PROVIDER,
                f"{endpoint} was rejected with HTTP {status} for project {self.project_id} at {self.base_url}: "
                f"{message}. Check the service account username and secret, its access to the project, "
                "the project id and the region.",
            )
        if status == 400:
            return ProviderConfigurationError(
                PROVIDER,
                f"{endpoint} for event {event!r} was rejected as a bad request (HTTP 400): {message}. "
                "Check the event name, parameter filters and dates of the query.",
            )
        return ProviderError(PROVIDER, f"{endpoint} failed with HTTP {status}: {message}")


def basic_authorization(username: str, secret: str) -> str:
    """Return the Authorization header value for HTTP Basic auth with a service account."""
    credentials = base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")
    return f"Basic {credentials}"


def _decode_json(body: bytes, endpoint: str) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise ProviderResponseError(
            PROVIDER, f"{endpoint} response is not JSON ({error}); it starts with {_snippet(body)!r}"
        ) from error


def _error_message(body: bytes) -> str:
    """Return the ``error`` member of a Mixpanel error body, or the start of a body without one."""
    try:
        decoded = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), str):
        return decoded["error"]
    return _snippet(body) or "empty response body"


def _snippet(body: bytes, length: int = 200) -> str:
    return body[:length].decode("utf-8", errors="replace").strip()


def _retry_after_seconds(header: str | None, default: float) -> float:
    """Return the wait in seconds that a Retry-After header requests (delta-seconds or HTTP-date)."""
    if header is None:
        return default
    text = header.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        logger.warning("Mixpanel sent an unreadable Retry-After header %r, waiting %.0f s", header, default)
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def _record_reported_quota(message: str, usage: ProviderUsage) -> None:
    for name, pattern in (("queries_per_hour", HOURLY_USAGE), ("concurrent_queries", CONCURRENT_USAGE)):
        match = pattern.search(message)
        if match:
            consumed, limit = int(match.group(1)), int(match.group(2))
            usage.quota[name] = {"consumed": consumed, "remaining": max(limit - consumed, 0)}


def _describe_transient(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "request timed out"
    return f"{type(error).__name__}: {error}"
