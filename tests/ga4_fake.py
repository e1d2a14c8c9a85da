"""A local GA4 Data API v1beta gRPC server for tests, bound to 127.0.0.1 only.

It serves RunReport and BatchRunReports to the real google-analytics-data async client.
Each call returns, in this order of preference:

- the next entry of ``script``: a response message to send back as it is, or a
  ``ScriptedError`` to abort the call with;
- a report computed from ``events`` the way the Data API computes one.

How the computed reports imitate the API:

- rows are grouped by the requested dimensions (eventName, date, customEvent:<param>),
  and customEvent dimensions must be registered, else INVALID_ARGUMENT with the API's message;
- with several date ranges each row gets a ``dateRange`` value (the range's name, or
  ``date_range_<i>``), and every dimension combination appears once per range, so with
  ``date`` a row can carry a day outside its range, with zero metrics;
- ``keepEmptyRows`` keeps all-zero rows, otherwise they are dropped;
- ``rowCount`` counts dimension combinations, and ``offset``/``limit`` page over them;
- without ``orderBys`` the rows of a page come back shuffled, interleaving the ranges;
- at most 4 date ranges, 9 dimensions, 10 metrics and 5 reports per batch.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import grpc
from google.analytics.data_v1beta import BetaAnalyticsDataAsyncClient, types
from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
    BetaAnalyticsDataGrpcAsyncIOTransport,
)

SERVICE = "google.analytics.data.v1beta.BetaAnalyticsData"
HOST = "127.0.0.1"

SCHEMA_URL = "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
# The API's PERMISSION_DENIED message, as a 403 response body shows it.
PERMISSION_DENIED_MESSAGE = (
    "User does not have sufficient permissions for this property. To learn more about Property ID, "
    "see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id."
)
NOT_SET = "(not set)"
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 250_000

# Quota sizes of a standard property, as the PropertyQuota docs of google-analytics-data 0.23 give them.
QUOTA_LIMITS = {
    "tokens_per_day": 200_000,
    "tokens_per_hour": 40_000,
    "concurrent_requests": 10,
    "server_errors_per_project_per_hour": 10,
    "potentially_thresholded_requests_per_hour": 120,
    "tokens_per_project_per_hour": 14_000,
}
TOKENS_PER_REPORT = 10
SERVER_ERROR_CODES = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
}


@dataclass(frozen=True)
class FakeEvent:
    """``count`` events named ``name`` logged on ``day`` by ``user``, with parameters ``params``."""

    day: date
    name: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    count: int = 1
    user: str = "user-1"


@dataclass(frozen=True)
class ScriptedError:
    code: grpc.StatusCode
    message: str

    @classmethod
    def from_payload(cls, path: Path) -> ScriptedError:
        """Read an error body: the REST envelope, its inner object, or the gRPC status shape."""
        body = json.loads(path.read_text(encoding="utf-8"))
        error = body.get("error", body)
        return cls(grpc.StatusCode[error["status"]], error["message"])


class FakeStatusError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_dimension_message(name: str) -> str:
    # The API's message ends with a space after the URL.
    return f"Field {name} is not a valid dimension. For a list of valid dimensions and metrics, see {SCHEMA_URL} "


class FakeGA4Server:
    def __init__(
        self,
        events: Iterable[FakeEvent] = (),
        *,
        custom_dimensions: Iterable[str] = (),
        property_id: str = "123456",
        fractional_metrics: bool = False,
    ) -> None:
        self.events = list(events)
        self.custom_dimensions = set(custom_dimensions)
        self.property_id = property_id
        # Send "<n>.75" in place of "<n>" for non-zero metrics, like the published "344.234" for totalUsers.
        self.fractional_metrics = fractional_metrics
        self.script: deque[object] = deque()
        self.calls: list[tuple[str, object]] = []
        self.tokens_consumed = 0
        self.server_errors = 0
        self._server: grpc.aio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        handlers = {
            "RunReport": grpc.unary_unary_rpc_method_handler(
                self._run_report,
                request_deserializer=types.RunReportRequest.deserialize,
                response_serializer=types.RunReportResponse.serialize,
            ),
            "BatchRunReports": grpc.unary_unary_rpc_method_handler(
                self._batch_run_reports,
                request_deserializer=types.BatchRunReportsRequest.deserialize,
                response_serializer=types.BatchRunReportsResponse.serialize,
            ),
        }
        self._server = grpc.aio.server()
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        self.port = self._server.add_insecure_port(f"{HOST}:0")
        await self._server.start()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(None)

    def client(self) -> BetaAnalyticsDataAsyncClient:
        """Return a real async client whose channel leads to this server."""
        address = f"{HOST}:{self.port}"
        transport = BetaAnalyticsDataGrpcAsyncIOTransport(host=address, channel=grpc.aio.insecure_channel(address))
        return BetaAnalyticsDataAsyncClient(transport=transport)

    @property
    def batch_calls(self) -> list[types.BatchRunReportsRequest]:
        return [request for method, request in self.calls if method == "BatchRunReports"]

    @property
    def reports(self) -> list[types.RunReportRequest]:
        """Every report request received, in order, from RunReport and BatchRunReports calls."""
        reports = []
        for method, request in self.calls:
            reports.extend(request.requests if method == "BatchRunReports" else [request])
        return reports

    async def _run_report(self, request: types.RunReportRequest, context) -> types.RunReportResponse:
        self.calls.append(("RunReport", request))
        try:
            scripted = self._next_scripted()
            if scripted is not None:
                return scripted
            self._check_property(request.property)
            return self.report(request)
        except FakeStatusError as error:
            await context.abort(error.code, error.message)

    async def _batch_run_reports(self, request: types.BatchRunReportsRequest, context) -> types.BatchRunReportsResponse:
        self.calls.append(("BatchRunReports", request))
        try:
            scripted = self._next_scripted()
            if scripted is not None:
                return scripted
            self._check_property(request.property)
            if not 1 <= len(request.requests) <= 5:
                raise FakeStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Requests must have between 1 and 5 reports; found {len(request.requests)}.",
                )
            for report in request.requests:
                if report.property:
                    self._check_property(report.property)
            return types.BatchRunReportsResponse(
                reports=[self.report(report) for report in request.requests], kind="analyticsData#batchRunReports"
            )
        except FakeStatusError as error:
            await context.abort(error.code, error.message)

    def _next_scripted(self) -> object | None:
        if not self.script:
            return None
        entry = self.script.popleft()
        if isinstance(entry, ScriptedError):
            if entry.code in SERVER_ERROR_CODES:
                self.server_errors += 1
            raise FakeStatusError(entry.code, entry.message)
        return entry

    def _check_property(self, name: str) -> None:
        if name != f"properties/{self.property_id}":
            raise FakeStatusError(grpc.StatusCode.PERMISSION_DENIED, PERMISSION_DENIED_MESSAGE)

    def report(self, request: types.RunReportRequest) -> types.RunReportResponse:
        """Compute the response the Data API would send for ``request`` over ``events``."""
        dimensions = [dimension.name for dimension in request.dimensions]
        metrics = [metric.name for metric in request.metrics]
        self._validate(request, dimensions, metrics)
        ranges = [
            (item.name or f"date_range_{index}", date.fromisoformat(item.start_date), date.fromisoformat(item.end_date))
            for index, item in enumerate(request.date_ranges)
        ]
        several_ranges = len(ranges) > 1

        in_any_range = [
            event
            for event in self.events
            if any(start <= event.day <= end for _, start, end in ranges)
            and (not _has_filter(request) or _matches(request.dimension_filter, self._value_getter(event)))
        ]
        by_combination: dict[tuple[str, ...], list[FakeEvent]] = {}
        for event in in_any_range:
            key = tuple(self._value_getter(event)(name) for name in dimensions)
            by_combination.setdefault(key, []).append(event)

        table: dict[tuple[str, ...], list[tuple[str, list[int]]]] = {}
        for key, events in by_combination.items():
            range_rows = []
            for label, start, end in ranges:
                in_range = [event for event in events if start <= event.day <= end]
                values = [_metric_value(metric, in_range) for metric in metrics]
                if request.keep_empty_rows or any(values):
                    range_rows.append((label, values))
            if range_rows:
                table[key] = range_rows

        combinations = _ordered(table, request.order_bys, dimensions, metrics)
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        page = combinations[request.offset : request.offset + limit]
        rows = []
        for key in page:
            for label, values in table[key]:
                dimension_values = [*key, label] if several_ranges else list(key)
                rows.append(
                    types.Row(
                        dimension_values=[types.DimensionValue(value=value) for value in dimension_values],
                        metric_values=[types.MetricValue(value=self._format(value)) for value in values],
                    )
                )
        if not request.order_bys:
            random.Random(len(rows)).shuffle(rows)

        response = types.RunReportResponse(
            dimension_headers=[
                types.DimensionHeader(name=name) for name in dimensions + (["dateRange"] if several_ranges else [])
            ],
            metric_headers=[types.MetricHeader(name=name, type_=types.MetricType.TYPE_INTEGER) for name in metrics],
            rows=rows,
            row_count=len(combinations),
            metadata=types.ResponseMetaData(currency_code="USD", time_zone="Etc/UTC"),
            kind="analyticsData#runReport",
        )
        self.tokens_consumed += TOKENS_PER_REPORT
        if request.return_property_quota:
            response.property_quota = self._property_quota()
        return response

    def _validate(self, request: types.RunReportRequest, dimensions: list[str], metrics: list[str]) -> None:
        if not 1 <= len(request.date_ranges) <= 4:
            raise FakeStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Requests must have between 1 and 4 dateRanges; found {len(request.date_ranges)}.",
            )
        if len(dimensions) > 9 or len(metrics) > 10:
            raise FakeStatusError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Requests are limited to 9 dimensions and 10 metrics; found {len(dimensions)} and {len(metrics)}.",
            )
        for name in dimensions + _filter_fields(request):
            known = name in ("eventName", "date") or name.removeprefix("customEvent:") in self.custom_dimensions
            if not known:
                raise FakeStatusError(grpc.StatusCode.INVALID_ARGUMENT, invalid_dimension_message(name))
        for name in metrics:
            if name not in ("eventCount", "activeUsers"):
                raise FakeStatusError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Field {name} is not a valid metric. For a list of valid dimensions and metrics, see {SCHEMA_URL} ",
                )

    def _value_getter(self, event: FakeEvent) -> Callable[[str], str]:
        def value(name: str) -> str:
            if name == "eventName":
                return event.name
            if name == "date":
                return event.day.strftime("%Y%m%d")
            parameter = name.removeprefix("customEvent:")
            return str(event.params[parameter]) if parameter in event.params else NOT_SET

        return value

    def _format(self, value: int) -> str:
        return f"{value}.75" if self.fractional_metrics and value else str(value)

    def _property_quota(self) -> types.PropertyQuota:
        consumed = {
            "tokens_per_day": self.tokens_consumed,
            "tokens_per_hour": self.tokens_consumed,
            "concurrent_requests": 0,
            "server_errors_per_project_per_hour": self.server_errors,
            "potentially_thresholded_requests_per_hour": 0,
            "tokens_per_project_per_hour": self.tokens_consumed,
        }
        return types.PropertyQuota(
            **{
                name: types.QuotaStatus(consumed=consumed[name], remaining=max(0, limit - consumed[name]))
                for name, limit in QUOTA_LIMITS.items()
            }
        )


def _metric_value(metric: str, events: list[FakeEvent]) -> int:
    if metric == "eventCount":
        return sum(event.count for event in events)
    return len({event.user for event in events})


def _ordered(
    table: dict[tuple[str, ...], list[tuple[str, list[int]]]],
    order_bys: Iterable[types.OrderBy],
    dimensions: list[str],
    metrics: list[str],
) -> list[tuple[str, ...]]:
    """Order dimension combinations by ``order_bys``, then by their values."""
    combinations = sorted(table)
    for order_by in reversed(list(order_bys)):
        if "metric" in order_by:
            index = metrics.index(order_by.metric.metric_name)
            combinations.sort(key=lambda key: sum(values[index] for _, values in table[key]), reverse=order_by.desc)
        elif "dimension" in order_by:
            index = dimensions.index(order_by.dimension.dimension_name)
            combinations.sort(key=lambda key: key[index], reverse=order_by.desc)
    return combinations


def _has_filter(request: types.RunReportRequest) -> bool:
    return "dimension_filter" in request


def _filter_fields(request: types.RunReportRequest) -> list[str]:
    if not _has_filter(request):
        return []
    fields = []
    pending = [request.dimension_filter]
    while pending:
        expression = pending.pop()
        if "and_group" in expression:
            pending.extend(expression.and_group.expressions)
        elif "or_group" in expression:
            pending.extend(expression.or_group.expressions)
        elif "not_expression" in expression:
            pending.append(expression.not_expression)
        elif "filter" in expression:
            fields.append(expression.filter.field_name)
    return fields


def _matches(expression: types.FilterExpression, value: Callable[[str], str]) -> bool:
    if "and_group" in expression:
        return all(_matches(item, value) for item in expression.and_group.expressions)
    if "or_group" in expression:
        return any(_matches(item, value) for item in expression.or_group.expressions)
    if "not_expression" in expression:
        return not _matches(expression.not_expression, value)
    return _filter_matches(expression.filter, value(expression.filter.field_name))


def _filter_matches(condition: types.Filter, actual: str) -> bool:
    if "string_filter" in condition:
        string_filter = condition.string_filter
        if string_filter.match_type not in (
            types.Filter.StringFilter.MatchType.EXACT,
            types.Filter.StringFilter.MatchType.MATCH_TYPE_UNSPECIFIED,
        ):
            raise FakeStatusError(grpc.StatusCode.UNIMPLEMENTED, "the fake supports EXACT string filters only")
        if string_filter.case_sensitive:
            return actual == string_filter.value
        return actual.lower() == string_filter.value.lower()
    if "in_list_filter" in condition:
        in_list = condition.in_list_filter
        if in_list.case_sensitive:
            return actual in in_list.values
        return actual.lower() in {value.lower() for value in in_list.values}
    raise FakeStatusError(grpc.StatusCode.UNIMPLEMENTED, "the fake supports string and in-list filters only")
