"""Tests of MixpanelClient against the fake Query API in tests/mixpanel_fake.py, on 127.0.0.1."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import aiohttp
import pytest

from analytics_service.providers.base import (
    DateRange,
    EventQuery,
    ProviderConfigurationError,
    ProviderError,
    ProviderQuotaError,
    ProviderResponseError,
    RankedValue,
)
from analytics_service.providers.mixpanel import MixpanelClient, query_base_url
from analytics_service.providers.mixpanel_segmentation import where_expression
from analytics_service.providers.mixpanel_transport import RetryPolicy
from tests.mixpanel_fake import FIXTURES, PROJECT_ID, SECRET, USERNAME, FakeMixpanel, basic_authorization

TODAY = date(2026, 12, 4)


def days_ending(end: date, days: int) -> DateRange:
    return DateRange(end - timedelta(days=days - 1), end)


def rolling_ranges(today: date) -> list[DateRange]:
    """Day, week, month (30 days) and year (365 days) windows ending today, each with the window before it."""
    ranges = []
    for days in (1, 7, 30, 365):
        current = days_ending(today, days)
        ranges += [current, days_ending(current.start - timedelta(days=1), days)]
    return ranges


RANGES = rolling_ranges(TODAY)
YEAR = RANGES[6]
STEP_QUERIES = [EventQuery("appTourStepViewed", {"step_index": step}) for step in (0, 1, 2)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def fake() -> FakeMixpanel:
    return FakeMixpanel()


@pytest.fixture
async def server(aiohttp_server, fake):
    return await aiohttp_server(fake.app(), host="127.0.0.1")


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(server, session, clock, sleeps):
    def make(**options) -> MixpanelClient:
        settings = {
            "project_id": PROJECT_ID,
            "username": USERNAME,
            "secret": SECRET,
            "base_url": str(server.make_url("/api/query")),
            "clock": clock,
            "sleep": sleeps,
        }
        settings.update(options)
        return MixpanelClient(session, **settings)

    return make


@pytest.fixture
def client(make_client) -> MixpanelClient:
    return make_client()


# Configuration and URL building, without network.


async def test_region_hosts(session):
    expected = {
        "us": "https://mixpanel.com/api/query",
        "eu": "https://eu.mixpanel.com/api/query",
        "in": "https://in.mixpanel.com/api/query",
    }
    for region, url in expected.items():
        assert query_base_url(region) == url
        client = MixpanelClient(session, project_id="1", username="u", secret="s", region=region)
        assert client.base_url == url


async def test_unknown_region_rejected(session):
    with pytest.raises(ValueError, match="region 'de'"):
        MixpanelClient(session, project_id="1", username="u", secret="s", region="de")


@pytest.mark.parametrize("project_id", ["", "12a", "-5", "1 2", "²"])
async def test_project_id_must_be_digits(session, project_id):
    with pytest.raises(ValueError, match="project id"):
        MixpanelClient(session, project_id=project_id, username="u", secret="s")


async def test_repr_hides_secret(client):
    assert SECRET not in repr(client)
    assert PROJECT_ID in repr(client)


# Requests.


async def test_every_request_sends_auth_and_project_id(client, fake):
    fake.add("contentViewed", TODAY, contentId="a")

    await client.event_counts([EventQuery("userLogin"), EventQuery("contentViewed")], RANGES)
    await client.daily_active_users(YEAR)
    await client.top_values(EventQuery("contentViewed"), "contentId", RANGES[:2], 10)

    assert len(fake.requests) == 4
    for request in fake.requests:
        assert request.authorization == basic_authorization(USERNAME, SECRET)
        assert request.query["project_id"] == PROJECT_ID


async def test_where_integer_unquoted(client, fake):
    fake.add("appTourStepViewed", TODAY, step_index=0)
    fake.add("appTourStepViewed", TODAY, step_index="0")

    counts = await client.event_counts([EventQuery("appTourStepViewed", {"step_index": 0})], [RANGES[0]])

    assert fake.requests[0].query["where"] == 'properties["step_index"] == 0'
    assert counts[EventQuery("appTourStepViewed", {"step_index": 0})][RANGES[0]] == 1


async def test_where_string_escaped(client, fake):
    fake.add("contentViewed", TODAY, contentType='say "hi" \\ bye')
    query = EventQuery("contentViewed", {"contentType": 'say "hi" \\ bye'})

    counts = await client.event_counts([query], [RANGES[0]])

    assert fake.requests[0].query["where"] == r'properties["contentType"] == "say \"hi\" \\ bye"'
    assert counts[query][RANGES[0]] == 1


def test_where_joins_parameters_in_name_order():
    where = where_expression({"reactionType": "like", "contentId": "c1"})

    assert where == 'properties["contentId"] == "c1" and properties["reactionType"] == "like"'


@pytest.mark.parametrize("name", ['a"]', "content id", "", "$os"])
async def test_invalid_parameter_name_rejected(client, fake, name):
    with pytest.raises(ProviderConfigurationError, match="invalid event parameter name"):
        await client.event_counts([EventQuery("contentViewed", {name: "x"})], RANGES)
    with pytest.raises(ProviderConfigurationError, match="invalid event parameter name"):
        await client.top_values(EventQuery("contentViewed"), name, RANGES, 10)

    assert fake.requests == []


async def test_boolean_parameter_value_rejected(client, fake):
    with pytest.raises(ProviderConfigurationError, match="string or an integer"):
        await client.event_counts([EventQuery("contentViewed", {"premium": True})], RANGES)

    assert fake.requests == []


# Query plan and summing.


async def test_event_counts_one_request_per_query(client, fake):
    for step, count in ((0, 5), (1, 3), (2, 2)):
        fake.add("appTourStepViewed", TODAY, count=count, step_index=step)

    counts = await client.event_counts(STEP_QUERIES, RANGES)

    requests = fake.segmentation_requests()
    assert len(requests) == 3
    for request in requests:
        assert request.query["from_date"] == RANGES[-1].start.isoformat()
        assert request.query["to_date"] == TODAY.isoformat()
        assert request.query["unit"] == "day"
        assert request.query["type"] == "general"
    assert [counts[query][RANGES[0]] for query in STEP_QUERIES] == [5, 3, 2]


async def test_event_counts_sums_days_per_range(client, fake):
    fake.add("userLogin", TODAY, count=2)
    fake.add("userLogin", TODAY - timedelta(days=1), count=3)
    fake.add("userLogin", TODAY - timedelta(days=10), count=4)
    fake.add("userLogin", TODAY - timedelta(days=400), count=7)

    counts = (await client.event_counts([EventQuery("userLogin")], RANGES))[EventQuery("userLogin")]

    assert counts == {
        RANGES[0]: 2,  # today
        RANGES[1]: 3,  # yesterday
        RANGES[2]: 5,  # last 7 days
        RANGES[3]: 4,  # the 7 days before
        RANGES[4]: 9,  # last 30 days
        RANGES[5]: 0,  # the 30 days before
        RANGES[6]: 9,  # last 365 days
        RANGES[7]: 7,  # the 365 days before
    }


async def test_daily_counts_fill_missing_days(client, fake):
    fake.add("contentShared", TODAY - timedelta(days=2), count=4)
    week = RANGES[2]

    daily = (await client.daily_event_counts([EventQuery("contentShared")], week))[EventQuery("contentShared")]

    assert list(daily) == week.dates()
    assert daily[TODAY - timedelta(days=2)] == 4
    assert sum(daily.values()) == 4


async def test_unsorted_series_parsed(client, fake):
    fake.serve_payload("segmentation_general_by_day.json")
    query = EventQuery("Signed up")
    wider = DateRange(date(2011, 8, 5), date(2011, 8, 10))

    daily = (await client.daily_event_counts([query], wider))[query]

    assert daily == {
        date(2011, 8, 5): 0,
        date(2011, 8, 6): 147,
        date(2011, 8, 7): 146,
        date(2011, 8, 8): 776,
        date(2011, 8, 9): 1376,
        date(2011, 8, 10): 0,
    }


async def test_missing_dates_count_zero(client, fake):
    fake.serve_payload("segmentation_numeric_buckets.json")
    first_two_days = DateRange(date(2011, 8, 6), date(2011, 8, 7))
    last_day = DateRange(date(2011, 8, 9), date(2011, 8, 9))

    ranked = await client.top_values(EventQuery("Purchase"), "amount", [first_two_days, last_day], 10)

    assert ranked[first_two_days] == [
        RankedValue("2,000 - 2,100", 6),
        RankedValue("2,300 - 2,400", 4),
        RankedValue("2,100 - 2,200", 2),
        RankedValue("2,200 - 2,300", 1),
    ]
    assert ranked[last_day][0] == RankedValue("2,000 - 2,100", 15)


async def test_dashboard_run_costs_thirteen_requests(client, fake):
    queries = [
        EventQuery(event)
        for event in (
            "userRegistered",
            "userLogin",
            "contentViewed",
            "contentShared",
            "contentSaved",
            "reactionCreated",
            "commentCreated",
            "appTourStarted",
        )
    ] + STEP_QUERIES
    assert len(queries) == 11

    await client.event_counts(queries, RANGES)
    await client.daily_event_counts(queries, YEAR)
    await client.daily_active_users(YEAR)
    await client.active_users(RANGES)
    await client.top_values(EventQuery("contentViewed"), "contentId", RANGES[::2], 100)

    assert len(fake.requests) == 11 + 0 + 1 + 0 + 1
    assert client.usage.requests == 13
    assert client.requests_in_last_hour() == 13


# Distinct users.


async def test_daily_active_users_counts_distinct_users(make_client, fake):
    client = make_client(activity_event="contentViewed")
    fake.add("contentViewed", TODAY, user="anna", count=3)
    fake.add("contentViewed", TODAY, user="ben")
    fake.add("contentViewed", TODAY - timedelta(days=1), user="anna")
    fake.add("userLogin", TODAY, user="carl")
    week = RANGES[2]

    daily = await client.daily_active_users(week)

    assert fake.requests[0].query["type"] == "unique"
    assert fake.requests[0].query["event"] == "contentViewed"
    assert daily[TODAY] == 2
    assert daily[TODAY - timedelta(days=1)] == 1
    assert sum(daily.values()) == 3
    assert list(daily) == week.dates()


async def test_active_users_none_for_multi_day(client, fake):
    fake.add("contentViewed", TODAY, user="anna")
    fake.add("contentViewed", TODAY - timedelta(days=1), user="anna")
    fake.add("contentViewed", TODAY - timedelta(days=1), user="ben")

    users = await client.active_users(RANGES)

    assert users[RANGES[0]] == 1
    assert users[RANGES[1]] == 2
    assert all(users[date_range] is None for date_range in RANGES[2:])
    assert len(fake.requests) == 1
    assert fake.requests[0].query["type"] == "unique"


async def test_active_users_without_single_days_sends_nothing(client, fake):
    users = await client.active_users(RANGES[2:])

    assert set(users.values()) == {None}
    assert fake.requests == []


# Top values.


async def test_top_values_ranked_per_range(client, fake):
    fake.add("contentViewed", TODAY, count=3, contentId="a")
    fake.add("contentViewed", TODAY, count=5, contentId="b")
    fake.add("contentViewed", TODAY, count=1, contentId="c")
    fake.add("contentViewed", TODAY - timedelta(days=3), count=9, contentId="c")
    day, week = RANGES[0], RANGES[2]

    ranked = await client.top_values(EventQuery("contentViewed"), "contentId", [day, week], 2)

    request = fake.requests[0]
    assert request.query["on"] == 'properties["contentId"]'
    assert request.query["limit"] == "2"
    assert request.query["from_date"] == week.start.isoformat()
    assert len(fake.requests) == 1
    # The fake, like Mixpanel, picks the top 2 over the whole span: c (10) and b (5), not a.
    assert ranked[day] == [RankedValue("b", 5), RankedValue("c", 1)]
    assert ranked[week] == [RankedValue("c", 10), RankedValue("b", 5)]


@pytest.mark.parametrize("limit", [0, 10_001])
async def test_top_values_limit_validated(client, fake, limit):
    with pytest.raises(ProviderConfigurationError, match="limit"):
        await client.top_values(EventQuery("contentViewed"), "contentId", RANGES, limit)

    assert fake.requests == []


# Response cache.


async def test_cache_serves_same_query_and_span(client, fake):
    fake.add("userLogin", TODAY, count=2)
    query = EventQuery("userLogin")

    await client.event_counts([query], [YEAR])
    daily = await client.daily_event_counts([query], YEAR)

    assert daily[query][TODAY] == 2
    assert len(fake.requests) == 1


async def test_cache_serves_covered_span(client, fake):
    query = EventQuery("userLogin")

    await client.event_counts([query], RANGES)
    await client.daily_event_counts([query], RANGES[2])

    assert len(fake.requests) == 1


async def test_cache_not_reused_for_top_values_span(client, fake):
    query = EventQuery("contentViewed")

    await client.top_values(query, "contentId", RANGES, 10)
    await client.top_values(query, "contentId", RANGES[:2], 10)

    assert len(fake.requests) == 2


async def test_cache_expires_after_ttl(make_client, fake, clock):
    client = make_client(cache_ttl=600)
    query = EventQuery("userLogin")

    await client.event_counts([query], RANGES)
    clock.now += 599
    await client.event_counts([query], RANGES)
    clock.now += 1
    await client.event_counts([query], RANGES)

    assert len(fake.requests) == 2


async def test_concurrent_identical_requests_share_one(client, fake):
    fake.delay = 0.05
    query = EventQuery("userLogin")

    await asyncio.gather(client.event_counts([query], [YEAR]), client.daily_event_counts([query], YEAR))

    assert len(fake.requests) == 1


# Rate limits.


async def test_concurrency_never_above_five(client, fake):
    fake.delay = 0.05
    queries = [EventQuery("contentViewed", {"contentId": f"c{index}"}) for index in range(12)]

    await asyncio.gather(*(client.event_counts([query], RANGES) for query in queries))

    assert len(fake.requests) == 12
    assert fake.max_in_flight == 5


async def test_hourly_cap_raises_at_request_61(client, fake, clock):
    queries = [EventQuery("contentViewed", {"contentId": f"c{index}"}) for index in range(60)]
    await client.event_counts(queries, RANGES)
    clock.now += 1200

    with pytest.raises(ProviderQuotaError) as raised:
        await client.event_counts([EventQuery("userLogin")], RANGES)

    message = str(raised.value)
    assert "60 requests started in the last hour" in message
    assert "frees up in 2400 s" in message
    assert len(fake.requests) == 60


async def test_hourly_cap_frees_after_an_hour(client, fake, clock):
    queries = [EventQuery("contentViewed", {"contentId": f"c{index}"}) for index in range(60)]
    await client.event_counts(queries, RANGES)
    clock.now += 3600

    await client.event_counts([EventQuery("userLogin")], RANGES)

    assert len(fake.requests) == 61
    assert client.requests_in_last_hour() == 1


async def test_429_retried_after_retry_after(client, fake, sleeps):
    fake.add("userLogin", TODAY)
    fake.then(429, (FIXTURES / "error_429_query_rate_limit_61_of_60.json").read_text(), headers={"Retry-After": "7"})

    counts = await client.event_counts([EventQuery("userLogin")], [RANGES[0]])

    assert counts[EventQuery("userLogin")][RANGES[0]] == 1
    assert sleeps.delays == [7.0]
    assert client.usage.requests == 2
    assert client.usage.retries == 1


async def test_429_without_retry_after_waits_default(client, fake, sleeps):
    fake.then(429, {"error": "Query rate limit exceeded"})

    await client.event_counts([EventQuery("userLogin")], RANGES)

    assert sleeps.delays == [60.0]


async def test_429_beyond_max_wait_raises(make_client, fake, sleeps):
    client = make_client(retry=RetryPolicy(max_retry_after=120))
    fake.then(429, {"error": "Query rate limit exceeded"}, headers={"Retry-After": "600"})

    with pytest.raises(ProviderQuotaError, match="wait of 600 s"):
        await client.event_counts([EventQuery("userLogin")], RANGES)

    assert sleeps.delays == []
    assert len(fake.requests) == 1


async def test_429_three_times_raises(client, fake, sleeps):
    body = (FIXTURES / "error_429_query_rate_limit_61_of_60.json").read_text()
    for _ in range(3):
        fake.then(429, body, headers={"Retry-After": "1"})

    with pytest.raises(ProviderQuotaError, match="61/60 queries running in the last hour"):
        await client.event_counts([EventQuery("userLogin")], RANGES)

    assert sleeps.delays == [1.0, 1.0]
    assert client.usage.requests == 3
    assert client.usage.quota["queries_per_hour"] == {"consumed": 61, "remaining": 0}
    assert client.usage.quota["concurrent_queries"] == {"consumed": 1, "remaining": 4}


async def test_429_retry_counts_against_budget(make_client, fake):
    client = make_client(hourly_limit=2)
    fake.then(429, {"error": "Query rate limit exceeded"}, headers={"Retry-After": "1"})
    fake.then(429, {"error": "Query rate limit exceeded"}, headers={"Retry-After": "1"})

    with pytest.raises(ProviderQuotaError, match="query budget exhausted"):
        await client.event_counts([EventQuery("userLogin")], RANGES)

    assert len(fake.requests) == 2


# Server errors and rejected requests.


async def test_5xx_retried_then_success(client, fake, sleeps):
    fake.add("userLogin", TODAY)
    fake.then(503, "Service Unavailable", content_type="text/plain")
    fake.then(502, "<html>Bad Gateway</html>", content_type="text/html")

    counts = await client.event_counts([EventQuery("userLogin")], [RANGES[0]])

    assert counts[EventQuery("userLogin")][RANGES[0]] == 1
    assert sleeps.delays == [1.0, 2.0]
    assert client.usage.retries == 2


async def test_5xx_three_times_raises(client, fake):
    for _ in range(3):
        fake.then(500, {"error": "Internal error"})

    with pytest.raises(ProviderError, match="after 3 attempts: HTTP 500: Internal error") as raised:
        await client.event_counts([EventQuery("userLogin")], RANGES)

    assert type(raised.value) is ProviderError


async def test_timeout_retried(make_client, fake, sleeps):
    client = make_client(request_timeout=0.1)
    fake.add("userLogin", TODAY)
    fake.then(body={"data": {"series": [], "values": {}}}, delay=0.5)

    counts = await client.event_counts([EventQuery("userLogin")], [RANGES[0]])

    assert counts[EventQuery("userLogin")][RANGES[0]] == 1
    assert sleeps.delays == [1.0]


async def test_401_is_configuration_error(make_client, fake):
    client = make_client(secret="wrong-secret-value")

    with pytest.raises(ProviderConfigurationError) as raised:
        await client.event_counts([EventQuery("userLogin")], RANGES)

    message = str(raised.value)
    assert "HTTP 401" in message
    assert "service account" in message
    assert "wrong-secret-value" not in message
    assert len(fake.requests) == 1


async def test_400_quotes_mixpanel_error(client, fake):
    fake.then(400, {"error": "invalid value for 'unit'", "status": "error"})

    with pytest.raises(ProviderConfigurationError, match="HTTP 400\\): invalid value for 'unit'"):
        await client.event_counts([EventQuery("userLogin")], RANGES)


async def test_non_json_body_rejected(client, fake):
    fake.then(200, "<html>maintenance</html>", content_type="text/html")

    with pytest.raises(ProviderResponseError, match="/segmentation response is not JSON"):
        await client.event_counts([EventQuery("userLogin")], RANGES)


async def test_missing_values_rejected(client, fake):
    fake.then(200, {"data": {"series": ["2026-12-04"]}})

    with pytest.raises(ProviderResponseError, match="/segmentation response has no 'data.values' object"):
        await client.event_counts([EventQuery("userLogin")], RANGES)


async def test_other_event_key_rejected(client, fake):
    fake.then(200, {"data": {"series": ["2026-12-04"], "values": {"userLogout": {"2026-12-04": 1}}}})

    with pytest.raises(ProviderResponseError, match="no values for event 'userLogin'"):
        await client.event_counts([EventQuery("userLogin")], RANGES)


# Published payloads.

SEGMENT_TOTALS = {
    "segmentation_numeric_buckets.json": (
        DateRange(date(2011, 8, 6), date(2011, 8, 9)),
        {"2,000 - 2,100": 25, "2,100 - 2,200": 24, "2,300 - 2,400": 17, "2,200 - 2,300": 12, "2,400 - 2,500": 7},
    ),
    "events_counts_two_events.json": (
        DateRange(date(2010, 5, 29), date(2010, 5, 31)),
        {"splash features": 15, "account-page": 1},
    ),
    "events_properties_by_value.json": (
        DateRange(date(2010, 5, 29), date(2010, 5, 31)),
        {"splash features": 15},
    ),
}

REJECTED = {
    "segmentation_sum.json": "no 'data' object (top-level keys: 'status', 'computed_at', 'results')",
    "segmentation_average.json": "no 'data' object",
    "events_properties_values_top.json": "is a JSON list",
    "events_properties_top_names.json": "no 'data' object",
    "events_top_today.json": "no 'data' object",
    "funnels_weekly_custom_event.json": "no 'data.series' list",
    "funnels_list.json": "is a JSON list",
    "insights_saved_report.json": "no 'data' object",
    "error_429_query_rate_limit_61_of_60.json": "no 'data' object (top-level keys: 'request', 'error')",
    "error_429_query_rate_limit_401_of_400_redacted.json": "no 'data' object",
}


def test_payload_tables_cover_every_file():
    files = {path.name for path in FIXTURES.glob("*.json")}

    assert files == {"segmentation_general_by_day.json"} | set(SEGMENT_TOTALS) | set(REJECTED)


@pytest.mark.parametrize("name", sorted(SEGMENT_TOTALS))
async def test_payload_segments_parsed(client, fake, name):
    fake.serve_payload(name)
    date_range, expected = SEGMENT_TOTALS[name]

    ranked = await client.top_values(EventQuery("any"), "value", [date_range], 10)

    assert ranked[date_range] == [RankedValue(value, count) for value, count in expected.items()]


async def test_payload_event_series_parsed(client, fake):
    fake.serve_payload("segmentation_general_by_day.json")
    date_range = DateRange(date(2011, 8, 6), date(2011, 8, 9))

    counts = await client.event_counts([EventQuery("Signed up")], [date_range])

    assert counts[EventQuery("Signed up")][date_range] == 147 + 146 + 776 + 1376


@pytest.mark.parametrize("name", sorted(REJECTED))
async def test_payload_rejected(client, fake, name):
    fake.serve_payload(name)

    with pytest.raises(ProviderResponseError) as raised:
        await client.event_counts([EventQuery("Signed up")], RANGES)

    assert "/segmentation response" in str(raised.value)
    assert REJECTED[name] in str(raised.value)
