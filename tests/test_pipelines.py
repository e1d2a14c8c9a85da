"""Stored cards of a full sync compared with the plain-Python reference in ``tests.reference``.

The demo dataset is inserted and synced once per engine and time zone, the slow step of
this file. Every database-backed card is then compared frame by frame with the reference.
America/New_York puts DST changes inside the year's windows and daily series, and
Asia/Kathmandu (UTC+05:45) starts its hours and days at a quarter to the UTC hour. The smaller
tests below insert a handful of documents of their own.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from bson import ObjectId
from pymongo import AsyncMongoClient

from analytics_service.catalogue import ALL_CARDS, Card, CardKind, ChartType
from analytics_service.catalogue.sources import DatabaseSource, Unavailable
from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.sync.runner import SyncResult, Trigger, run_sync
from analytics_service.timeframes import TimeFrame, frame_windows
from tests import reference
from tests.conftest import ENGINES, SEED_NOW, TEST_MONGODB_URI, insert_dataset

TIME_ZONES = ("UTC", "America/New_York", "Asia/Kathmandu")
SYNC_CASES = [(engine, zone) for engine in ENGINES for zone in TIME_ZONES]

DATABASE_CARDS = [card for card in ALL_CARDS if isinstance(card.source, DatabaseSource)]
DATABASE_CARD_IDS = [card.id for card in DATABASE_CARDS]
CARDS_BY_ID = {card.id: card for card in ALL_CARDS}
DASHBOARD_LANGUAGES = {"en", "es", "fr", "ar", "pt", "de", "it", "zh", "hi", "ja"}

# The service rounds mean durations to 3 decimals. Counts are integers and must match exactly.
VALUE_TOLERANCE = 1e-3
# How many differing entries a mismatch message lists.
MAX_LISTED_DIFFERENCES = 5

REPORT_CARDS = [card for card in ALL_CARDS if getattr(card.source, "collection", None) == "reports"]
WINDOWED_REPORT_CARD_IDS = (
    "engagementsReportsResolved", "engagementsReportsSubmittedOverTime", "engagementsReportsByReason",
)
REWARD_CARDS = [CARDS_BY_ID["rewardsActiveUsersCount"], CARDS_BY_ID["rewardsActiveByType"]]


@dataclass(frozen=True)
class SyncedRun:
    time_zone: str
    result: SyncResult
    stored: dict[str, dict[str, Any]]
    expected: dict[str, reference.CardExpectation]


@asynccontextmanager
async def open_database(engine: str) -> AsyncIterator[Any]:
    """Open an empty database on ``engine``, as the ``database`` fixture does, for a wider scope."""
    if engine == "embedded":
        client = EmbeddedMongoClient()
        try:
            yield client["news_test"]
        finally:
            await client.close()
        return
    client = AsyncMongoClient(TEST_MONGODB_URI, tz_aware=True, serverSelectionTimeoutMS=5000)
    name = f"analytics_test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def read_stored_cards(database: Any) -> dict[str, dict[str, Any]]:
    """Return every stored card document of the three card collections, keyed by card id."""
    stored = {}
    for kind in CardKind:
        async for document in database[kind.collection].find({}, {"_id": 0}):
            stored[document["cardId"]] = document
    return stored


async def sync_once(database: Any, zone: str, cards: list[Card]) -> dict[str, dict[str, Any]]:
    """Sync ``cards`` as of SEED_NOW, check that none failed and return the stored cards."""
    result = await run_sync(
        database, now=SEED_NOW, tz=ZoneInfo(zone), trigger=Trigger.CLI, clock=lambda: SEED_NOW, cards=cards
    )
    failed = [(outcome.card_id, outcome.error) for outcome in result.failed_cards]
    assert failed == []
    return await read_stored_cards(database)


@pytest_asyncio.fixture(
    scope="module", loop_scope="module", params=SYNC_CASES, ids=[f"{engine}-{zone}" for engine, zone in SYNC_CASES]
)
async def synced_run(request, demo_documents) -> SyncedRun:
    """The demo dataset synced once for this engine and time zone, with the reference's values."""
    engine, zone = request.param
    async with open_database(engine) as database:
        await insert_dataset(database, demo_documents)
        result = await run_sync(
            database, now=SEED_NOW, tz=ZoneInfo(zone), trigger=Trigger.CLI, clock=lambda: SEED_NOW
        )
        stored = await read_stored_cards(database)
    expected = reference.expected_cards(demo_documents, SEED_NOW, ZoneInfo(zone))
    return SyncedRun(zone, result, stored, expected)


