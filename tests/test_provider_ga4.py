"""GA4Client against a local fake of the Data API, through the real google-analytics-data client."""

from __future__ import annotations

import json
import logging
import random
from datetime import date, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.analytics.data_v1beta import types

from analytics_service.providers.base import (
    DateRange,
    EventQuery,
    ProviderConfigurationError,
    ProviderError,
    ProviderQuotaError,
    ProviderResponseError,
    RankedValue,
)
from analytics_service.providers.ga4 import GA4Client
from analytics_service.providers.ga4_credentials import is_loopback
from analytics_service.providers.ga4_requests import check_batch_limits, check_report_limits
from analytics_service.providers.ga4_responses import (
    ReportTable,
    parse_count,
    parse_report_date,
    property_quota,
    read_rows,
)
from analytics_service.providers.ga4_runner import RetrySettings
from tests.ga4_fake import FakeEvent, FakeGA4Server, ScriptedError

PROPERTY_ID = "123456"
FIXTURES = Path(__file__).parent / "fixtures" / "providers" / "ga4"
FIRST_DAY = date(2026, 11, 1)


def day(offset: int) -> date:
    return FIRST_DAY + timedelta(days=offset)


def days(first: int, last: int) -> DateRange:
    return DateRange(day(first), day(last))


def load_response(name: str) -> types.RunReportResponse:
    return types.RunReportResponse.from_json((FIXTURES / name).read_text(encoding="utf-8"), ignore_unknown_fields=True)


def expected_count(events: list[FakeEvent], query: EventQuery, date_range: DateRange) -> int:
    return sum(
        event.count
        for event in events
        if event.name == query.event
        and date_range.contains(event.day)
        and all(str(event.params.get(name)) == str(value) for name, value in query.parameters.items())
    )


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


# Four weeks of events: a view every day, a login every other day, tour steps 0-2 in turn,
# and five content ids of different popularity.
EVENTS = (
    [
        FakeEvent(day(n), "contentViewed", {"contentId": f"c{n % 5}"}, count=n % 5 + 1, user=f"u{n % 3}")
        for n in range(28)
    ]
    + [FakeEvent(day(n), "userLogin", count=2, user=f"u{n % 4}") for n in range(0, 28, 2)]
    + [FakeEvent(day(n), "appTourStepViewed", {"step_index": n % 3}, user="u9") for n in range(28)]
)
WEEKS = [days(start, start + 6) for start in range(0, 22, 3)]


@pytest.fixture
async def fake():
    server = FakeGA4Server(EVENTS, custom_dimensions={"contentId", "step_index"}, property_id=PROPERTY_ID)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def ga4(fake, sleep):
    client = GA4Client(PROPERTY_ID, fake.client(), sleep=sleep, rng=random.Random(7))
    yield client
    await client.close()


# --- constructor and factory ---------------------------------------------------------------


@pytest.mark.parametrize("property_id", ["", "G-ABC1234", "12 34", "properties/123", "١٢٣"])
def test_property_id_must_be_digits(property_id):
    with pytest.raises(ValueError, match="property_id"):
        GA4Client(property_id, client=None)


def service_account_info() -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "reporting@test-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "http://127.0.0.1:1/token",
    }


async def test_factory_reads_key_file(tmp_path):
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(service_account_info()))

    client = GA4Client.from_service_account(PROPERTY_ID, key_file, endpoint="127.0.0.1:1")

    assert client.property_id == PROPERTY_ID
    assert client.name == "ga4"
    await client.close()


async def test_factory_reads_json_text():
    client = GA4Client.from_service_account(PROPERTY_ID, json.dumps(service_account_info()), endpoint="127.0.0.1:1")

    assert client.property_id == PROPERTY_ID
    await client.close()


async def test_factory_loopback_endpoint_plaintext(fake):
    service_account = json.dumps(service_account_info())

    client = GA4Client.from_service_account(PROPERTY_ID, service_account, endpoint=f"127.0.0.1:{fake.port}")
    users = await client.active_users(WEEKS[:1])

    assert users[WEEKS[0]] == len({event.user for event in EVENTS if WEEKS[0].contains(event.day)})
    await client.close()


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("127.0.0.1:8443", True),
        ("127.0.0.2:443", True),
        ("localhost:50051", True),
        ("[::1]:443", True),
        ("::1", True),
        ("10.0.0.1:443", False),
        ("analytics.example.net:443", False),
    ],
)
def test_loopback_endpoint_detection(endpoint, expected):
    assert is_loopback(endpoint) is expected


