"""The in-process scheduler: startup run, skipped overlapping ticks, clean stop."""

from __future__ import annotations

import asyncio
import logging

from analytics_service.scheduler import SyncScheduler
from analytics_service.settings import load_settings
from analytics_service.storage.indexes import SYNC_RUNS
from analytics_service.sync.runner import Trigger
from analytics_service.sync.service import SyncService
from tests.faults import FaultyDatabase

SETTINGS = load_settings(env_file=None)


async def _wait_for(predicate, timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_tick_during_run_is_skipped_and_logged(database, caplog):
    faulty = FaultyDatabase(database)
    faulty.blocker = asyncio.Event()
    service = SyncService(faulty, SETTINGS)

    first = asyncio.create_task(service.run(Trigger.SCHEDULE))
    await _wait_for(lambda: service.running)
    with caplog.at_level(logging.WARNING):
        skipped = await service.run_unless_busy(Trigger.SCHEDULE)
    faulty.blocker.set()
    result = await first

    assert skipped is None
    assert "skipped" in caplog.text
    assert await database[SYNC_RUNS].count_documents({}) == 1
    assert result.run_id


async def test_startup_run_is_recorded_with_its_trigger(database):
    service = SyncService(database, SETTINGS)
    scheduler = SyncScheduler(service, "0 0 1 1 *", SETTINGS.tz)
    scheduler.start(run_now=True)
    try:
        assert scheduler.running
        await _wait_for(lambda: not scheduler.busy)
    finally:
        await scheduler.stop()
    record = await database[SYNC_RUNS].find_one({})
    assert record["trigger"] == "startup"
    assert record["status"] == "succeeded"
    assert not scheduler.running


async def test_stop_cancels_a_running_sync(database):
    faulty = FaultyDatabase(database)
    faulty.blocker = asyncio.Event()
    service = SyncService(faulty, SETTINGS)
    scheduler = SyncScheduler(service, "0 0 1 1 *", SETTINGS.tz)
    scheduler.start(run_now=True)
    await _wait_for(lambda: service.running)

    await asyncio.wait_for(scheduler.stop(), timeout=5)

    assert not service.running


async def test_cancelled_run_is_recorded_as_cancelled(database):
    faulty = FaultyDatabase(database)
    faulty.blocker = asyncio.Event()
    service = SyncService(faulty, SETTINGS)
    task = asyncio.create_task(service.run(Trigger.CLI))
    await _wait_for(lambda: service.running)

    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    record = await database[SYNC_RUNS].find_one({})
    assert record["status"] == "cancelled"
    assert record["finishedAt"] is not None
