"""Incremental refresh: cards computed from updated rollups equal a full recompute."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure

from analytics_service.catalogue import ALL_CARDS, CardKind
from analytics_service.rollups.specs import spec_for
from analytics_service.rollups.store import ROLLUP_STATE, ROLLUPS
from analytics_service.storage.cards import read_cards
from analytics_service.storage.indexes import SYNC_RUNS
from analytics_service.sync.runner import RunStatus, Trigger, run_sync
from analytics_service.timeframes import format_timestamp
from tests.conftest import SEED_NOW, insert_dataset
from tests.faults import FaultyDatabase

ROLLUP_CARDS = [card for card in ALL_CARDS if not card.needs_provider and spec_for(card.source) is not None]
ROLLUP_COLLECTIONS = sorted({card.source.collection for card in ROLLUP_CARDS})
EARLIER = SEED_NOW - timedelta(days=2)
UPDATE_WINDOW = timedelta(days=3)
VOLATILE = {"_id", "computedAt", "runId", "fencingToken"}


def _sample(demo_documents) -> dict[str, list[dict]]:
    """Every fifth document of the collections that rollup cards read, dated up to EARLIER."""
    sample = {}
    for collection in ROLLUP_COLLECTIONS:
        every_fifth = []
        for position, document in enumerate(demo_documents.get(collection, [])):
            if position % 5:
                continue
            every_fifth.append(dict(document))
        sample[collection] = every_fifth
    return sample


async def _sync(database, now, tz, rebuild=False, window=UPDATE_WINDOW):
    result = await run_sync(database, now=now, tz=tz, trigger=Trigger.CLI, clock=lambda: now,
                            cards=ROLLUP_CARDS, rebuild=rebuild, update_window=window)
    failed = [(outcome.card_id, outcome.error) for outcome in result.failed_cards]
    assert not failed, failed
    return result


async def _cards(database) -> dict[str, dict]:
    stored = {}
    for kind in CardKind:
        for card_id, document in (await read_cards(database, kind)).items():
            stored[card_id] = {key: value for key, value in document.items() if key not in VOLATILE}
    return stored


def _created(document) -> datetime | None:
    value = document.get("createdAt")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str) and value[:4].isdigit():
        try:
            return datetime.fromisoformat(value.removesuffix("Z")[:19]).replace(tzinfo=timezone.utc)
        except ValueError:
            return None
    return None


async def _recent_ids(database, collection: str, since: datetime, until: datetime) -> list:
    ids = []
    async for document in database[collection].find({}, {"createdAt": 1}):
        moment = _created(document)
        if moment is not None and since <= moment < until:
            ids.append(document["_id"])
    return sorted(ids, key=str)


async def _change_sources(database, rng: random.Random) -> None:
    """Inserts, late updates inside the update window, and deletes, across the rollup collections."""
    since = SEED_NOW - UPDATE_WINDOW + timedelta(hours=1)

    # Inserts dated after the first run, and late ones dated before it but inside the window.
    for offset_minutes in range(0, 4 * 24 * 60, 97):
        moment = since + timedelta(minutes=offset_minutes, seconds=rng.randrange(60))
        if moment >= SEED_NOW:
            break
        await database["users"].insert_one({
            "_id": ObjectId(), "createdAt": format_timestamp(moment), "tier": rng.choice(["standard", "premium"]),
            "isAnonymous": rng.random() < 0.3,
        })
        await database["app_reviews"].insert_one({
            "_id": ObjectId(), "createdAt": moment if rng.random() < 0.2 else format_timestamp(moment),
            "feedback": rng.choice(["positive", "negative"]), "storeReviewRequested": rng.random() < 0.5,
        })
        await database["engagements"].insert_one({
            "_id": ObjectId(), "createdAt": format_timestamp(moment), "entityType": "headline",
            "entityId": str(ObjectId()), "userId": str(ObjectId()),
            "reaction": {"reactionType": rng.choice(["like", "insightful", "sad"])},
        })

    # Late updates inside the window: a changed category, a moved timestamp, a changed filter field.
    for collection in ("users", "headlines", "engagements", "reports", "media_assets"):
        recent = await _recent_ids(database, collection, since, SEED_NOW)
        for document_id in recent[::7]:
            moment = since + timedelta(minutes=rng.randrange(int(UPDATE_WINDOW.total_seconds() // 60) - 120))
            await database[collection].update_one({"_id": document_id}, {"$set": {
                "createdAt": format_timestamp(moment), "status": rng.choice(["completed", "failed", "resolved"]),
                "tier": "premium",
            }})
        # Deletes inside the window.
        for document_id in recent[3::11]:
            await database[collection].delete_one({"_id": document_id})


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kathmandu", "America/New_York"])
async def test_incremental_refresh_equals_full_recompute(database, demo_documents, zone):
    tz = ZoneInfo(zone)
    await insert_dataset(database, _sample(demo_documents))

    first = await _sync(database, EARLIER, tz)
    assert {group["mode"] for group in first.rollups.values()} == {"full"}

    await _change_sources(database, random.Random(7))
    incremental = await _sync(database, SEED_NOW, tz)
    assert {group["mode"] for group in incremental.rollups.values()} == {"incremental"}
    incremental_cards = await _cards(database)

    rebuilt = await _sync(database, SEED_NOW, tz, rebuild=True)
    assert {group["mode"] for group in rebuilt.rollups.values()} == {"full"}
    rebuilt_cards = await _cards(database)

    assert incremental_cards.keys() == rebuilt_cards.keys()
    differing = [card_id for card_id in rebuilt_cards if incremental_cards[card_id] != rebuilt_cards[card_id]]
    assert not differing, differing


async def test_incremental_run_starts_at_the_update_window(database, demo_documents):
    await insert_dataset(database, _sample(demo_documents))
    await _sync(database, EARLIER, timezone.utc)
    result = await _sync(database, SEED_NOW, timezone.utc)

    # The previous run (two days ago) is inside the window, so the window's start wins.
    expected = (SEED_NOW - UPDATE_WINDOW).replace(minute=0, second=0).isoformat()
    assert {group["from"] for group in result.rollups.values()} == {expected}
    record = await database[SYNC_RUNS].find_one({"runId": result.run_id})
    assert record["rollups"] == result.rollups


async def test_refresh_after_long_pause_starts_at_last_build(database, demo_documents):
    await insert_dataset(database, _sample(demo_documents))
    long_ago = SEED_NOW - timedelta(days=10, minutes=20)
    await _sync(database, long_ago, timezone.utc)
    result = await _sync(database, SEED_NOW, timezone.utc)

    expected = long_ago.replace(minute=0, second=0).isoformat()
    assert {group["from"] for group in result.rollups.values()} == {expected}


async def test_refresh_ignores_changes_before_window(database):
    old = SEED_NOW - timedelta(days=20)
    await database["users"].insert_many([
        {"_id": ObjectId(), "createdAt": format_timestamp(old + timedelta(minutes=minute)), "tier": "standard",
         "isAnonymous": False}
        for minute in range(5)
    ])
    await _sync(database, EARLIER, timezone.utc)
    await database["users"].delete_one({})

    await _sync(database, SEED_NOW, timezone.utc)
    month = (await _cards(database))["usersNewRegistrations"]["timeFrames"]["month"]
    assert month["value"] == 5

    await _sync(database, SEED_NOW, timezone.utc, rebuild=True)
    month = (await _cards(database))["usersNewRegistrations"]["timeFrames"]["month"]
    assert month["value"] == 4


async def test_refresh_rebuilds_half_written_group(database, demo_documents):
    await insert_dataset(database, _sample(demo_documents))
    await _sync(database, EARLIER, timezone.utc)
    before = await _cards(database)

    # A run that stopped between deleting and inserting pieces leaves its group dirty.
    await database[ROLLUP_STATE].update_one({"_id": "users:createdAt"}, {"$set": {"dirty": True}})
    await database[ROLLUPS].delete_many({"group": "users:createdAt"})
    result = await _sync(database, EARLIER, timezone.utc)

    assert result.rollups["users:createdAt"]["mode"] == "full"
    assert result.rollups["app_reviews:createdAt"]["mode"] == "incremental"
    assert await _cards(database) == before


async def test_refresh_reports_malformed_from_last_rebuild(database):
    await database["users"].insert_many([
        {"_id": ObjectId(), "createdAt": format_timestamp(EARLIER - timedelta(hours=2)), "tier": "standard"},
        {"_id": ObjectId(), "createdAt": "yesterday", "tier": "standard"},
        {"_id": ObjectId(), "tier": "standard"},
    ])
    await _sync(database, EARLIER, timezone.utc)
    await database["users"].insert_one({"_id": ObjectId(), "createdAt": 12345})

    await _sync(database, SEED_NOW, timezone.utc)
    card = (await _cards(database))["usersNewRegistrations"]
    assert card["skippedDocuments"]["count"] == 2

    await _sync(database, SEED_NOW, timezone.utc, rebuild=True)
    card = (await _cards(database))["usersNewRegistrations"]
    assert card["skippedDocuments"]["count"] == 3
    assert card["skippedDocuments"]["reason"] == "missing or malformed createdAt"


async def test_failed_refresh_keeps_cards_and_the_previous_rollups(database, demo_documents):
    await insert_dataset(database, _sample(demo_documents))
    await _sync(database, EARLIER, timezone.utc)
    before = await _cards(database)
    pieces_before = await database[ROLLUPS].count_documents({"group": "users:createdAt"})

    faulty = FaultyDatabase(database)
    faulty.failing_aggregations["users"] = OperationFailure("users unreadable", code=13)
    result = await run_sync(faulty, now=SEED_NOW, tz=timezone.utc, trigger=Trigger.CLI, clock=lambda: SEED_NOW,
                            cards=ROLLUP_CARDS)
    assert result.status is RunStatus.PARTIAL
    assert result.rollups["users:createdAt"]["error"]
    failed = {outcome.card_id for outcome in result.failed_cards}
    assert failed and all(card_id.startswith("users") for card_id in failed)
    after = await _cards(database)
    assert all(after[card_id] == before[card_id] for card_id in failed)
    assert await database[ROLLUPS].count_documents({"group": "users:createdAt"}) == pieces_before