def test_factory_missing_file(tmp_path):
    path = tmp_path / "missing.json"
    with pytest.raises(ProviderConfigurationError, match="cannot read the service-account key file") as caught:
        GA4Client.from_service_account(PROPERTY_ID, path, endpoint="127.0.0.1:1")
    assert str(path) in str(caught.value)


def test_factory_invalid_json():
    with pytest.raises(ProviderConfigurationError, match="not valid JSON"):
        GA4Client.from_service_account(PROPERTY_ID, '{"type": "service_account",', endpoint="127.0.0.1:1")


def test_factory_rejects_user_credentials():
    text = json.dumps({"type": "authorized_user", "client_id": "1", "refresh_token": "r"})
    with pytest.raises(ProviderConfigurationError, match="'authorized_user'"):
        GA4Client.from_service_account(PROPERTY_ID, text, endpoint="127.0.0.1:1")


def test_factory_hides_private_key():
    info = service_account_info()
    info["private_key"] = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n"

    with pytest.raises(ProviderConfigurationError) as caught:
        GA4Client.from_service_account(PROPERTY_ID, json.dumps(info), endpoint="127.0.0.1:1")

    assert "TOPSECRETKEYMATERIAL" not in str(caught.value)
    assert "reporting@test-project.iam.gserviceaccount.com" in str(caught.value)
    assert caught.value.__cause__ is None


def test_factory_missing_fields():
    text = json.dumps({"type": "service_account", "private_key": "x"})
    with pytest.raises(ProviderConfigurationError, match="client_email"):
        GA4Client.from_service_account(PROPERTY_ID, text, endpoint="127.0.0.1:1")


# --- request packing ------------------------------------------------------------------------


async def test_eight_ranges_two_reports(ga4, fake):
    query = EventQuery("contentViewed")

    counts = await ga4.event_counts([query], WEEKS)

    assert len(fake.batch_calls) == 1
    assert [len(report.date_ranges) for report in fake.reports] == [4, 4]
    assert [item.name for item in fake.reports[0].date_ranges] == ["r0", "r1", "r2", "r3"]
    assert counts[query] == {week: expected_count(EVENTS, query, week) for week in WEEKS}


async def test_seven_reports_two_batches(ga4, fake):
    ranges = [days(n, n + 3) for n in range(7)]

    await ga4.top_values(EventQuery("contentViewed"), "contentId", ranges, 3)

    assert [len(call.requests) for call in fake.batch_calls] == [5, 2]


async def test_report_request_settings(ga4, fake):
    await ga4.event_counts([EventQuery("contentViewed")], WEEKS[:1])

    report = fake.reports[0]
    assert fake.batch_calls[0].property == f"properties/{PROPERTY_ID}"
    assert report.keep_empty_rows is True
    assert report.return_property_quota is True
    assert [metric.name for metric in report.metrics] == ["eventCount"]
    assert [dimension.name for dimension in report.dimensions] == ["eventName"]
    assert (report.date_ranges[0].start_date, report.date_ranges[0].end_date) == ("2026-11-01", "2026-11-07")


async def test_several_events_in_list_filter(ga4, fake):
    queries = [EventQuery("contentViewed"), EventQuery("userLogin"), EventQuery("neverLogged")]

    counts = await ga4.event_counts(queries, WEEKS[:2])

    in_list = fake.reports[0].dimension_filter.filter.in_list_filter
    assert fake.reports[0].dimension_filter.filter.field_name == "eventName"
    assert list(in_list.values) == ["contentViewed", "userLogin", "neverLogged"]
    assert in_list.case_sensitive is True
    for query in queries:
        assert counts[query] == {week: expected_count(EVENTS, query, week) for week in WEEKS[:2]}