# Comparison of one stored card with its expected frames. Each function returns one line
# per mismatch, so a failing card lists every wrong frame at once.


def list_differences(name: str, stored: list[Any], expected: list[Any]) -> list[str]:
    if stored == expected:
        return []
    if len(stored) != len(expected):
        return [f"{name}: {len(stored)} entries stored, {len(expected)} expected\n"
                f"  stored:   {stored[:20]}\n  expected: {expected[:20]}"]
    differing = [(position, got, want) for position, (got, want) in enumerate(zip(stored, expected, strict=True))
                 if got != want]
    listed = "; ".join(
        f"#{position} stored {got}, expected {want}" for position, got, want in differing[:MAX_LISTED_DIFFERENCES]
    )
    return [f"{name}: {len(differing)} of {len(expected)} entries differ: {listed}"]


def expected_trend(value: float, previous: float | None) -> str:
    """Format the percent change as the dashboard shows it, or "n/a" without a previous value to compare with."""
    if previous is None or previous == 0:
        return "n/a"
    change = round((value - previous) / abs(previous) * 100, 1)
    return f"{change + 0.0:+.1f}%"


def numbers_match(stored: object, expected: float | None) -> bool:
    if expected is None or stored is None:
        return stored is None and expected is None
    if not isinstance(stored, (int, float)) or isinstance(stored, bool):
        return False
    return math.isclose(stored, expected, abs_tol=VALUE_TOLERANCE)


def frame_presence_mismatches(document: dict[str, Any], frame: str, expect_data: bool) -> list[str]:
    """Check that a frame is either in ``timeFrames`` or listed with a reason in ``unavailable``."""
    stored_frame = document["timeFrames"].get(frame)
    reason = document["unavailable"].get(frame)
    if expect_data and stored_frame is None:
        return [f"{frame}: expected data, stored as unavailable: {reason!r}"]
    if expect_data and reason is not None:
        return [f"{frame}: has data but is also listed as unavailable: {reason!r}"]
    if not expect_data and stored_frame is not None:
        return [f"{frame}: expected unavailable, stored {stored_frame}"]
    if not expect_data and not (isinstance(reason, str) and reason):
        return [f"{frame}: unavailable without a reason, stored {reason!r}"]
    return []


def kpi_mismatches(document: dict[str, Any], expected: reference.CardExpectation) -> list[str]:
    problems = []
    for frame, want in expected.items():
        has_data = not isinstance(want, reference.NoData)
        presence = frame_presence_mismatches(document, frame, has_data)
        problems += presence
        if presence or not has_data:
            continue
        stored = document["timeFrames"][frame]
        if not numbers_match(stored["value"], want.value):
            problems.append(f"{frame}: value {stored['value']!r}, expected {want.value!r}")
        if not numbers_match(stored["previous"], want.previous):
            problems.append(f"{frame}: previous {stored['previous']!r}, expected {want.previous!r}")
        trend = expected_trend(stored["value"], stored["previous"])
        if stored["trend"] != trend:
            problems.append(f"{frame}: trend {stored['trend']!r}, expected {trend!r}")
    return problems


def chart_mismatches(document: dict[str, Any], expected: reference.CardExpectation) -> list[str]:
    is_line = CARDS_BY_ID[document["cardId"]].chart_type is ChartType.LINE
    problems = []
    for frame, want in expected.items():
        presence = frame_presence_mismatches(document, frame, expect_data=True)
        problems += presence
        if presence:
            continue
        points = document["timeFrames"][frame]
        if is_line:
            stored_values = [(point["timestamp"], point["value"]) for point in points]
            expected_values = [(item.timestamp, item.value) for item in want]
            problems += list_differences(f"{frame} points (timestamp, value)", stored_values, expected_values)
            continue
        stored_bars = [(point.get("key"), point["value"]) for point in points]
        problems += list_differences(f"{frame} bars (key, value)", stored_bars, [(bar.key, bar.value) for bar in want])
        stored_labels = [(point.get("key"), (point.get("label") or {}).get("en")) for point in points]
        problems += list_differences(
            f"{frame} bar labels (key, en)", stored_labels, [(bar.key, bar.label_en) for bar in want]
        )
    return problems


