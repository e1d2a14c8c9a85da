"""Runs syncs one at a time for the scheduler, the startup refresh and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from analytics_service.clock import utc_now
from analytics_service.providers.registry import ProviderRegistry
from analytics_service.settings import Settings
from analytics_service.sync.runner import SyncResult, Trigger, run_sync

logger = logging.getLogger(__name__)


class SyncService:
    """Owns the lock that keeps two runs in one process from overlapping."""

    def __init__(
        self,
        database: Any,
        settings: Settings,
        providers: ProviderRegistry | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._settings = settings
        self._providers = providers
        self._clock = clock
        self._lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._lock.locked()

    async def run(self, trigger: Trigger) -> SyncResult:
        """Run one sync now; waits for a run in progress to finish first."""
        async with self._lock:
            provider = await self._providers.select(self._database) if self._providers is not None else None
            return await run_sync(
                self._database, now=self._clock(), tz=self._settings.tz, trigger=trigger, clock=self._clock,
                provider=provider,
            )

    async def run_unless_busy(self, trigger: Trigger) -> SyncResult | None:
        """Run one sync, or skip and return None when a run is still going."""
        if self._lock.locked():
            logger.warning("sync tick (%s) skipped: the previous run is still going", trigger)
            return None
        return await self.run(trigger)