async def test_integer_and_string_values_match(ga4, fake):
    queries = [EventQuery("appTourStepViewed", {"step_index": 1}), EventQuery("appTourStepViewed", {"step_index": "1"})]

    counts = await ga4.event_counts(queries, WEEKS[:1])

    expected = expected_count(EVENTS, queries[0], WEEKS[0])
    assert expected > 0
    assert counts[queries[0]][WEEKS[0]] == expected
    assert counts[queries[1]][WEEKS[0]] == expected


async def test_parameter_queries_share_report(ga4, fake):
    queries = [EventQuery("appTourStepViewed", {"step_index": step}) for step in (0, 1, 2)]
    queries.append(EventQuery("userLogin"))

    counts = await ga4.event_counts(queries, WEEKS[:4])

    assert len(fake.reports) == 2
    step_report = fake.reports[0]
    assert [dimension.name for dimension in step_report.dimensions] == ["eventName", "customEvent:step_index"]
    step_filter = step_report.dimension_filter.and_group.expressions[1].filter
    assert step_filter.field_name == "customEvent:step_index"
    assert list(step_filter.in_list_filter.values) == ["0", "1", "2"]
    for query in queries:
        assert counts[query] == {week: expected_count(EVENTS, query, week) for week in WEEKS[:4]}


async def test_guard_rejects_ten_dimensions(ga4, fake):
    query = EventQuery("contentViewed", {f"p{index}": "x" for index in range(9)})

    with pytest.raises(ValueError, match="at most 9 dimensions"):
        await ga4.event_counts([query], WEEKS[:1])

    assert fake.calls == []


def test_guard_limits():
    def request(ranges=1, dimensions=0, metrics=1):
        return types.RunReportRequest(
            date_ranges=[types.DateRange(start_date="2026-11-01", end_date="2026-11-02")] * ranges,
            dimensions=[types.Dimension(name=f"d{index}") for index in range(dimensions)],
            metrics=[types.Metric(name=f"m{index}") for index in range(metrics)],
            limit=10,
        )

    check_batch_limits([request(ranges=4, dimensions=9, metrics=10)] * 5)
    with pytest.raises(ValueError, match="4 date ranges"):
        check_report_limits(request(ranges=5))
    with pytest.raises(ValueError, match="9 dimensions"):
        check_report_limits(request(dimensions=10))
    with pytest.raises(ValueError, match="10 metrics"):
        check_report_limits(request(metrics=11))
    with pytest.raises(ValueError, match="5 reports"):
        check_batch_limits([request()] * 6)


# --- row matching and metric values ---------------------------------------------------------


async def test_interleaved_ranges_matched(ga4, fake):
    query = EventQuery("contentViewed")
    ranges = WEEKS[:4]

    counts = await ga4.event_counts([query], ranges)

    labels = [row.dimension_values[-1].value for row in fake.report(fake.reports[0]).rows]
    assert labels != sorted(labels)
    assert counts[query] == {week: expected_count(EVENTS, query, week) for week in ranges}


async def test_keep_empty_rows_zeros(ga4, fake):
    fake.events = [FakeEvent(day(1), "contentShared", count=4)]
    query = EventQuery("contentShared")
    ranges = [days(0, 2), days(10, 12)]

    counts = await ga4.event_counts([query, EventQuery("neverLogged")], ranges)

    zero_rows = [row for row in fake.report(fake.reports[0]).rows if row.metric_values[0].value == "0"]
    assert len(zero_rows) == 1
    assert counts[query] == {ranges[0]: 4, ranges[1]: 0}
    assert counts[EventQuery("neverLogged")] == {ranges[0]: 0, ranges[1]: 0}


async def test_fractional_strings_truncated(ga4, fake):
    fake.fractional_metrics = True
    query = EventQuery("contentViewed")

    counts = await ga4.event_counts([query], WEEKS[:2])

    assert counts[query] == {week: expected_count(EVENTS, query, week) for week in WEEKS[:2]}


@pytest.mark.parametrize(
    ("text", "expected"), [("344.234", 344), ("169.345345", 169), ("0", 0), ("7", 7), ("12.999", 12), ("1e3", 1000)]
)
def test_parse_count_truncates(text, expected):
    assert parse_count(text, "eventCount") == expected


@pytest.mark.parametrize("text", ["", "abc", "12abc", "NaN", "Infinity", "-3", " 4", "1,000"])
def test_parse_count_rejects(text):
    with pytest.raises(ProviderResponseError, match="non-numeric"):
        parse_count(text, "eventCount")


