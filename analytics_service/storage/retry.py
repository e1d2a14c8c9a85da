"""Retries of database operations that failed for a transient reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo.errors import AutoReconnect, NetworkTimeout, WriteConcernError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Errors after which the same operation may succeed: a primary stepping down, a dropped
# connection, a timeout. ServerSelectionTimeoutError is left out: it has already waited
# for the whole server selection timeout.
TRANSIENT_ERRORS = (AutoReconnect, NetworkTimeout, WriteConcernError)


async def retry_transient(
    operation: Callable[[], Awaitable[T]],
    description: str,
    attempts: int = 3,
    base_delay_s: float = 0.5,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``operation``, retrying transient errors with exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except TRANSIENT_ERRORS as error:
            if attempt == attempts:
                raise
            delay = base_delay_s * 2 ** (attempt - 1)
            logger.warning("%s failed (attempt %d of %d), retrying in %.1f s: %s",
                           description, attempt, attempts, delay, error)
            await sleep(delay)
    raise AssertionError("unreachable")
