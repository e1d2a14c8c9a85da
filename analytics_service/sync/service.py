"""Runs syncs one at a time, in this process and across replicas.

A local lock keeps two runs of one process apart, and the lease in MongoDB (see
``analytics_service.storage.lease``) keeps replicas apart. While a run lasts, a
heartbeat renews the lease; if the lease is lost, the run is cancelled and its later
writes would be rejected by the fencing token anyway.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import PyMongoError

from analytics_service.catalogue import ALL_CARDS, Card
from analytics_service.clock import utc_now
from analytics_service.observability import ServiceMetrics
from analytics_service.providers.registry import ProviderRegistry
from analytics_service.settings import Settings
from analytics_service.sourcehealth import SourceHealth
from analytics_service.storage import runs
from analytics_service.storage.lease import Lease, LeaseStore
from analytics_service.sync.runner import RunStatus, SyncResult, Trigger, new_run_id, run_sync

logger = logging.getLogger(__name__)

RELEASE_TIMEOUT_S = 2.0


class SyncBusy(Exception):
    """A sync is already running here or on another replica."""


def default_owner() -> str:
    """Name this process uniquely among replicas: host, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SyncService:
    """Starts runs under the lease and tracks them so shutdown can cancel them."""

    def __init__(
        self,
        database: Any,
        settings: Settings,
        providers: ProviderRegistry | None = None,
        clock: Callable[[], datetime] = utc_now,
        owner: str | None = None,
        health: SourceHealth | None = None,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.health = health or SourceHealth()
        self._metrics = metrics
        self._database = database
        self._settings = settings
        self._providers = providers
        self._clock = clock
        self._lock = asyncio.Lock()
        ttl = timedelta(seconds=settings.lease_ttl_seconds)
        self._leases = LeaseStore(database, owner or default_owner(), ttl)
        self._heartbeat_s = settings.lease_ttl_seconds / 3
        self._tasks: set[asyncio.Task] = set()
        # A full rebuild asked for while another run held the lease; the next run does it.
        self.rebuild_pending = False
        # Called after every finished run, such as the API's card cache refresh.
        self.listeners: list[Callable[[SyncResult], Awaitable[None]]] = []

    @property
    def running(self) -> bool:
        return self._lock.locked()

    @property
    def owner(self) -> str:
        return self._leases.owner

    async def _acquire(self) -> Lease:
        if self._lock.locked():
            raise SyncBusy("a sync is already running in this process")
        await self._lock.acquire()
        try:
            now = self._clock()
            lease = await self._leases.acquire(now)
            if lease is None:
                holder = await self._leases.holder(now)
                who = f"replica {holder.owner} until {holder.expires_at.isoformat()}" if holder else "another replica"
                raise SyncBusy(f"a sync is already running: the lease is held by {who}")
        except BaseException:
            self._lock.release()
            raise
        return lease

    async def run(self, trigger: Trigger, cards: Iterable[Card] = ALL_CARDS, run_id: str | None = None,
                  rebuild: bool = False) -> SyncResult:
        """Run one sync now and return its result; raises SyncBusy when one is running.

        ``rebuild`` recounts every rollup from the source collections instead of the
        update window only.
        """
        lease = await self._acquire()
        return await self._run_holding(lease, trigger, list(cards), run_id or new_run_id(), rebuild)

    async def start(self, trigger: Trigger, cards: Iterable[Card] = ALL_CARDS, rebuild: bool = False) -> str:
        """Start a sync in the background and return its run id; raises SyncBusy."""
        lease = await self._acquire()
        run_id = new_run_id()
        task = asyncio.create_task(self._run_logged(lease, trigger, list(cards), run_id, rebuild),
                                   name=f"sync-{run_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return run_id

    async def run_unless_busy(self, trigger: Trigger, rebuild: bool = False) -> SyncResult | None:
        """Run one sync, or log and return None when one is already running or the database is down.

        A rebuild that finds another run going is remembered and done by the next run.
        """
        try:
            return await self.run(trigger, rebuild=rebuild)
        except SyncBusy as busy:
            if rebuild:
                self.rebuild_pending = True
            logger.warning("sync (%s%s) skipped: %s", trigger, ", full rebuild" if rebuild else "", busy)
            return None
        except PyMongoError as error:
            # The lease or the run record could not be written: the database is down.
            self.health.failed("database", f"{type(error).__name__}: {error}")
            return None

    async def _run_logged(self, lease: Lease, trigger: Trigger, cards: list[Card], run_id: str,
                          rebuild: bool) -> None:
        try:
            await self._run_holding(lease, trigger, cards, run_id, rebuild)
        except asyncio.CancelledError:
            raise
        except Exception:  # a background run has no caller to raise to
            logger.exception("run %s (%s) failed", run_id, trigger)

    async def _run_holding(self, lease: Lease, trigger: Trigger, cards: list[Card], run_id: str,
                           rebuild: bool) -> SyncResult:
        rebuild = rebuild or self.rebuild_pending
        run_task = asyncio.current_task()
        lost = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(lease, run_task, lost), name=f"heartbeat-{run_id}")
        started = asyncio.get_running_loop().time()
        try:
            try:
                provider = await self._providers.select(self._database) if self._providers is not None else None
                result = await run_sync(
                    self._database, now=self._clock(), tz=self._settings.tz, trigger=trigger, clock=self._clock,
                    cards=cards, provider=provider, run_id=run_id, fencing_token=lease.token, rebuild=rebuild,
                    update_window=timedelta(hours=self._settings.rollup_update_hours),
                )
            except asyncio.CancelledError:
                if self._metrics is not None:
                    self._metrics.observe_cancelled_run()
                if lost.is_set():
                    await asyncio.shield(runs.update_run(self._database, run_id, {
                        "error": "the sync lease was lost (heartbeat failed), so the run stopped writing",
                    }))
                raise
            except Exception:
                if self._metrics is not None:
                    self._metrics.observe_failed_run(asyncio.get_running_loop().time() - started)
                raise
            finally:
                heartbeat.cancel()
                await asyncio.gather(heartbeat, return_exceptions=True)

            # Listeners (the API's card cache) run before the lease is released, so a
            # caller that sees the service idle also sees their effects.
            duration_s = asyncio.get_running_loop().time() - started
            if rebuild:
                # Stays pending until every source group was rebuilt.
                rebuilt = all(group["error"] is None for group in result.rollups.values())
                self.rebuild_pending = result.status is RunStatus.FAILED or not rebuilt
            self._record_health(result)
            if self._metrics is not None:
                self._metrics.observe_run(result, duration_s, time.time())
            for listener in self.listeners:
                await listener(result)
            return result
        finally:
            await asyncio.shield(self._release(lease))

    def _record_health(self, result: SyncResult) -> None:
        sources = {"database"}
        if result.provider.get("selected"):
            sources.add(result.provider["selected"])
        for source in sources:
            if source in result.source_failures:
                self.health.failed(source, result.source_failures[source])
            else:
                self.health.succeeded(source)

    async def _release(self, lease: Lease) -> None:
        try:
            # Bounded, so a database that is slow to respond cannot hold up a shutdown.
            await asyncio.wait_for(self._leases.release(lease, self._clock()), RELEASE_TIMEOUT_S)
        except (Exception, TimeoutError) as error:  # the lease then expires by itself after its TTL
            logger.warning("releasing the sync lease (token %d) failed: %s", lease.token, str(error) or "timed out")
        finally:
            self._lock.release()

    async def _heartbeat(self, lease: Lease, run_task: asyncio.Task | None, lost: asyncio.Event) -> None:
        current = lease
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                renewed = await self._leases.renew(current, self._clock())
            except Exception as error:  # a failed renewal is retried at the next beat, within the TTL
                logger.warning("renewing the sync lease (token %d) failed: %s", lease.token, error)
                continue
            if renewed is None:
                logger.error("sync lease (token %d) lost: stopping the run", lease.token)
                lost.set()
                if run_task is not None:
                    run_task.cancel()
                return
            current = renewed

    async def stop(self) -> None:
        """Cancel background runs and wait for them; each records itself as cancelled."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