async def test_non_numeric_metric_rejected(ga4, fake):
    response = types.RunReportResponse(
        dimension_headers=[types.DimensionHeader(name="eventName")],
        metric_headers=[types.MetricHeader(name="eventCount")],
        rows=[
            types.Row(
                dimension_values=[types.DimensionValue(value="contentViewed")],
                metric_values=[types.MetricValue(value="(not set)")],
            )
        ],
        row_count=1,
    )
    fake.script.append(types.BatchRunReportsResponse(reports=[response]))

    with pytest.raises(ProviderResponseError, match="eventCount"):
        await ga4.event_counts([EventQuery("contentViewed")], WEEKS[:1])


async def test_missing_metric_rejected(ga4, fake):
    fake.script.append(
        types.BatchRunReportsResponse(reports=[load_response("runreport_yearweek_minimal_no_metadata.json")])
    )

    with pytest.raises(ProviderResponseError, match="lacks the requested metric eventCount"):
        await ga4.event_counts([EventQuery("contentViewed")], WEEKS[:1])


def test_parse_report_date():
    assert parse_report_date("20221102") == date(2022, 11, 2)
    with pytest.raises(ProviderResponseError, match="YYYYMMDD"):
        parse_report_date("2022-11-02")
    with pytest.raises(ProviderResponseError, match="not a calendar date"):
        parse_report_date("20220231")


# --- daily series and the 48-hour re-read ---------------------------------------------------


async def test_daily_fills_missing_days(ga4, fake):
    fake.events = [FakeEvent(day(2), "userLogin", count=3), FakeEvent(day(5), "userLogin")]
    query = EventQuery("userLogin")

    series = await ga4.daily_event_counts([query], days(0, 6))

    assert series[query] == {day(n): {2: 3, 5: 1}.get(n, 0) for n in range(7)}
    assert [dimension.name for dimension in fake.reports[0].dimensions] == ["eventName", "date"]


async def test_daily_ignores_rows_outside_range(ga4, fake):
    def row(date_value: str, count: str) -> types.Row:
        return types.Row(
            dimension_values=[types.DimensionValue(value=value) for value in ("userLogin", date_value, "r0")],
            metric_values=[types.MetricValue(value=count)],
        )

    response = types.RunReportResponse(
        dimension_headers=[types.DimensionHeader(name=name) for name in ("eventName", "date", "dateRange")],
        metric_headers=[types.MetricHeader(name="eventCount")],
        rows=[row("20261102", "5"), row("20261020", "9")],
        row_count=2,
    )
    fake.script.append(types.BatchRunReportsResponse(reports=[response]))
    query = EventQuery("userLogin")

    series = await ga4.daily_event_counts([query], days(0, 2))

    assert series[query] == {day(0): 0, day(1): 5, day(2): 0}


async def test_daily_parameter_queries(ga4, fake):
    queries = [EventQuery("appTourStepViewed", {"step_index": step}) for step in (0, 2)]

    series = await ga4.daily_event_counts(queries, days(0, 5))

    for query in queries:
        assert series[query] == {day(n): expected_count(EVENTS, query, DateRange(day(n), day(n))) for n in range(6)}


async def test_daily_pages_until_row_count(fake, sleep):
    ga4 = GA4Client(PROPERTY_ID, fake.client(), sleep=sleep, page_size=3)
    query = EventQuery("contentViewed")

    series = await ga4.daily_event_counts([query], days(0, 6))

    assert [report.offset for report in fake.reports] == [0, 3, 6]
    assert series[query] == {day(n): expected_count(EVENTS, query, DateRange(day(n), day(n))) for n in range(7)}
    await ga4.close()


async def test_daily_second_call_rereads_recent_days(ga4, fake):
    query = EventQuery("userLogin")
    await ga4.daily_event_counts([query], days(0, 9))
    fake.events = [*EVENTS, FakeEvent(day(3), "userLogin", count=50), FakeEvent(day(9), "userLogin", count=7)]

    series = await ga4.daily_event_counts([query], days(0, 9))

    second = fake.reports[1].date_ranges
    assert [(item.start_date, item.end_date) for item in second] == [("2026-11-09", "2026-11-10")]
    assert series[query][day(3)] == expected_count(EVENTS, query, DateRange(day(3), day(3)))
    assert series[query][day(9)] == 7


