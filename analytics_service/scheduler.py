"""The cron schedule of the sync, in the same process as the HTTP server."""

from __future__ import annotations

import asyncio
import logging

import aiocron

from analytics_service.sync.runner import Trigger
from analytics_service.sync.service import SyncService

logger = logging.getLogger(__name__)


class SyncScheduler:
    """Fires ``SyncService.run_unless_busy`` on a cron expression; a busy tick is skipped.

    With ``rebuild`` the runs recount every rollup; a busy rebuild tick is done by the
    next run instead.
    """

    def __init__(self, service: SyncService, cron: str, tz, rebuild: bool = False) -> None:
        self._service = service
        self._rebuild = rebuild
        self._cron_expression = cron
        self._tz = tz
        self._cron: aiocron.Cron | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def running(self) -> bool:
        return self._cron is not None

    @property
    def busy(self) -> bool:
        """Whether a sync started by this scheduler is still going."""
        return bool(self._tasks)

    def start(self, run_now: bool) -> None:
        self._cron = aiocron.crontab(self._cron_expression, func=self._tick, start=True, tz=self._tz)
        logger.info("scheduler started: cron=%r time zone=%s%s", self._cron_expression, self._tz,
                    " (full rebuild)" if self._rebuild else "")
        if run_now:
            self._spawn(Trigger.STARTUP)

    def _tick(self) -> None:
        self._spawn(Trigger.SCHEDULE)

    def _spawn(self, trigger: Trigger) -> None:
        # The run is a named task so shutdown can cancel and await it; aiocron itself
        # would only log an exception from a coroutine it awaited.
        task = asyncio.create_task(self._run(trigger), name=f"sync-{trigger}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, trigger: Trigger) -> None:
        try:
            await self._service.run_unless_busy(trigger, rebuild=self._rebuild)
        except asyncio.CancelledError:
            logger.warning("sync (%s) cancelled by shutdown", trigger)
            raise
        except Exception:  # the schedule must survive a failed run
            logger.exception("sync (%s) failed", trigger)

    async def stop(self) -> None:
        if self._cron is not None:
            self._cron.stop()
            self._cron = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        logger.info("scheduler stopped")
