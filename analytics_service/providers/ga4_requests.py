"""Build GA4 Data API v1beta report requests and check them against the API's limits.

The limits are the ones the Data API reference documents for ``runReport`` and
``batchRunReports``: 4 date ranges per report, 5 reports per batch, 9 dimensions,
10 metrics and 250,000 rows per page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TypeVar

from google.analytics.data_v1beta import types

from analytics_service.providers.base import DateRange, EventQuery

MAX_DATE_RANGES = 4
MAX_REPORTS_PER_BATCH = 5
MAX_DIMENSIONS = 9
MAX_METRICS = 10
MAX_PAGE_SIZE = 250_000

EVENT_COUNT = "eventCount"
ACTIVE_USERS = "activeUsers"
EVENT_NAME = "eventName"
DATE = "date"
# Added by the API to every row when a report has several date ranges.
DATE_RANGE = "dateRange"

Item = TypeVar("Item")


def chunked(items: Sequence[Item], size: int) -> list[list[Item]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def unique(items: Iterable[Item]) -> list[Item]:
    """Return ``items`` without repeats, in first-seen order."""
    return list(dict.fromkeys(items))


def custom_dimension(parameter: str) -> str:
    """Return the API name of the event-scoped custom dimension for an event parameter."""
    return f"customEvent:{parameter}"


def range_name(index: int) -> str:
    # The API rejects names that start with "date_range_" or "RESERVED_".
    return f"r{index}"


def parameter_value(value: str | int) -> str:
    """Return an event parameter value as the API reports it: integers in decimal form."""
    if isinstance(value, bool):
        raise ValueError(f"event parameter values must be strings or integers, not {value!r}")
    return str(value)


def parameter_names(query: EventQuery) -> tuple[str, ...]:
    return tuple(sorted(query.parameters))


def query_key(query: EventQuery) -> tuple[str, ...]:
    """Return the row key of a query: its event name, then its parameter values by parameter name."""
    return (query.event, *(parameter_value(query.parameters[name]) for name in parameter_names(query)))


def format_date(day: date) -> str:
    return day.isoformat()


def _string_filter(field_name: str, values: Sequence[str]) -> types.FilterExpression:
    # Event names and parameter values are case-sensitive in GA4, but the API's string
    # filters ignore case unless case_sensitive is set.
    if len(values) == 1:
        string_filter = types.Filter.StringFilter(
            match_type=types.Filter.StringFilter.MatchType.EXACT, value=values[0], case_sensitive=True
        )
        return types.FilterExpression(filter=types.Filter(field_name=field_name, string_filter=string_filter))
    in_list_filter = types.Filter.InListFilter(values=list(values), case_sensitive=True)
    return types.FilterExpression(filter=types.Filter(field_name=field_name, in_list_filter=in_list_filter))


def event_filter(queries: Sequence[EventQuery]) -> types.FilterExpression:
    """Build a filter that keeps the rows of every query in ``queries``.

    All queries must share the same parameter names. The filter is the product of the
    per-field value lists, so it can also keep rows that no query asked for (event A with
    the parameter value of event B). Callers match rows back to queries by their full key.
    """
    names = {parameter_names(query) for query in queries}
    if len(names) != 1:
        raise ValueError(f"queries in one report must use the same parameters, got {sorted(names)}")
    expressions = [_string_filter(EVENT_NAME, unique(query.event for query in queries))]
    for name in names.pop():
        values = unique(parameter_value(query.parameters[name]) for query in queries)
        expressions.append(_string_filter(custom_dimension(name), values))
    if len(expressions) == 1:
        return expressions[0]
    return types.FilterExpression(and_group=types.FilterExpressionList(expressions=expressions))


def report_request(
    *,
    property_name: str,
    dimensions: Sequence[str],
    metric: str,
    ranges: Sequence[DateRange],
    limit: int,
    dimension_filter: types.FilterExpression | None = None,
    order_bys: Sequence[types.OrderBy] = (),
) -> types.RunReportRequest:
    """Build one report request; ranges are named ``r0``, ``r1``, … in order."""
    request = types.RunReportRequest(
        property=property_name,
        dimensions=[types.Dimension(name=name) for name in dimensions],
        metrics=[types.Metric(name=metric)],
        date_ranges=[
            types.DateRange(start_date=format_date(item.start), end_date=format_date(item.end), name=range_name(index))
            for index, item in enumerate(ranges)
        ],
        limit=limit,
        order_bys=list(order_bys),
        keep_empty_rows=True,
        return_property_quota=True,
    )
    if dimension_filter is not None:
        request.dimension_filter = dimension_filter
    return request


def top_values_order() -> list[types.OrderBy]:
    """Order by event count, largest first."""
    return [types.OrderBy(metric=types.OrderBy.MetricOrderBy(metric_name=EVENT_COUNT), desc=True)]


def check_report_limits(request: types.RunReportRequest) -> None:
    """Raise ValueError if the API would reject ``request`` for breaking a documented limit."""
    if not 1 <= len(request.date_ranges) <= MAX_DATE_RANGES:
        raise ValueError(f"a GA4 report needs 1 to {MAX_DATE_RANGES} date ranges, got {len(request.date_ranges)}")
    if len(request.dimensions) > MAX_DIMENSIONS:
        names = [dimension.name for dimension in request.dimensions]
        raise ValueError(f"a GA4 report allows at most {MAX_DIMENSIONS} dimensions, got {len(names)}: {names}")
    if len(request.metrics) > MAX_METRICS:
        raise ValueError(f"a GA4 report allows at most {MAX_METRICS} metrics, got {len(request.metrics)}")
    if not 1 <= request.limit <= MAX_PAGE_SIZE:
        raise ValueError(f"a GA4 report row limit must be 1 to {MAX_PAGE_SIZE}, got {request.limit}")


def check_batch_limits(requests: Sequence[types.RunReportRequest]) -> None:
    """Raise ValueError if a batchRunReports call with ``requests`` would break a documented limit."""
    if not 1 <= len(requests) <= MAX_REPORTS_PER_BATCH:
        raise ValueError(f"a GA4 batch needs 1 to {MAX_REPORTS_PER_BATCH} reports, got {len(requests)}")
    for request in requests:
        check_report_limits(request)
