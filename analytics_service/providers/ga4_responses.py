"""Read GA4 Data API report responses: rows by date range, metric strings, property quota."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from google.analytics.data_v1beta import types

from analytics_service.providers.base import ProviderResponseError
from analytics_service.providers.ga4_requests import DATE_RANGE, range_name

PROVIDER = "ga4"

# A plain decimal number. The API sends every metric value as a string and sometimes sends
# a fraction for an integer metric ("344.234" for totalUsers).
_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")

# PropertyQuota fields and the names the API's JSON form gives them.
_QUOTA_FIELDS = {
    "tokens_per_day": "tokensPerDay",
    "tokens_per_hour": "tokensPerHour",
    "concurrent_requests": "concurrentRequests",
    "server_errors_per_project_per_hour": "serverErrorsPerProjectPerHour",
    "potentially_thresholded_requests_per_hour": "potentiallyThresholdedRequestsPerHour",
    "tokens_per_project_per_hour": "tokensPerProjectPerHour",
}


def parse_count(text: str, metric: str) -> int:
    """Parse an integer metric value, truncating a fraction toward zero.

    Raises ProviderResponseError for anything but a non-negative decimal number.
    """
    if not _NUMBER.fullmatch(text):
        raise ProviderResponseError(PROVIDER, f"metric {metric} has the non-numeric value {text!r}")
    return int(Decimal(text))


def parse_report_date(text: str) -> date:
    """Parse a ``date`` dimension value (YYYYMMDD)."""
    if len(text) != 8 or not text.isdigit():
        raise ProviderResponseError(PROVIDER, f"date dimension value {text!r} is not in YYYYMMDD form")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ProviderResponseError(PROVIDER, f"date dimension value {text!r} is not a calendar date") from None


@dataclass
class ReportTable:
    """The rows of one report, merged from all its pages."""

    dimension_names: list[str]
    metric_names: list[str]
    rows: list[types.Row]
    row_count: int = 0
    data_loss_from_other_row: bool = False

    @classmethod
    def from_response(cls, response: types.RunReportResponse) -> ReportTable:
        return cls(
            dimension_names=[header.name for header in response.dimension_headers],
            metric_names=[header.name for header in response.metric_headers],
            rows=list(response.rows),
            row_count=response.row_count,
            data_loss_from_other_row=response.metadata.data_loss_from_other_row,
        )


@dataclass(frozen=True)
class ReportRow:
    """One row of a report: the index of its date range, its other dimensions, its metric."""

    range_index: int
    dimensions: dict[str, str]
    count: int


def read_rows(table: ReportTable, metric: str, range_count: int, dimensions: Sequence[str] = ()) -> Iterator[ReportRow]:
    """Yield each row with its date range, taken from the ``dateRange`` dimension.

    A row is matched to a range by its ``dateRange`` value (``r0``… or the API's default
    ``date_range_0``…), never by its ``date``. A report with several ranges can contain
    rows whose ``date`` lies outside the range they are listed under, so callers that use
    ``date`` check it against the range as well.
    """
    if metric not in table.metric_names:
        raise ProviderResponseError(PROVIDER, f"response lacks the requested metric {metric}: {table.metric_names}")
    for name in dimensions:
        if name not in table.dimension_names:
            raise ProviderResponseError(
                PROVIDER, f"response lacks the requested dimension {name}: {table.dimension_names}"
            )
    metric_index = table.metric_names.index(metric)
    range_indexes = {range_name(index): index for index in range(range_count)}
    range_indexes.update({f"date_range_{index}": index for index in range(range_count)})
    has_range_dimension = DATE_RANGE in table.dimension_names
    if range_count > 1 and not has_range_dimension:
        raise ProviderResponseError(
            PROVIDER, f"response to a report with {range_count} date ranges lacks the dateRange dimension"
        )

    for row in table.rows:
        values = [value.value for value in row.dimension_values]
        if len(values) != len(table.dimension_names) or len(row.metric_values) != len(table.metric_names):
            raise ProviderResponseError(PROVIDER, "a response row does not match the response headers")
        row_dimensions = dict(zip(table.dimension_names, values, strict=True))
        range_index = 0
        if has_range_dimension:
            label = row_dimensions.pop(DATE_RANGE)
            if label not in range_indexes:
                raise ProviderResponseError(PROVIDER, f"response row names an unknown date range {label!r}")
            range_index = range_indexes[label]
        count = parse_count(row.metric_values[metric_index].value, metric)
        yield ReportRow(range_index=range_index, dimensions=row_dimensions, count=count)


def dimension_combinations(response: types.RunReportResponse) -> int:
    """Count the distinct dimension-value combinations in a page, ignoring ``dateRange``.

    The API's ``row_count`` counts these combinations, not rows: a report with two date
    ranges can return 74 rows with a ``row_count`` of 37.
    """
    names = [header.name for header in response.dimension_headers]
    indexes = [index for index, name in enumerate(names) if name != DATE_RANGE]
    combinations = set()
    for row in response.rows:
        values = row.dimension_values
        combinations.add(tuple(values[index].value for index in indexes if index < len(values)))
    return len(combinations)


def property_quota(response: types.RunReportResponse) -> dict[str, dict[str, int]]:
    """Return the response's PropertyQuota by JSON quota name; empty when the response has none."""
    if "property_quota" not in response:
        return {}
    quota = response.property_quota
    return {
        json_name: {"consumed": getattr(quota, field).consumed, "remaining": getattr(quota, field).remaining}
        for field, json_name in _QUOTA_FIELDS.items()
        if field in quota
    }


def row_key(dimensions: dict[str, str], names: Sequence[str]) -> tuple[str, ...]:
    return tuple(dimensions[name] for name in names)
