"""Sync runs: failures stay with their cards, good cards survive, runs are recorded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pymongo.errors import OperationFailure

from analytics_service.catalogue import ALL_CARDS, CardKind, cards_of_kind
from analytics_service.catalogue.sources import HeadlineEngagement, MostLikedHeadlines, WindowMeanDuration
from analytics_service.rollups.specs import spec_for
from analytics_service.storage.indexes import SYNC_RUNS, ensure_indexes
from analytics_service.sync.runner import RunStatus, Trigger, run_sync
from tests.faults import FaultyDatabase

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=timezone.utc)
UTC = ZoneInfo("UTC")
REPORT_CARDS = {card.id for card in ALL_CARDS if getattr(card.source, "collection", None) == "reports"}


def _sample_documents() -> dict[str, list[dict]]:
    recent = (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    older = (NOW - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "users": [
            {"createdAt": recent, "isAnonymous": False, "role": "user", "tier": "standard"},
            {"createdAt": older, "isAnonymous": True, "role": "user", "tier": "guest"},
        ],
        "reports": [
            {"createdAt": recent, "status": "pendingReview", "reason": "spamOrAdvertising"},
            {"createdAt": older, "status": "resolved", "reason": "misinformationOrFakeNews"},
        ],
    }


async def _seed(database) -> None:
    for collection, documents in _sample_documents().items():
        await database[collection].insert_many(documents)


async def _sync(database, now=NOW, trigger=Trigger.CLI):
    return await run_sync(database, now=now, tz=UTC, trigger=trigger, clock=lambda: now)


async def _card(database, kind: CardKind, card_id: str) -> dict:
    return await database[kind.collection].find_one({"cardId": card_id}, {"_id": 0})


async def test_every_card_refreshed_on_empty_database(database):
    result = await _sync(database)
    assert result.status is RunStatus.SUCCEEDED
    assert [outcome.card_id for outcome in result.outcomes] == [card.id for card in ALL_CARDS]
    for kind in CardKind:
        assert await database[kind.collection].count_documents({}) == len(cards_of_kind(kind))


async def test_empty_collection_makes_cards_unavailable(database):
    await _sync(database)
    card = await _card(database, CardKind.KPI, "usersNewRegistrations")
    assert card["timeFrames"] == {}
    assert card["status"] == "unavailable"
    assert "users collection has no documents" in card["unavailable"]["day"]


async def test_no_documents_in_window_counts_zero(database):
    await database["users"].insert_one({"createdAt": "2020-01-01T00:00:00Z", "isAnonymous": False})
    await _sync(database)
    card = await _card(database, CardKind.KPI, "usersNewRegistrations")
    assert card["timeFrames"]["day"]["value"] == 0
    assert card["timeFrames"]["day"]["trend"] == "n/a"
    assert card["unavailable"] == {}


async def test_failed_aggregation_fails_only_its_cards(database):
    await _seed(database)
    await _sync(database)
    faulty = FaultyDatabase(database)
    faulty.failing_aggregations["reports"] = OperationFailure("simulated failure")

    result = await _sync(faulty, now=NOW + timedelta(minutes=15))

    failed = {outcome.card_id for outcome in result.failed_cards}
    assert failed == REPORT_CARDS
    assert result.status is RunStatus.PARTIAL
    assert all("simulated failure" in outcome.error for outcome in result.failed_cards)


async def test_failed_card_keeps_last_good_document(database):
    await _seed(database)
    first = await _sync(database)
    good = await _card(database, CardKind.KPI, "engagementsReportsPending")
    faulty = FaultyDatabase(database)
    faulty.failing_aggregations["reports"] = OperationFailure("simulated failure")

    second = await _sync(faulty, now=NOW + timedelta(minutes=15))

    kept = await _card(database, CardKind.KPI, "engagementsReportsPending")
    assert kept == good
    assert kept["runId"] == first.run_id
    refreshed = await _card(database, CardKind.KPI, "usersNewRegistrations")
    assert refreshed["runId"] == second.run_id


async def test_malformed_facet_result_fails_cards_not_run(database):
    await _seed(database)
    faulty = FaultyDatabase(database)
    faulty.empty_aggregations.add("users")

    result = await _sync(faulty)

    failed = {outcome.card_id for outcome in result.failed_cards}
    assert "usersNewRegistrations" in failed
    assert "engagementsReportsPending" not in failed
    assert all("expected 1" in outcome.error for outcome in result.failed_cards)


async def test_failed_write_keeps_previous_cards_of_that_kind(database):
    await _seed(database)
    first = await _sync(database)
    faulty = FaultyDatabase(database)
    faulty.failing_writes["kpi_card_data"] = OperationFailure("write rejected")

    result = await _sync(faulty, now=NOW + timedelta(minutes=15))

    failed = {outcome.card_id for outcome in result.failed_cards}
    assert failed == {card.id for card in cards_of_kind(CardKind.KPI)}
    kpi = await _card(database, CardKind.KPI, "usersNewRegistrations")
    assert kpi["runId"] == first.run_id
    chart = await _card(database, CardKind.CHART, "usersRegistrationsOverTime")
    assert chart["runId"] == result.run_id


async def test_run_record_lists_every_card_outcome(database):
    await _seed(database)
    faulty = FaultyDatabase(database)
    faulty.failing_aggregations["reports"] = OperationFailure("simulated failure")

    result = await _sync(faulty, trigger=Trigger.SCHEDULE)

    record = await database[SYNC_RUNS].find_one({"runId": result.run_id})
    assert record["trigger"] == "schedule"
    assert record["status"] == "partial"
    assert record["startedAt"].endswith("Z")
    assert record["finishedAt"].endswith("Z")
    assert len(record["cards"]) == len(ALL_CARDS)
    by_id = {entry["cardId"]: entry for entry in record["cards"]}
    assert by_id["engagementsReportsPending"]["status"] == "failed"
    assert "simulated failure" in by_id["engagementsReportsPending"]["error"]
    assert by_id["usersNewRegistrations"]["status"] == "refreshed"
    assert record["queries"]["roundTrips"] == result.stats["roundTrips"]


async def test_every_aggregation_fails_run_failed(database):
    faulty = FaultyDatabase(database)
    for collection in ("users", "headlines", "engagements", "reports", "app_reviews", "sources", "topics",
                       "persons", "media_assets", "news_automation_tasks", "ingestion_usage",
                       "user_content_preferences", "user_rewards"):
        faulty.failing_aggregations[collection] = OperationFailure("down")

    result = await _sync(faulty)

    assert result.status is RunStatus.PARTIAL  # unavailable-by-design cards still refresh
    refreshed = {outcome.card_id for outcome in result.outcomes if outcome.status == "refreshed"}
    assert "engagementsReportsAverageResolutionTime" in refreshed
    assert "usersNewRegistrations" not in refreshed


def _expected_aggregations() -> int:
    """One facet per collection with direct branches, one refresh per rollup source group, one rollup sum.

    Upload durations and per-headline engagement run aggregations of their own, counted
    by the tests; the rollup refresh of their collection finds whether it is empty.
    """
    database_cards = [card for card in ALL_CARDS if not card.needs_provider
                      and getattr(card.source, "collection", None) is not None]
    own_aggregation = (WindowMeanDuration, HeadlineEngagement, MostLikedHeadlines)
    faceted = {card.source.collection for card in database_cards
               if spec_for(card.source) is None and not isinstance(card.source, own_aggregation)}
    rollup_groups = {(spec.collection, spec.time_field) for spec in map(spec_for, (card.source for card in database_cards))
                     if spec is not None}
    return len(faceted) + len(rollup_groups) + 1


async def test_one_aggregation_per_source_collection(database):
    await _seed(database)
    await database["engagements"].insert_one({"createdAt": "2026-06-10T10:00:00Z", "entityType": "headline",
                                              "entityId": "6643b1b7a4a4e6e1a8e7b1a0", "reaction": None})
    await database["media_assets"].insert_one({"createdAt": "2026-06-10T10:00:00Z", "status": "completed"})
    result = await _sync(database)
    # Per-headline engagement and upload durations each need one aggregation of their own.
    assert result.stats["aggregations"] == _expected_aggregations() + 2


async def test_empty_collections_skip_follow_up_queries(database):
    await _seed(database)
    result = await _sync(database)
    assert result.stats["aggregations"] == _expected_aggregations()


async def test_repeated_runs_keep_one_document_per_card(database):
    await ensure_indexes(database)
    await _seed(database)
    await _sync(database)
    await _sync(database, now=NOW + timedelta(minutes=15))
    for kind in CardKind:
        assert await database[kind.collection].count_documents({}) == len(cards_of_kind(kind))


async def test_ensure_indexes_is_repeatable(database):
    await ensure_indexes(database)
    await ensure_indexes(database)
    info = await database["kpi_card_data"].index_information()
    assert info["analytics_card_id"]["unique"] is True


async def test_unique_card_id_rejects_duplicate(database):
    await ensure_indexes(database)
    await database["kpi_card_data"].insert_one({"cardId": "usersNewRegistrations"})
    with pytest.raises(Exception) as raised:
        await database["kpi_card_data"].insert_one({"cardId": "usersNewRegistrations"})
    assert "duplicate" in str(raised.value).lower()