def ranked_mismatches(document: dict[str, Any], expected: reference.CardExpectation) -> list[str]:
    problems = []
    for frame, want in expected.items():
        presence = frame_presence_mismatches(document, frame, expect_data=True)
        problems += presence
        if presence:
            continue
        rows = document["timeFrames"][frame]
        stored_rows = [(row["entityId"], row["metricValue"]) for row in rows]
        problems += list_differences(
            f"{frame} rows (entityId, metricValue)", stored_rows, [(entry.entity_id, entry.value) for entry in want]
        )
        stored_titles = [(row["entityId"], row["displayTitle"].get("en")) for row in rows]
        problems += list_differences(
            f"{frame} titles (entityId, en)", stored_titles, [(entry.entity_id, entry.title_en) for entry in want]
        )
    return problems


def card_mismatches(document: dict[str, Any], expected: reference.CardExpectation) -> list[str]:
    kind = CARDS_BY_ID[document["cardId"]].kind
    if kind is CardKind.KPI:
        return kpi_mismatches(document, expected)
    if kind is CardKind.CHART:
        return chart_mismatches(document, expected)
    return ranked_mismatches(document, expected)


def label_maps(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Yield (where, map) for the card label and every point label and row title of a stored card."""
    yield "label", document["label"]
    for frame, entries in document["timeFrames"].items():
        if not isinstance(entries, list):
            continue
        for position, entry in enumerate(entries):
            if "displayTitle" in entry:
                yield f"{frame}[{position}].displayTitle", entry["displayTitle"]
            elif entry.get("label") is not None:
                yield f"{frame}[{position}].label", entry["label"]


# Tests on the demo dataset, synced once per engine and time zone.


def test_reference_covers_every_database_card():
    assert sorted(reference.CARD_RULES) == sorted(DATABASE_CARD_IDS)


def test_sync_stores_every_database_card(synced_run):
    failed = [(outcome.card_id, outcome.error) for outcome in synced_run.result.failed_cards
              if outcome.card_id in DATABASE_CARD_IDS]
    assert failed == []
    missing = [card_id for card_id in DATABASE_CARD_IDS if card_id not in synced_run.stored]
    assert missing == []


@pytest.mark.parametrize("card_id", DATABASE_CARD_IDS)
def test_card_matches_reference(synced_run, card_id):
    document = synced_run.stored[card_id]
    problems = card_mismatches(document, synced_run.expected[card_id])
    assert not problems, f"{card_id} in {synced_run.time_zone}:\n" + "\n".join(problems)


def test_unavailable_cards_store_reasons(synced_run):
    for card in ALL_CARDS:
        if not isinstance(card.source, Unavailable):
            continue
        document = synced_run.stored[card.id]
        assert document["timeFrames"] == {}, card.id
        assert sorted(document["unavailable"]) == sorted(str(frame) for frame in card.frames), card.id
        assert all(isinstance(reason, str) and reason for reason in document["unavailable"].values()), card.id
        assert document["status"] == "unavailable", card.id


def test_chart_points_have_timestamp_or_label(synced_run):
    charts = [document for document in synced_run.stored.values() if document.get("kind") == CardKind.CHART]
    assert charts
    for chart in charts:
        for frame, points in chart["timeFrames"].items():
            for position, point in enumerate(points):
                where = f"{chart['cardId']} {frame}[{position}]: {point}"
                assert (point["timestamp"] is None) != (point["label"] is None), where
                assert isinstance(point["value"], (int, float)) and not isinstance(point["value"], bool), where


def test_line_charts_have_point_per_day(synced_run):
    zone = ZoneInfo(synced_run.time_zone)
    today = SEED_NOW.astimezone(zone).date()
    zero_points = 0
    for card in DATABASE_CARDS:
        if card.chart_type is not ChartType.LINE:
            continue
        for frame in card.frames:
            points = synced_run.stored[card.id]["timeFrames"][str(frame)]
            days = [datetime.fromisoformat(point["timestamp"]).date() for point in points]
            expected_days = [today - timedelta(days=offset) for offset in range(frame.days - 1, -1, -1)]
            assert days == expected_days, f"{card.id} {frame}"
            zero_points += sum(point["value"] == 0 for point in points)
    # Days without documents must still be stored, with value 0.
    assert zero_points > 0


def label_map_problems(stored: dict[str, dict[str, Any]]) -> list[str]:
    """List every label map of the stored cards that the dashboard's parser would reject."""
    problems = []
    for card_id, document in stored.items():
        for where, labels in label_maps(document):
            valid = (
                isinstance(labels, dict)
                and set(labels) <= DASHBOARD_LANGUAGES
                and "en" in labels
                and all(isinstance(text, str) and text for text in labels.values())
            )
            if not valid:
                problems.append(f"{card_id} {where}: {labels!r}")
    return problems


def test_label_maps_use_dashboard_languages(synced_run):
    problems = label_map_problems(synced_run.stored)
    assert not problems, "\n".join(problems)


def test_demo_dataset_has_odd_timestamp_forms(demo_documents):
    """The card comparisons only cover strings without "Z" and BSON dates if the dataset has them."""
    year = frame_windows(TimeFrame.YEAR, SEED_NOW, ZoneInfo("UTC")).current
    in_year = []
    for document in demo_documents["engagements"]:
        moment = reference.read_timestamp(document.get("createdAt"))
        if moment is not None and year.contains(moment):
            in_year.append(document["createdAt"])
    without_z = [value for value in in_year if isinstance(value, str) and not value.endswith("Z")]
    bson_dates = [value for value in in_year if isinstance(value, datetime)]
    assert len(without_z) > 10
    assert len(bson_dates) > 10


# Tests with documents of their own, on the function-scoped ``database`` fixture.

MALFORMED_CREATED_AT = ("2026-13-45", "2026-03-01 10:00:00", 12345, None, "2026-03-01T10:00:00+02:00")


def malformed_reports() -> list[dict[str, Any]]:
    """Build reports that every window would count if their createdAt were valid. None leaves the field out."""
    reports = []
    for index, created_at in enumerate(MALFORMED_CREATED_AT):
        report = {
            "status": "resolved" if index % 2 == 0 else "pendingReview",
            "reason": "misinformationOrFakeNews",
            "entityType": "headline",
            "entityId": "6643b1b7a4a4e6e1a8e7b1f0",
            "reporterUserId": "6643b1b7a4a4e6e1a8e7b1a1",
        }
        if created_at is not None:
            report["createdAt"] = created_at
        reports.append(report)
    return reports


async def test_malformed_report_timestamps_skipped(database, demo_documents):
    documents = {"reports": list(demo_documents["reports"]) + malformed_reports()}
    await insert_dataset(database, documents)

    stored = await sync_once(database, "UTC", cards=REPORT_CARDS)

    expected = reference.expected_cards(documents, SEED_NOW, ZoneInfo("UTC"), [card.id for card in REPORT_CARDS])
    for card_id in WINDOWED_REPORT_CARD_IDS:
        assert stored[card_id]["skippedDocuments"]["count"] == len(MALFORMED_CREATED_AT), card_id
    for card in REPORT_CARDS:
        problems = card_mismatches(stored[card.id], expected[card.id])
        assert not problems, f"{card.id}:\n" + "\n".join(problems)


async def test_reward_expiring_at_now_not_active(database):
    now_text = SEED_NOW.strftime("%Y-%m-%dT%H:%M:%S")
    rewards = [
        {"userId": "expires-at-now", "activeRewards": {"adFree": now_text + "Z"}},
        {"userId": "expires-at-now-fraction", "activeRewards": {"adFree": now_text + ".000Z"}},
        {"userId": "expires-at-now-date", "activeRewards": {"adFree": SEED_NOW}},
        {"userId": "expired", "activeRewards": {"adFree": iso_z(SEED_NOW - timedelta(seconds=1))}},
        {"userId": "active", "activeRewards": {"adFree": iso_z(SEED_NOW + timedelta(seconds=1))}},
    ]
    documents = {"user_rewards": rewards}
    await insert_dataset(database, documents)

    stored = await sync_once(database, "UTC", cards=REWARD_CARDS)

    expected = reference.expected_cards(documents, SEED_NOW, ZoneInfo("UTC"), [card.id for card in REWARD_CARDS])
    assert expected["rewardsActiveUsersCount"][TimeFrame.DAY] == reference.KpiValue(1, None)
    for card in REWARD_CARDS:
        problems = card_mismatches(stored[card.id], expected[card.id])
        assert not problems, f"{card.id}:\n" + "\n".join(problems)


async def test_impossible_calendar_date_is_malformed(database):
    base = {"status": "resolved", "reason": "spamOrAdvertising", "entityType": "comment"}
    documents = {"reports": [
        {**base, "createdAt": "2026-12-01T10:00:00Z"},
        {**base, "createdAt": "2026-11-31T10:00:00Z"},
    ]}
    await insert_dataset(database, documents)

    stored = await sync_once(database, "UTC", cards=REPORT_CARDS)

    card = stored["engagementsReportsResolved"]
    assert card["timeFrames"]["week"]["value"] == 1
    assert card["skippedDocuments"]["count"] == 1


# A small hand-written dataset of the odd cases the demo dataset lacks, synced once per
# engine and time zone and compared card by card like the demo dataset.


def object_id(number: int) -> ObjectId:
    return ObjectId(f"{number:024x}")


def ago(**offset: float) -> datetime:
    return SEED_NOW - timedelta(**offset)


def iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_without_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def bson_date(moment: datetime) -> datetime:
    """Return ``moment`` cut to milliseconds, as a BSON date stores it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


NOW_TEXT = SEED_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
# The current day and week windows start here in every tested time zone, because no DST
# change falls between them and SEED_NOW.
DAY_START_TEXT = ago(days=1).strftime("%Y-%m-%dT%H:%M:%SZ")
WEEK_START_TEXT = ago(days=7).strftime("%Y-%m-%dT%H:%M:%SZ")


def entity_copy(entity: dict[str, Any], *fields: str) -> dict[str, Any]:
    copy = {"id": str(entity["_id"]), "name": entity["name"]}
    copy.update({field: entity[field] for field in fields})
    return copy


def edge_case_documents() -> dict[str, list[dict[str, Any]]]:
    """Build source documents covering odd values, fallbacks, boundaries and joins."""
    sources = [
        {"_id": object_id(1), "createdAt": iso_z(ago(days=400)), "status": "active", "sourceType": "blog",
         "name": {"en": "Blog One", "es": "Blog Uno"}},
        {"_id": object_id(2), "createdAt": iso_without_z(ago(days=3)), "status": "draft", "sourceType": "newsAgency",
         "name": "Plain Agency"},
        {"_id": object_id(3), "createdAt": bson_date(ago(hours=5)), "status": "suspended", "sourceType": "podcast",
         "name": {"en": "Current Podcast Name"}},
        {"_id": object_id(4), "createdAt": "yesterday", "sourceType": "other", "name": {"en": "No Status"}},
    ]
    topics = [
        {"_id": object_id(21), "createdAt": DAY_START_TEXT, "status": "active", "name": {"en": "Politics"}},
        {"_id": object_id(22), "createdAt": iso_z(ago(days=60)), "status": "active", "name": {"fr": "Économie"}},
    ]
    persons = [
        {"_id": object_id(31), "createdAt": iso_z(ago(days=9)), "status": "active", "name": {"en": "", "es": "Ana López"}},
        {"_id": object_id(32), "createdAt": NOW_TEXT, "status": "active", "name": "Ben Chen"},
    ]
    blog, agency, podcast = sources[0], sources[1], sources[2]
    politics, economy = topics
    ana, ben = persons
    headlines = [
        {"_id": object_id(11), "createdAt": iso_z(ago(hours=2)), "status": "active",
         "title": {"en": "Breaking one", "pt-BR": "Urgente", "de": ""},
         "source": entity_copy(blog, "sourceType"), "topic": entity_copy(politics), "isBreaking": True,
         "mentionedPersons": [entity_copy(ana), entity_copy(ben)]},
        # Older copies of the source lack sourceType, which then comes from the source itself.
        {"_id": object_id(12), "createdAt": iso_without_z(ago(days=2)), "status": "active", "title": "Plain title",
         "source": entity_copy(agency), "topic": entity_copy(economy), "isBreaking": False,
         "mentionedPersons": [entity_copy(ana)]},
        {"_id": object_id(13), "createdAt": bson_date(ago(days=10)), "status": "active", "title": {"es": "Solo español"},
         "source": entity_copy(podcast), "mentionedPersons": []},
        {"_id": object_id(14), "createdAt": DAY_START_TEXT, "status": "ingested", "title": {"en": "At day start"},
         "source": {"name": "Copy without id"}, "topic": entity_copy(politics), "isBreaking": False},
        {"_id": object_id(15), "createdAt": "2026-12-01 10:00:00", "status": "draft", "title": {"en": "Malformed"},
         "source": entity_copy(blog, "sourceType"), "topic": entity_copy(politics), "isBreaking": "yes"},
        # A headline imported by another tool, with a string _id.
        {"_id": "headline-with-string-id", "createdAt": iso_z(ago(days=40)), "status": "active",
         "title": {"en": "String id"}, "source": entity_copy(blog, "sourceType"), "topic": entity_copy(economy),
         "isBreaking": False, "mentionedPersons": [entity_copy(ben)]},
        {"_id": object_id(16), "createdAt": NOW_TEXT, "status": "ingested", "title": {"en": "At now"},
         "source": entity_copy(agency, "sourceType"), "topic": entity_copy(economy), "isBreaking": True,
         "mentionedPersons": [entity_copy(ana)]},
        {"_id": object_id(17), "createdAt": iso_z(ago(days=20)), "status": "active", "title": {"en": "Twenty days"},
         "source": entity_copy(podcast, "sourceType"), "topic": entity_copy(politics), "isBreaking": True,
         "mentionedPersons": [entity_copy(ben)]},
    ]
    like, angry = {"reactionType": "like"}, {"reactionType": "angry"}
    comment = {"language": "en", "content": "Sources, please?", "status": "approved"}
    h1, h2, h3, h4 = (str(headline["_id"]) for headline in headlines[:4])

    def engagement(number: int, created_at: Any, entity_id: Any, reaction: Any = None, note: Any = None,
                   entity_type: str = "headline") -> dict[str, Any]:
        return {"_id": object_id(number), "createdAt": created_at, "userId": "u", "entityId": entity_id,
                "entityType": entity_type, "reaction": reaction, "comment": note}

    engagements = [
        engagement(101, iso_z(ago(hours=1)), h1, like, comment),
        engagement(102, iso_without_z(ago(hours=3)), h1, like),
        engagement(103, bson_date(ago(days=1, hours=1)), h2, None, comment),
        engagement(104, bson_date(ago(days=5)), h2, angry),
        engagement(105, iso_z(ago(days=20)), h3, like),
        engagement(106, iso_z(ago(hours=4)), "headline-with-string-id", like, comment),
        engagement(107, iso_z(ago(hours=1)), str(object_id(99)), like),
        engagement(108, iso_z(ago(hours=2)), h1, like, entity_type="source"),
        engagement(109, iso_z(ago(hours=5)), h4),
        engagement(110, iso_z(ago(hours=6)), h1, {"reactionType": "wow"}),
        engagement(111, iso_z(ago(hours=7)), object_id(11), like),
        engagement(112, 12345, h1, like),
        engagement(113, WEEK_START_TEXT, h2, like),
        engagement(114, iso_z(ago(days=8)), h2, like, comment),
        engagement(115, iso_z(ago(days=400)), h1, like),
        engagement(116, iso_z(ago(hours=8)), str(object_id(17)), like),
        engagement(117, iso_z(ago(days=1, seconds=-1)), str(object_id(17)), like),
    ]
    # Users in the current form (tier, isAnonymous) and the older form (appRole), with odd tiers and timestamps.
    users = [
        {"_id": object_id(201), "createdAt": iso_z(ago(hours=20)), "tier": "standard", "isAnonymous": False},
        {"_id": object_id(202), "createdAt": iso_z(ago(hours=3)), "tier": "guest", "isAnonymous": True},
        {"_id": object_id(203), "createdAt": iso_without_z(ago(days=3)), "appRole": "guestUser"},
        {"_id": object_id(204), "createdAt": bson_date(ago(days=100)), "appRole": "premiumUser"},
        {"_id": object_id(205), "createdAt": iso_z(ago(days=500)), "isAnonymous": False},
        {"_id": object_id(206), "createdAt": "2026-03-01T10:00:00+02:00", "tier": "standard", "isAnonymous": False},
        {"_id": object_id(207), "createdAt": NOW_TEXT, "tier": "standard", "isAnonymous": False},
        {"_id": object_id(208), "createdAt": ago(days=2).strftime("%Y-%m-%dT%H:%M:%SZ"), "tier": "standard",
         "isAnonymous": False},
        {"_id": object_id(209), "createdAt": "2026-12-04T15:29:59.999999999Z", "tier": "standard",
         "isAnonymous": False},
        {"_id": object_id(210), "createdAt": DAY_START_TEXT, "tier": "vip", "isAnonymous": False},
    ]
    deleted_source = {"id": str(object_id(9)), "name": {"en": "Deleted Source"}}
    preferences = [
        {"_id": object_id(201), "followedSources": [entity_copy(blog), entity_copy(agency)],
         "followedTopics": [entity_copy(politics)], "followedPersons": [entity_copy(ana)]},
        {"_id": object_id(204), "followedSources": [entity_copy(blog), {"id": 5, "name": "Numeric id"}],
         "followedTopics": "not an array", "followedPersons": None},
        {"_id": object_id(205), "followedSources": [{**entity_copy(podcast), "name": {"en": "Old Podcast Name"}},
                                                    deleted_source],
         "followedTopics": [entity_copy(politics), entity_copy(economy)]},
        {"_id": object_id(207)},
    ]
    reports = [
        {"_id": object_id(301), "createdAt": iso_z(ago(hours=1)), "status": "pendingReview",
         "reason": "misinformationOrFakeNews"},
        {"_id": object_id(302), "createdAt": iso_without_z(ago(days=2)), "status": "resolved", "reason": "clickbaitTitle"},
        {"_id": object_id(303), "createdAt": bson_date(ago(days=9)), "status": "resolved"},
        {"_id": object_id(304), "createdAt": "2026-12-04", "status": "pendingReview", "reason": "spamOrAdvertising"},
    ]
    app_reviews = [
        {"_id": object_id(401), "createdAt": iso_z(ago(hours=2)), "feedback": "positive", "wasStoreReviewRequested": True},
        {"_id": object_id(402), "createdAt": iso_z(ago(days=3)), "feedback": "negative", "wasStoreReviewRequested": False},
        {"_id": object_id(403), "createdAt": bson_date(ago(days=31)), "feedback": "positive",
         "wasStoreReviewRequested": "yes"},
        {"_id": object_id(404), "createdAt": iso_z(ago(days=6)), "wasStoreReviewRequested": True},
    ]
    rewards = [
        {"_id": object_id(501), "userId": "a", "activeRewards": {
            "adFree": iso_z(SEED_NOW + timedelta(days=3)), "dailyDigest": iso_z(ago(days=1))}},
        {"_id": object_id(502), "userId": "b", "activeRewards": {"adFree": bson_date(SEED_NOW + timedelta(hours=2))}},
        {"_id": object_id(503), "userId": "c", "activeRewards": "adFree"},
        {"_id": object_id(504), "userId": "d", "activeRewards": {"adFree": "soon"}},
        {"_id": object_id(505), "userId": "e", "activeRewards": {"adFree": iso_z(ago(days=2))}},
        {"_id": object_id(506), "userId": "f", "activeRewards": {
            "dailyDigest": iso_without_z(SEED_NOW + timedelta(days=9)), "adFree": iso_z(SEED_NOW + timedelta(days=1))}},
    ]

    def asset(number: int, created: datetime, seconds: float | None, status: str, purpose: str | None,
              created_form=iso_z, updated_form=iso_z, updated_at: Any = None) -> dict[str, Any]:
        document = {"_id": object_id(number), "createdAt": created_form(created), "status": status}
        if seconds is not None:
            document["updatedAt"] = updated_form(created + timedelta(seconds=seconds))
        elif updated_at is not None:
            document["updatedAt"] = updated_at
        if purpose is not None:
            document["purpose"] = purpose
        return document

    media_assets = [
        asset(601, ago(hours=2), 30, "completed", "headlineImage"),
        asset(602, ago(days=3), 12.5, "completed", "userProfilePhoto", created_form=iso_without_z,
              updated_form=bson_date),
        asset(603, ago(days=2), None, "completed", "sourceImage", updated_at="later"),
        asset(604, ago(days=4), -20, "completed", "headlineImage"),
        asset(605, ago(hours=1), 15, "failed", "personPhoto"),
        asset(606, ago(days=40), 0, "pendingUpload", None),
        asset(607, ago(days=50), 100, "completed", "bannerImage"),
        asset(608, ago(days=35), 5, "completed", "topicImage", created_form=bson_date),
    ]
    tasks = [
        {"_id": object_id(701), "createdAt": iso_z(ago(days=90)), "status": "active"},
        {"_id": object_id(702), "createdAt": iso_z(ago(days=5)), "status": "paused"},
        {"_id": object_id(703), "createdAt": "not a date", "status": "error"},
        {"_id": object_id(704), "createdAt": iso_z(ago(days=1)), "status": "disabled"},
        {"_id": object_id(705), "createdAt": iso_z(ago(days=1))},
    ]
    ingestion_usage = [
        {"_id": object_id(801), "updatedAt": iso_z(ago(days=2)), "requestCount": 10, "headlinesFetched": 100},
        {"_id": object_id(802), "updatedAt": bson_date(ago(days=3)), "requestCount": 5, "headlinesFetched": 50.5},
        {"_id": object_id(803), "updatedAt": iso_z(ago(hours=3)), "requestCount": 3, "headlinesFetched": "12"},
        {"_id": object_id(804), "updatedAt": iso_z(ago(days=40)), "requestCount": 7},
        {"_id": object_id(805), "updatedAt": iso_z(ago(days=200)), "requestCount": 1, "headlinesFetched": True},
        {"_id": object_id(806), "updatedAt": iso_z(ago(days=370)), "requestCount": 1, "headlinesFetched": 7},
    ]
    return {
        "sources": sources, "topics": topics, "persons": persons, "headlines": headlines,
        "engagements": engagements, "users": users, "user_content_preferences": preferences,
        "reports": reports, "app_reviews": app_reviews, "user_rewards": rewards, "media_assets": media_assets,
        "news_automation_tasks": tasks, "ingestion_usage": ingestion_usage,
    }


@pytest_asyncio.fixture(
    scope="module", loop_scope="module", params=SYNC_CASES, ids=[f"{engine}-{zone}" for engine, zone in SYNC_CASES]
)
async def edge_case_run(request) -> SyncedRun:
    """The hand-written edge-case dataset synced once for this engine and time zone."""
    engine, zone = request.param
    documents = edge_case_documents()
    async with open_database(engine) as database:
        await insert_dataset(database, documents)
        result = await run_sync(
            database, now=SEED_NOW, tz=ZoneInfo(zone), trigger=Trigger.CLI, clock=lambda: SEED_NOW
        )
        stored = await read_stored_cards(database)
    expected = reference.expected_cards(documents, SEED_NOW, ZoneInfo(zone))
    return SyncedRun(zone, result, stored, expected)


@pytest.mark.parametrize("card_id", DATABASE_CARD_IDS)
def test_edge_case_card_matches_reference(edge_case_run, card_id):
    outcomes = {outcome.card_id: outcome for outcome in edge_case_run.result.outcomes}
    assert outcomes[card_id].error is None
    document = edge_case_run.stored[card_id]
    problems = card_mismatches(document, edge_case_run.expected[card_id])
    assert not problems, f"{card_id} in {edge_case_run.time_zone}:\n" + "\n".join(problems)


def test_edge_case_label_maps_use_dashboard_languages(edge_case_run):
    problems = label_map_problems(edge_case_run.stored)
    assert not problems, "\n".join(problems)