async def test_daily_uncached_spans_share_report(ga4, fake):
    query = EventQuery("contentViewed")
    await ga4.daily_event_counts([query], days(10, 19))

    series = await ga4.daily_event_counts([query], days(0, 25))

    second = fake.reports[1].date_ranges
    assert [(item.start_date, item.end_date) for item in second] == [
        ("2026-11-01", "2026-11-10"),
        ("2026-11-19", "2026-11-26"),
    ]
    assert series[query] == {day(n): expected_count(EVENTS, query, DateRange(day(n), day(n))) for n in range(26)}


async def test_daily_active_users_rereads_recent_days(ga4, fake):
    first = await ga4.daily_active_users(days(0, 6))
    second = await ga4.daily_active_users(days(0, 6))

    assert first == second
    assert first[day(0)] == len({event.user for event in EVENTS if event.day == day(0)})
    ranges = fake.reports[1].date_ranges
    assert [(item.start_date, item.end_date) for item in ranges] == [("2026-11-06", "2026-11-07")]


# --- active users and top values ------------------------------------------------------------


async def test_active_users_four_ranges_per_report(ga4, fake):
    users = await ga4.active_users(WEEKS)

    assert [len(report.date_ranges) for report in fake.reports] == [4, 4]
    assert [metric.name for metric in fake.reports[0].metrics] == ["activeUsers"]
    for week in WEEKS:
        assert users[week] == len({event.user for event in EVENTS if week.contains(event.day)})


async def test_top_values_ordered(ga4, fake):
    ranked = await ga4.top_values(EventQuery("contentViewed"), "contentId", [days(0, 9)], 3)

    order_by = fake.reports[0].order_bys[0]
    assert (order_by.metric.metric_name, order_by.desc) == ("eventCount", True)
    assert ranked[days(0, 9)] == [RankedValue("c4", 10), RankedValue("c3", 8), RankedValue("c2", 6)]


async def test_top_values_pages_with_offset(fake, sleep):
    ga4 = GA4Client(PROPERTY_ID, fake.client(), sleep=sleep, page_size=2)
    fake.events = [FakeEvent(day(0), "contentViewed", {"contentId": f"c{n}"}, count=10 - n) for n in range(9)]

    ranked = await ga4.top_values(EventQuery("contentViewed"), "contentId", [days(0, 1)], 5)

    assert [(report.offset, report.limit) for report in fake.reports] == [(0, 2), (2, 2), (4, 2), (6, 1)]
    assert ranked[days(0, 1)] == [RankedValue(f"c{n}", 10 - n) for n in range(5)]
    await ga4.close()


async def test_top_values_skip_placeholders(ga4, fake):
    fake.events = [
        FakeEvent(day(0), "contentViewed", count=9),
        FakeEvent(day(0), "contentViewed", {"contentId": "(other)"}, count=7),
        FakeEvent(day(0), "contentViewed", {"contentId": "a"}, count=5),
        FakeEvent(day(0), "contentViewed", {"contentId": "b"}, count=2),
        FakeEvent(day(0), "contentViewed", {"contentId": "c"}, count=1),
    ]

    ranked = await ga4.top_values(EventQuery("contentViewed"), "contentId", [days(0, 0)], 2)

    assert ranked[days(0, 0)] == [RankedValue("a", 5), RankedValue("b", 2)]


# --- errors, retries and quota --------------------------------------------------------------


async def test_unregistered_dimension_configuration_error(ga4, fake):
    query = EventQuery("appReviewPromptResponded", {"feedback": "positive"})

    with pytest.raises(ProviderConfigurationError, match="Register an event-scoped custom dimension") as caught:
        await ga4.event_counts([query], WEEKS[:1])

    assert "customEvent:feedback" in str(caught.value)
    assert ga4.usage.requests == 1


async def test_invalid_argument_not_retried(ga4, fake, sleep):
    fake.script.append(ScriptedError.from_payload(FIXTURES / "error_400_unknown_custom_dimension_inner_object.json"))

    with pytest.raises(ProviderConfigurationError, match="customEvent:googlesitekit_post_type"):
        await ga4.active_users(WEEKS[:1])

    assert len(fake.calls) == 1
    assert sleep.delays == []


