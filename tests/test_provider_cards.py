"""Provider-backed cards: the events provider against plain Python, selection, failures.

The Mixpanel run uses the real client against the fake server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics_service.catalogue import ALL_CARDS, CardKind
from analytics_service.errors import ConfigurationError
from analytics_service.providers.base import DateRange, EventQuery, ProviderError, ProviderUsage
from analytics_service.providers.events import EventsClient
from analytics_service.providers.mixpanel import MixpanelClient
from analytics_service.providers.registry import ProviderRegistry, open_providers
from analytics_service.providers.remote_config import AnalyticsConfig, parse_analytics_config
from analytics_service.query.provider_access import ProviderSelection
from analytics_service.settings import load_settings
from analytics_service.storage.indexes import SYNC_RUNS
from analytics_service.sync.runner import RunStatus, Trigger, run_sync
from analytics_service.timeframes import parse_timestamp
from tests.conftest import SEED_NOW, insert_dataset
from tests.ga4_fake import FakeEvent as GA4Event
from tests.ga4_fake import FakeGA4Server
from tests.mixpanel_fake import PROJECT_ID, SECRET, USERNAME, FakeMixpanel
from tests.test_provider_ga4 import service_account_info

PROVIDER_CARDS = [card for card in ALL_CARDS if card.needs_provider]
BERLIN = ZoneInfo("Europe/Berlin")


def _events_by_day(documents, tz) -> list[tuple[dict, date]]:
    placed = []
    for event in documents["analytics_events"]:
        moment = parse_timestamp(event.get("timestamp"))
        if moment is not None:
            placed.append((event, moment.astimezone(tz).date()))
    return placed


@pytest.fixture
async def events_database(database, demo_documents):
    await insert_dataset(database, {"analytics_events": demo_documents["analytics_events"]})
    return database


async def test_events_counts_match_python(events_database, demo_documents):
    client = EventsClient(events_database, BERLIN)
    week = DateRange(date(2026, 11, 27), date(2026, 12, 3))
    year = DateRange(date(2025, 12, 4), date(2026, 12, 3))
    queries = [EventQuery("contentViewed"), EventQuery("appTourStepViewed", {"step_index": 1}), EventQuery("nothing")]

    counts = await client.event_counts(queries, [week, year])

    placed = _events_by_day(demo_documents, BERLIN)
    for query in queries:
        for date_range in (week, year):
            expected = sum(
                1 for event, day in placed
                if event["event"] == query.event and date_range.contains(day)
                and all(event.get("params", {}).get(name) == value for name, value in query.parameters.items())
            )
            assert counts[query][date_range] == expected, (query, date_range)
    assert counts[EventQuery("nothing")][week] == 0


async def test_events_daily_counts_match_python(events_database, demo_documents):
    client = EventsClient(events_database, BERLIN)
    month = DateRange(date(2026, 10, 20), date(2026, 11, 18))  # crosses the end of summer time

    daily = await client.daily_event_counts([EventQuery("contentViewed")], month)

    expected = Counter(day for event, day in _events_by_day(demo_documents, BERLIN)
                       if event["event"] == "contentViewed" and month.contains(day))
    assert daily[EventQuery("contentViewed")] == {day: expected.get(day, 0) for day in month.dates()}


async def test_events_active_users_are_distinct(events_database, demo_documents):
    client = EventsClient(events_database, BERLIN)
    week = DateRange(date(2026, 11, 27), date(2026, 12, 3))

    users = await client.active_users([week])
    daily = await client.daily_active_users(week)

    placed = _events_by_day(demo_documents, BERLIN)
    users_by_day = defaultdict(set)
    for event, day in placed:
        if isinstance(event.get("userId"), str):
            users_by_day[day].add(event["userId"])
    in_week = set().union(*(users_by_day[day] for day in week.dates()))
    assert users[week] == len(in_week)
    assert daily == {day: len(users_by_day[day]) for day in week.dates()}
    assert users[week] < sum(daily.values())


async def test_events_top_values_match_python(events_database, demo_documents):
    client = EventsClient(events_database, BERLIN)
    month = DateRange(date(2026, 11, 4), date(2026, 12, 3))

    top = await client.top_values(EventQuery("contentViewed"), "contentId", [month], 5)

    counts = Counter(event["params"]["contentId"] for event, day in _events_by_day(demo_documents, BERLIN)
                     if event["event"] == "contentViewed" and month.contains(day))
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert [(item.value, item.count) for item in top[month]] == expected


async def test_events_rejects_odd_parameter_name(events_database):
    client = EventsClient(events_database, BERLIN)
    week = DateRange(date(2026, 11, 27), date(2026, 12, 3))
    with pytest.raises(ValueError):
        await client.event_counts([EventQuery("contentViewed", {"$where": 1})], [week])


class FailingClient:
    """A reporting client whose every question fails, as during an outage."""

    name = "events"

    def __init__(self, error: Exception) -> None:
        self.usage = ProviderUsage()
        self._error = error

    async def _fail(self, *args, **kwargs):
        self.usage.requests += 1
        raise self._error

    event_counts = daily_event_counts = active_users = daily_active_users = top_values = _fail

    async def close(self) -> None:
        return None


class SlowClient(FailingClient):
    async def _fail(self, *args, **kwargs):
        await asyncio.sleep(10)

    event_counts = daily_event_counts = active_users = daily_active_users = top_values = _fail


def _selection(client, config: AnalyticsConfig | None = None, timeout_s: float = 30.0) -> ProviderSelection:
    return ProviderSelection(client, None, config or AnalyticsConfig(found=True), timeout_s)


async def _run(database, provider, now=SEED_NOW):
    return await run_sync(database, now=now, tz=BERLIN, trigger=Trigger.CLI, clock=lambda: now,
                          provider=provider, cards=RUN_CARDS)


async def _stored(database) -> dict[str, dict]:
    cards = {}
    for kind in CardKind:
        async for document in database[kind.collection].find({}, {"_id": 0}):
            cards[document["cardId"]] = document
    return cards


# Provider runs refresh the provider cards and one database card: the database cards
# have tests of their own, and a full sync on the embedded engine takes much longer.
RUN_CARDS = PROVIDER_CARDS + [card for card in ALL_CARDS if card.id == "usersNewRegistrations"]


@pytest.fixture
async def demo_database(database, demo_documents):
    documents = {name: demo_documents[name] for name in ("engagements", "headlines", "users")}
    # A quarter of the events keeps every event kind and makes each run a few times faster.
    documents["analytics_events"] = demo_documents["analytics_events"][::4]
    await insert_dataset(database, documents)
    return database


async def test_events_provider_fills_every_provider_card(demo_database):
    result = await _run(demo_database, _selection(EventsClient(demo_database, BERLIN)))

    assert result.status is RunStatus.SUCCEEDED
    stored = await _stored(demo_database)
    for card in PROVIDER_CARDS:
        assert stored[card.id]["status"] == "ok", (card.id, stored[card.id]["unavailable"])
    funnel = stored["overviewAppTourFunnel"]
    assert [point["key"] for point in funnel["timeFrames"]["month"]] == ["started", "step0", "step1", "step2", "completed"]
    assert [point["key"] for point in funnel["asides"]["month"]] == ["skipped"]


async def test_views_are_corrected_by_sampling_rate(demo_database):
    client = EventsClient(demo_database, BERLIN)
    sampled = AnalyticsConfig(found=True, sampling_rates={"contentViewed": 0.5})

    await _run(demo_database, _selection(client, AnalyticsConfig(found=True)))
    raw = (await _stored(demo_database))["contentHeadlinesTotalViews"]["timeFrames"]["month"]["value"]
    await _run(demo_database, _selection(client, sampled), now=SEED_NOW + timedelta(minutes=15))
    corrected = (await _stored(demo_database))["contentHeadlinesTotalViews"]["timeFrames"]["month"]["value"]

    assert raw > 0
    assert corrected == raw * 2


async def test_engagement_rate_changes_in_points(demo_database):
    await _run(demo_database, _selection(EventsClient(demo_database, BERLIN)))

    frame = (await _stored(demo_database))["engagementsAverageEngagementRate"]["timeFrames"]["week"]

    assert frame["changeUnit"] == "percentagePoints"
    assert frame["change"] == pytest.approx(frame["value"] - frame["previous"], abs=0.011)
    assert frame["trend"].endswith(" pp")


async def test_provider_outage_keeps_last_good_provider_cards(demo_database):
    first = await _run(demo_database, _selection(EventsClient(demo_database, BERLIN)))
    before = await _stored(demo_database)

    outage = FailingClient(ProviderError("events", "connection refused by 127.0.0.1"))
    second = await _run(demo_database, _selection(outage), now=SEED_NOW + timedelta(minutes=15))

    after = await _stored(demo_database)
    failed = {outcome.card_id for outcome in second.failed_cards}
    assert failed == {card.id for card in PROVIDER_CARDS}
    for card in PROVIDER_CARDS:
        assert after[card.id] == before[card.id]
        assert after[card.id]["runId"] == first.run_id
    assert after["usersNewRegistrations"]["runId"] == second.run_id
    record = await demo_database[SYNC_RUNS].find_one({"runId": second.run_id})
    assert record["provider"]["selected"] == "events"
    assert "connection refused" in record["provider"]["failures"][0]["error"]


async def test_slow_provider_times_out_without_stopping_run(demo_database):
    result = await _run(demo_database, _selection(SlowClient(ProviderError("events", "")), timeout_s=0.2))

    failed = {outcome.card_id for outcome in result.failed_cards}
    assert failed == {card.id for card in PROVIDER_CARDS}
    assert all("timed out" in outcome.error for outcome in result.failed_cards)
    stored = await _stored(demo_database)
    assert stored["usersNewRegistrations"]["runId"] == result.run_id


async def test_no_provider_marks_cards_unavailable(demo_database):
    selection = ProviderSelection(None, "ANALYTICS_PROVIDER is none, so provider-backed cards are turned off",
                                  AnalyticsConfig())
    result = await _run(demo_database, selection)

    assert result.status is RunStatus.SUCCEEDED
    stored = await _stored(demo_database)
    for card in PROVIDER_CARDS:
        assert stored[card.id]["status"] == "unavailable"
        assert stored[card.id]["timeFrames"] == {}
        assert all("ANALYTICS_PROVIDER is none" in reason for reason in stored[card.id]["unavailable"].values())
    assert stored["usersNewRegistrations"]["status"] == "ok"


async def test_disabled_analytics_marks_cards_unavailable(demo_database):
    config = parse_analytics_config({"features": {"analytics": {"enabled": False}}})
    await _run(demo_database, _selection(EventsClient(demo_database, BERLIN), config))

    stored = await _stored(demo_database)
    reasons = stored["contentHeadlinesTotalViews"]["unavailable"]
    assert set(reasons) == {"day", "week", "month", "year"}
    assert "disabled" in reasons["week"]


async def test_disabled_event_marks_its_cards_unavailable(demo_database):
    config = parse_analytics_config({"features": {"analytics": {"disabledEvents": ["adRewardEarned"]}}})
    await _run(demo_database, _selection(EventsClient(demo_database, BERLIN), config))

    stored = await _stored(demo_database)
    assert "adRewardEarned" in stored["rewardsAdsWatchedTotal"]["unavailable"]["week"]
    assert stored["rewardsGrantedTotal"]["status"] == "ok"


@pytest.mark.parametrize(
    ("analytics", "problem"),
    [
        ({"eventSamplingRates": {"contentViewed": 0}}, "sampling rate"),
        ({"eventSamplingRates": {"contentViewed": 1.5}}, "sampling rate"),
        ({"eventSamplingRates": {"contentViewed": "half"}}, "sampling rate"),
        ({"enabled": "yes"}, "enabled"),
        ({"activeProvider": "amplitude"}, "activeProvider"),
    ],
)
def test_invalid_remote_config_entries_are_ignored(analytics, problem):
    config = parse_analytics_config({"features": {"analytics": analytics}})
    assert config.sampling_rate("contentViewed") == 1.0
    assert any(problem in text for text in config.problems)


async def test_auto_without_configured_ga4_stops_at_start(database):
    await database["remote_configs"].insert_one(
        {"_id": __import__("bson").ObjectId("6643b1b7a4a4e6e1a8e7b1c2"),
         "features": {"analytics": {"enabled": True, "activeProvider": "firebase"}}}
    )
    settings = load_settings(env_file=None, provider="auto")
    registry = ProviderRegistry(settings, {"events": EventsClient(database, BERLIN)})

    with pytest.raises(ConfigurationError) as raised:
        await registry.check_selection(database)
    assert "ANALYTICS_GA4_PROPERTY_ID" in str(raised.value)
    selection = await registry.select(database)
    assert selection.client is None
    assert "ga4" in selection.reason


async def test_auto_follows_remote_config(database):
    await database["remote_configs"].insert_one(
        {"_id": __import__("bson").ObjectId("6643b1b7a4a4e6e1a8e7b1c2"),
         "features": {"analytics": {"activeProvider": "mixpanel"}}}
    )
    settings = load_settings(env_file=None, provider="auto")
    mixpanel = FailingClient(ProviderError("mixpanel", "unused"))
    registry = ProviderRegistry(settings, {"mixpanel": mixpanel})

    await registry.check_selection(database)
    assert (await registry.select(database)).client is mixpanel


def _fake_from_documents(fake: FakeMixpanel, documents, tz) -> None:
    for event, day in _events_by_day(documents, tz):
        fake.add(event["event"], day, event.get("userId") or "unknown", **event.get("params", {}))


async def test_mixpanel_run_fills_provider_cards(demo_database, aiohttp_server, aiohttp_client):
    fake = FakeMixpanel()
    events = await demo_database["analytics_events"].find({}, {"_id": 0}).to_list(None)
    _fake_from_documents(fake, {"analytics_events": events}, BERLIN)
    server = await aiohttp_server(fake.app(), host="127.0.0.1")
    session = (await aiohttp_client(server)).session
    client = MixpanelClient(session, project_id=PROJECT_ID, username=USERNAME, secret=SECRET,
                            base_url=str(server.make_url("/api/query")))

    result = await _run(demo_database, _selection(client))

    assert result.status is RunStatus.SUCCEEDED
    # One request per event query (12), one for daily unique users, one for top content.
    assert result.provider["requests"] == 14
    mixpanel_cards = await _stored(demo_database)
    await _run(demo_database, _selection(EventsClient(demo_database, BERLIN)), now=SEED_NOW + timedelta(seconds=1))
    events_cards = await _stored(demo_database)
    for card_id in ("contentHeadlinesTotalViews", "rewardsAdsWatchedTotal", "rewardsGrantedTotal"):
        for frame in ("day", "week", "month", "year"):
            assert (mixpanel_cards[card_id]["timeFrames"][frame]["value"]
                    == events_cards[card_id]["timeFrames"][frame]["value"]), (card_id, frame)
    assert mixpanel_cards["overviewAppTourFunnel"]["timeFrames"] == events_cards["overviewAppTourFunnel"]["timeFrames"]
    assert mixpanel_cards["usersActiveUsers"]["timeFrames"]["day"]["value"] > 0
    assert "cannot count distinct users" in mixpanel_cards["usersActiveUsers"]["unavailable"]["week"]


async def test_ga4_run_through_settings_fills_provider_cards(demo_database):
    events = await demo_database["analytics_events"].find({}, {"_id": 0}).to_list(None)
    fake = FakeGA4Server(
        [GA4Event(day, event["event"], event.get("params", {}), 1, event.get("userId") or "unknown")
         for event, day in _events_by_day({"analytics_events": events}, BERLIN)],
        custom_dimensions={"contentId", "step_index"},
        property_id="123456",
    )
    await fake.start()
    settings = load_settings(
        env_file=None, provider="ga4", timezone="Europe/Berlin", ga4_property_id="123456",
        ga4_credentials_json=json.dumps(service_account_info()), ga4_endpoint=f"127.0.0.1:{fake.port}",
    )
    try:
        async with open_providers(settings, demo_database) as registry:
            selection = await registry.select(demo_database)
            result = await _run(demo_database, selection)
    finally:
        await fake.stop()

    assert result.status is RunStatus.SUCCEEDED, result.failed_cards
    assert result.provider["selected"] == "ga4"
    # Five batchRunReports calls carry the twelve reports of a run.
    assert result.provider["requests"] == 5
    ga4_cards = await _stored(demo_database)
    await _run(demo_database, _selection(EventsClient(demo_database, BERLIN)), now=SEED_NOW + timedelta(seconds=1))
    events_cards = await _stored(demo_database)
    for card in PROVIDER_CARDS:
        assert ga4_cards[card.id]["status"] == "ok", card.id
        assert ga4_cards[card.id]["timeFrames"] == events_cards[card.id]["timeFrames"], card.id


async def test_empty_events_collection_makes_provider_cards_unavailable(database):
    await insert_dataset(database, {"users": [{"createdAt": "2026-12-01T00:00:00Z"}]})

    result = await _run(database, _selection(EventsClient(database, BERLIN)))

    assert result.status is RunStatus.SUCCEEDED
    stored = await _stored(database)
    for card in PROVIDER_CARDS:
        assert stored[card.id]["status"] == "unavailable", card.id
        assert "analytics_events collection has no events" in stored[card.id]["unavailable"]["week"]
