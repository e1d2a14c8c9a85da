"""Faults a production deployment meets: replicas, a lost lease, a database outage, shutdown.

Every test checks that no good card is replaced by an empty or partial one.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from analytics_service.api.app import create_app
from analytics_service.api.auth import mint_token
from analytics_service.catalogue import ALL_CARDS, CardKind
from analytics_service.settings import load_settings
from analytics_service.storage.client import Storage
from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.storage.indexes import SYNC_RUNS, ensure_indexes
from analytics_service.storage.lease import LEASES, LeaseStore
from analytics_service.sync.runner import RunStatus, Trigger
from analytics_service.sync.service import SyncBusy, SyncService
from tests.faults import FaultyDatabase, SwitchableDatabase

T0 = datetime(2026, 6, 10, 12, 0, tzinfo=timezone.utc)
SECRET = "s" * 40
SETTINGS = load_settings(env_file=None, jwt_secret=SECRET, lease_ttl_seconds=60)
SOME_CARDS = [card for card in ALL_CARDS if card.id in {"usersNewRegistrations", "engagementsReportsPending",
                                                         "usersRegistrationsOverTime"}]


def _clock(moment: datetime):
    return lambda: moment


async def _seed(database) -> None:
    await ensure_indexes(database)
    await database["users"].insert_many([
        {"createdAt": (T0 - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), "isAnonymous": False},
        {"createdAt": (T0 - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), "isAnonymous": False},
    ])
    await database["reports"].insert_one({"createdAt": "2026-06-09T10:00:00Z", "status": "pendingReview"})


async def _cards(database) -> dict[str, dict]:
    stored = {}
    for kind in CardKind:
        async for document in database[kind.collection].find({}, {"_id": 0}):
            stored[document["cardId"]] = document
    return stored


async def _wait_for(predicate, timeout_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_two_replicas_starting_together_run_once(database):
    await _seed(database)
    blocked = FaultyDatabase(database)
    blocked.blocker = asyncio.Event()
    first = SyncService(blocked, SETTINGS, clock=_clock(T0), owner="replica-a")
    second = SyncService(blocked, SETTINGS, clock=_clock(T0), owner="replica-b")

    starts = await asyncio.gather(first.start(Trigger.SCHEDULE, SOME_CARDS),
                                  second.start(Trigger.SCHEDULE, SOME_CARDS), return_exceptions=True)
    blocked.blocker.set()
    await first.stop()
    await second.stop()

    busy = [item for item in starts if isinstance(item, SyncBusy)]
    started = [item for item in starts if isinstance(item, str)]
    assert len(busy) == 1
    assert len(started) == 1
    assert "replica-" in str(busy[0])


async def test_replica_waits_while_lease_is_held(database):
    await _seed(database)
    holder = LeaseStore(database, "replica-a", timedelta(seconds=60))
    await holder.acquire(T0)
    other = SyncService(database, SETTINGS, clock=_clock(T0 + timedelta(seconds=30)), owner="replica-b")

    with pytest.raises(SyncBusy) as raised:
        await other.run(Trigger.SCHEDULE, SOME_CARDS)

    assert "replica-a" in str(raised.value)
    assert await database[SYNC_RUNS].count_documents({}) == 0


async def test_expired_holder_late_writes_are_rejected(database):
    await _seed(database)
    slow_view = FaultyDatabase(database)
    slow_view.blocker = asyncio.Event()
    # replica-a takes the lease at T0 and then stalls (no heartbeat reaches MongoDB).
    stalled = SyncService(slow_view, SETTINGS, clock=_clock(T0), owner="replica-a")
    stalled_task = asyncio.create_task(stalled.run(Trigger.SCHEDULE, SOME_CARDS))
    await _wait_for(lambda: stalled.running)

    # Two minutes later its lease has expired and replica-b takes over with a larger token.
    later = T0 + timedelta(minutes=2)
    fresh = await SyncService(database, SETTINGS, clock=_clock(later), owner="replica-b").run(
        Trigger.SCHEDULE, SOME_CARDS)
    newer_cards = await _cards(database)

    slow_view.blocker.set()
    late = await stalled_task

    assert fresh.status is RunStatus.SUCCEEDED
    assert {outcome.status for outcome in late.outcomes} == {"failed"}
    assert all("newer run" in outcome.error for outcome in late.outcomes)
    assert await _cards(database) == newer_cards
    assert all(card["runId"] == fresh.run_id for card in newer_cards.values())
    assert all(card["fencingToken"] == 2 for card in newer_cards.values())


async def test_lost_lease_cancels_the_run(database):
    await _seed(database)
    settings = load_settings(env_file=None, lease_ttl_seconds=5)
    blocked = FaultyDatabase(database)
    blocked.blocker = asyncio.Event()
    service = SyncService(blocked, settings, owner="replica-a")
    run_id = await service.start(Trigger.SCHEDULE, SOME_CARDS)
    await _wait_for(lambda: service.running)

    # Another replica takes the lease as if replica-a's had expired.
    thief = LeaseStore(database, "replica-b", timedelta(seconds=60))
    await database[LEASES].update_one({"_id": "sync"}, {"$set": {"expiresAt": T0}})
    assert await thief.acquire(datetime.now(timezone.utc)) is not None
    await _wait_for(lambda: not service.running, timeout_s=10)

    record = await database[SYNC_RUNS].find_one({"runId": run_id})
    assert record["status"] == "cancelled"
    assert "lease was lost" in record["error"]
    assert await _cards(database) == {}


async def test_lease_released_after_run(database):
    await _seed(database)
    service = SyncService(database, SETTINGS, clock=_clock(T0), owner="replica-a")
    await service.run(Trigger.CLI, SOME_CARDS)

    lease = await database[LEASES].find_one({"_id": "sync"})
    assert lease["expiresAt"] <= T0
    again = await SyncService(database, SETTINGS, clock=_clock(T0), owner="replica-b").run(Trigger.CLI, SOME_CARDS)
    assert again.status is RunStatus.SUCCEEDED


async def test_outage_mid_run_keeps_good_cards(database):
    await _seed(database)
    good_run = await SyncService(database, SETTINGS, clock=_clock(T0), owner="a").run(Trigger.CLI, SOME_CARDS)
    good = await _cards(database)
    outage = SwitchableDatabase(database)
    failing = FaultyDatabase(outage)
    failing.blocker = asyncio.Event()
    service = SyncService(failing, SETTINGS, clock=_clock(T0 + timedelta(minutes=15)), owner="a")

    task = asyncio.create_task(service.run_unless_busy(Trigger.SCHEDULE))
    await _wait_for(lambda: service.running)
    outage.down = True
    failing.blocker.set()
    result = await task
    outage.down = False

    assert result is None or result.status is not RunStatus.SUCCEEDED
    assert await _cards(database) == good
    assert all(card["runId"] == good_run.run_id for card in good.values())
    assert service.health.is_failing("database")


async def test_database_failure_logged_once_and_recovery_once(database, caplog):
    await _seed(database)
    outage = SwitchableDatabase(database)
    service = SyncService(outage, SETTINGS, clock=_clock(T0), owner="a")
    outage.down = True

    with caplog.at_level("INFO", logger="analytics_service.sourcehealth"):
        for _ in range(3):
            assert await service.run_unless_busy(Trigger.SCHEDULE) is None
        outage.down = False
        await service.run_unless_busy(Trigger.SCHEDULE)
        await service.run_unless_busy(Trigger.SCHEDULE)

    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    recoveries = [record for record in caplog.records if "recovered" in record.getMessage()]
    assert len(errors) == 1
    assert len(recoveries) == 1


@pytest.fixture
async def outage_app(aiohttp_client):
    engine = EmbeddedMongoClient()
    outage = SwitchableDatabase(engine["news"])
    outage.down = True
    app = create_app(SETTINGS, storage=Storage(engine, outage, embedded=True), scheduler=True)
    client = await aiohttp_client(app)
    yield client, outage
    await engine.close()


async def test_service_starts_while_database_down(outage_app):
    client, outage = outage_app

    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert health.status == 200
    assert ready.status == 503
    assert "database" in (await ready.json())["failed"]


async def test_reads_during_outage_answer_503(outage_app):
    client, outage = outage_app
    token = mint_token(SECRET, "machine", datetime.now(timezone.utc), timedelta(hours=1), ["analytics.read"])

    response = await client.get("/api/v1/analytics/kpis", headers={"Authorization": f"Bearer {token}"})

    assert response.status == 503
    assert (await response.json())["error"]["code"] == "database_unavailable"


async def test_service_recovers_when_database_returns(outage_app):
    client, outage = outage_app
    outage.down = False

    await _wait_for_ready(client)

    indexes = await outage["kpi_card_data"].index_information()
    assert "analytics_card_id" in indexes


async def _wait_for_ready(client, timeout_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while (await client.get("/readyz")).status != 200:
        if loop.time() > deadline:
            raise AssertionError("service did not become ready")
        await asyncio.sleep(0.1)


async def test_shutdown_cancels_running_sync_and_releases_lease(aiohttp_server):
    engine = EmbeddedMongoClient()
    database = engine["news"]
    await _seed(database)
    blocked = FaultyDatabase(database)
    blocked.blocker = asyncio.Event()
    app = create_app(SETTINGS, storage=Storage(engine, blocked, embedded=True), scheduler=True)
    server = await aiohttp_server(app)
    await _wait_for(lambda: app[_service_key()].running)
    await _wait_for_record(database)

    loop = asyncio.get_running_loop()
    started = loop.time()
    await server.close()
    elapsed = loop.time() - started

    record = await database[SYNC_RUNS].find_one({})
    lease = await database[LEASES].find_one({"_id": "sync"})
    assert record["status"] == "cancelled"
    assert lease["expiresAt"] <= datetime.now(timezone.utc)
    assert elapsed < SETTINGS.shutdown_grace_seconds
    assert await _cards(database) == {}
    await engine.close()


async def _wait_for_record(database, timeout_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await database[SYNC_RUNS].count_documents({}):  # noqa: ASYNC110 - polls the database
        if loop.time() > deadline:
            raise AssertionError("no run record appeared")
        await asyncio.sleep(0.01)


def _service_key():
    from analytics_service.api.keys import SYNC_SERVICE

    return SYNC_SERVICE


async def test_malformed_documents_are_counted_not_fatal(database):
    await _seed(database)
    await database["users"].insert_many([
        {"createdAt": 20260101, "isAnonymous": False},
        {"isAnonymous": False},
        {"createdAt": "yesterday", "isAnonymous": "no"},
        {"createdAt": "2026-06-10 10:00:00", "tier": 7},
        {"createdAt": ["2026-06-10T10:00:00Z"]},
    ])
    await database["user_content_preferences"].insert_many([
        {"followedSources": "not a list"},
        {"followedSources": [{"id": 5}, "plain", None, {"name": "no id"}]},
    ])
    await database["user_rewards"].insert_many([{"activeRewards": ["adFree"]}, {"activeRewards": None}])
    await database["media_assets"].insert_many([
        {"createdAt": "2026-06-10T10:00:00Z", "updatedAt": "soon", "status": "completed"},
        {"createdAt": "2026-06-10T10:00:00Z", "updatedAt": "2026-06-10T09:00:00Z", "status": "completed"},
    ])

    result = await SyncService(database, SETTINGS, clock=_clock(T0), owner="a").run(Trigger.CLI)

    assert result.status is RunStatus.SUCCEEDED
    by_id = {outcome.card_id: outcome for outcome in result.outcomes}
    assert by_id["usersNewRegistrations"].skipped_documents == 5
    assert by_id["contentSourcesTotalFollowers"].skipped_documents == 1
    assert by_id["mediaAverageUploadTime"].skipped_documents == 2
    stored = await _cards(database)
    assert stored["usersNewRegistrations"]["timeFrames"]["day"]["value"] == 1
    assert stored["mediaAverageUploadTime"]["unavailable"]["day"]