@pytest.mark.parametrize(
    "payload", ["error_403_permission_denied.json", "error_403_permission_denied_grpc_status_php_client.json"]
)
async def test_permission_denied_names_property(ga4, fake, payload):
    fake.script.append(ScriptedError.from_payload(FIXTURES / payload))

    with pytest.raises(ProviderConfigurationError, match="Viewer role") as caught:
        await ga4.active_users(WEEKS[:1])

    assert f"property {PROPERTY_ID}" in str(caught.value)
    assert len(fake.calls) == 1


async def test_wrong_property_permission_denied(fake, sleep):
    ga4 = GA4Client("999", fake.client(), sleep=sleep)

    with pytest.raises(ProviderConfigurationError, match="permission denied on property 999"):
        await ga4.active_users(WEEKS[:1])
    await ga4.close()


async def test_not_found_names_property(ga4, fake):
    fake.script.append(ScriptedError(grpc.StatusCode.NOT_FOUND, "Requested entity was not found."))

    with pytest.raises(ProviderConfigurationError, match=f"property {PROPERTY_ID} was not found"):
        await ga4.active_users(WEEKS[:1])


async def test_resource_exhausted_quota_error(ga4, fake, sleep):
    fake.script.append(
        ScriptedError(grpc.StatusCode.RESOURCE_EXHAUSTED, "Exhausted property tokens for a project per hour.")
    )

    with pytest.raises(ProviderQuotaError, match="Exhausted property tokens"):
        await ga4.active_users(WEEKS[:1])

    assert len(fake.calls) == 1
    assert sleep.delays == []


async def test_unauthenticated_configuration_error(ga4, fake):
    fake.script.append(
        ScriptedError(grpc.StatusCode.UNAUTHENTICATED, "Request had invalid authentication credentials.")
    )

    with pytest.raises(ProviderConfigurationError, match="service-account credentials"):
        await ga4.active_users(WEEKS[:1])

    assert len(fake.calls) == 1


async def test_retry_unavailable_then_success(ga4, fake, sleep, caplog):
    fake.script.append(ScriptedError(grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable."))

    with caplog.at_level(logging.WARNING):
        users = await ga4.active_users(WEEKS[:1])

    assert users[WEEKS[0]] == len({event.user for event in EVENTS if WEEKS[0].contains(event.day)})
    assert (ga4.usage.requests, ga4.usage.retries) == (2, 1)
    assert len(sleep.delays) == 1
    assert 0.5 <= sleep.delays[0] <= 1.0
    assert "UNAVAILABLE" in caplog.text


@pytest.mark.parametrize("code", [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN])
async def test_server_errors_retried(ga4, fake, code):
    fake.script.append(ScriptedError(code, "Internal error encountered."))

    await ga4.active_users(WEEKS[:1])

    assert ga4.usage.retries == 1
    assert len(fake.calls) == 2


async def test_retry_cap_reached(ga4, fake, sleep):
    for _ in range(4):
        fake.script.append(ScriptedError(grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable."))

    with pytest.raises(ProviderError, match="after 3 attempts with UNAVAILABLE") as caught:
        await ga4.active_users(WEEKS[:1])

    assert type(caught.value) is ProviderError
    assert len(fake.calls) == 3
    assert len(sleep.delays) == 2
    assert 1.0 <= sleep.delays[1] <= 2.0


def test_backoff_delay_capped():
    settings = RetrySettings(max_attempts=10, base_delay=1.0, max_delay=5.0)
    rng = random.Random(3)

    delays = [settings.delay(retry, rng) for retry in range(1, 8)]

    assert all(2.5 <= delay <= 5.0 for delay in delays[3:])
    assert 0.5 <= delays[0] <= 1.0


async def test_quota_recorded(ga4, fake):
    await ga4.event_counts([EventQuery("userLogin")], WEEKS[:1])

    assert set(ga4.usage.quota) == {
        "tokensPerDay",
        "tokensPerHour",
        "concurrentRequests",
        "serverErrorsPerProjectPerHour",
        "potentiallyThresholdedRequestsPerHour",
        "tokensPerProjectPerHour",
    }
    assert ga4.usage.quota["tokensPerDay"] == {
        "consumed": fake.tokens_consumed,
        "remaining": 200_000 - fake.tokens_consumed,
    }


# --- published payloads ---------------------------------------------------------------------


def test_fixture_payloads_parse():
    files = sorted(FIXTURES.glob("*.json"))

    assert len(files) == 9
    for path in files:
        if path.name.startswith("error_"):
            error = ScriptedError.from_payload(path)
            assert error.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED), path.name
            assert error.message, path.name
        else:
            response = load_response(path.name)
            assert isinstance(response, types.RunReportResponse), path.name


async def test_fixtures_served_through_run_report(fake):
    client = fake.client()
    for path in sorted(FIXTURES.glob("runreport_*.json")):
        expected = load_response(path.name)
        fake.script.append(expected)

        received = await client.run_report(request=types.RunReportRequest(property=f"properties/{PROPERTY_ID}"))

        assert received == expected, path.name
    await client.transport.close()


def test_fixture_two_ranges_match_totals():
    response = load_response("runreport_date_country_two_ranges_keep_empty.json")
    table = ReportTable.from_response(response)

    sessions = [0, 0]
    for row in read_rows(table, "sessions", 2, ["date"]):
        sessions[row.range_index] += row.count

    totals = [parse_count(total.metric_values[2].value, "sessions") for total in response.totals]
    assert sessions == totals == [31, 22]


def test_fixture_rows_outside_range_are_zero():
    table = ReportTable.from_response(load_response("runreport_date_country_two_ranges_keep_empty.json"))
    # date_range_0 covers December 2022 and date_range_1 November 2022.
    months = {0: 12, 1: 11}

    outside = [
        row
        for row in read_rows(table, "sessions", 2, ["date"])
        if parse_report_date(row.dimensions["date"]).month != months[row.range_index]
    ]

    assert len(outside) == 37
    assert all(row.count == 0 for row in outside)


def test_fixture_float_strings_truncated():
    table = ReportTable.from_response(load_response("runreport_date_device_os_browser_float_strings.json"))

    assert [row.count for row in read_rows(table, "totalUsers", 1)] == [344, 322]
    assert [row.count for row in read_rows(table, "newUsers", 1)] == [169, 211]


def test_fixture_null_metadata_reads_as_false():
    response = load_response("runreport_date_totals_minmax_null_metadata.json")

    assert ReportTable.from_response(response).data_loss_from_other_row is False
    assert response.row_count == 364


def test_fixture_quota_fragment():
    quota = property_quota(load_response("property_quota_fragment_tokens_per_project_low.json"))

    assert quota == {
        "concurrentRequests": {"consumed": 2, "remaining": 8},
        "tokensPerProjectPerHour": {"consumed": 5, "remaining": 172},
    }


# --- the dashboard's run ---------------------------------------------------------------------


async def test_dashboard_run_request_counts(ga4, fake):
    plain = [
        "userRegistered",
        "userLogin",
        "contentViewed",
        "contentShared",
        "contentSaved",
        "reportSubmitted",
        "appTourStarted",
        "appTourCompleted",
    ]
    queries = [EventQuery(name) for name in plain[:7]]
    queries += [EventQuery("appTourStepViewed", {"step_index": step}) for step in (0, 1, 2)]
    queries.append(EventQuery(plain[7]))
    last_day = day(27)
    two_years = DateRange(last_day - timedelta(days=729), last_day)
    one_year = DateRange(last_day - timedelta(days=364), last_day)
    shape = []

    async def count(call):
        before_calls, before_reports = len(fake.batch_calls), len(fake.reports)
        await call
        shape.append((len(fake.batch_calls) - before_calls, len(fake.reports) - before_reports))

    await count(ga4.event_counts(queries, WEEKS))
    await count(ga4.daily_event_counts(queries, two_years))
    await count(ga4.active_users(WEEKS))
    await count(ga4.daily_active_users(one_year))
    await count(ga4.top_values(EventQuery("contentViewed"), "contentId", WEEKS[:4], 100))

    assert shape == [(1, 4), (1, 2), (1, 2), (1, 1), (1, 4)]
    assert ga4.usage.requests == 5
