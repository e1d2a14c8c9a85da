"""Build filter expressions for Mixpanel's segmentation endpoint and parse its responses.

The response shape follows the examples in Mixpanel's Query API reference
(docs.mixpanel.com/reference/segmentation-query, generated from openapi/query.openapi.yaml in
github.com/mixpanel/docs):

    {"data": {"series": ["2011-08-08", "2011-08-09", "2011-08-06", "2011-08-07"],
              "values": {"Signed up": {"2011-08-06": 147, "2011-08-07": 146, ...}}},
     "legend_size": 1}

``series`` is not sorted, and a value map leaves out the dates that had no events. Without
``on`` the value maps are keyed by the event name, with ``on`` by segment value.
``legend_size`` is ignored, because the reference's own examples contradict it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from analytics_service.providers.base import ProviderConfigurationError, ProviderResponseError

PROVIDER = "mixpanel"

PARAMETER_NAME = re.compile(r"[A-Za-z0-9_]+")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def property_expression(name: str) -> str:
    """Return the expression ``properties["<name>"]`` for an event parameter.

    Raises ProviderConfigurationError unless the name contains only letters, digits and
    underscores, so a name can never close the quoted string it is placed in.
    """
    if not PARAMETER_NAME.fullmatch(name):
        raise ProviderConfigurationError(
            PROVIDER,
            f"invalid event parameter name {name!r}: use only letters, digits and underscores",
        )
    return f'properties["{name}"]'


def where_expression(parameters: Mapping[str, str | int]) -> str | None:
    """Build the ``where`` filter that requires each event parameter to equal its value.

    Integers stay unquoted (``properties["step_index"] == 0``) so that they compare with
    numeric properties. Strings become JSON string literals. Conditions are joined with
    ``and`` in name order, so equal queries build equal requests and share cache entries.
    Returns None when there are no parameters.
    """
    conditions = [f"{property_expression(name)} == {_literal(name, parameters[name])}" for name in sorted(parameters)]
    return " and ".join(conditions) or None


def _literal(name: str, value: object) -> str:
    # bool is a subclass of int, but True would be sent as the number 1.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ProviderConfigurationError(
            PROVIDER,
            f"event parameter {name!r} has a value of type {type(value).__name__} ({value!r}): "
            "use a string or an integer",
        )
    # NOTE: Mixpanel's reference does not list the escapes that its string literals accept.
    # Quotes and backslashes are escaped as in JSON, which only the test fake has checked.
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class SegmentationSeries:
    """Counts from one segmentation response, by series name and day.

    A series name is the event name for a request without ``on`` and a segment value with
    ``on``. Days that a value map leaves out count as 0.
    """

    days: tuple[date, ...]
    values: Mapping[str, Mapping[date, int]]

    def event_counts(self, event: str, endpoint: str) -> Mapping[date, int]:
        """Return the daily counts of ``event`` from a response to a request without ``on``."""
        if event in self.values:
            return self.values[event]
        if not self.values:
            return {}
        raise ProviderResponseError(
            PROVIDER,
            f"{endpoint} response has no values for event {event!r} (value keys: {_key_list(self.values)})",
        )


def parse_segmentation(body: object, endpoint: str) -> SegmentationSeries:
    """Parse a segmentation response body that was already decoded from JSON.

    Raises ProviderResponseError naming the endpoint and the missing or malformed member.
    """
    if not isinstance(body, dict):
        raise ProviderResponseError(
            PROVIDER, f"{endpoint} response is a JSON {type(body).__name__}, expected an object with 'data'"
        )

    data = body.get("data")
    if not isinstance(data, dict):
        raise ProviderResponseError(
            PROVIDER, f"{endpoint} response has no 'data' object (top-level keys: {_key_list(body)})"
        )

    series = data.get("series")
    if not isinstance(series, list):
        raise ProviderResponseError(
            PROVIDER, f"{endpoint} response has no 'data.series' list (keys in 'data': {_key_list(data)})"
        )
    days = sorted({_parse_day(entry, endpoint, "data.series") for entry in series})

    values = data.get("values")
    if not isinstance(values, dict):
        raise ProviderResponseError(
            PROVIDER, f"{endpoint} response has no 'data.values' object (keys in 'data': {_key_list(data)})"
        )

    parsed: dict[str, dict[date, int]] = {}
    for name, counts in values.items():
        if not isinstance(counts, dict):
            raise ProviderResponseError(
                PROVIDER,
                f"{endpoint} response has a {type(counts).__name__} for {name!r} in 'data.values', "
                "expected an object of counts by date",
            )
        parsed[name] = {
            _parse_day(day, endpoint, f"data.values[{name!r}]"): _parse_count(count, endpoint, name, day)
            for day, count in counts.items()
        }
    return SegmentationSeries(days=tuple(days), values=parsed)


def _parse_day(text: object, endpoint: str, member: str) -> date:
    if isinstance(text, str) and ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ProviderResponseError(PROVIDER, f"{endpoint} response has {text!r} in {member}, expected a YYYY-MM-DD date")


def _parse_count(value: object, endpoint: str, name: str, day: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ProviderResponseError(
        PROVIDER, f"{endpoint} response has {value!r} for {name!r} on {day}, expected a whole number"
    )


def _key_list(mapping: Mapping[str, object]) -> str:
    return ", ".join(repr(key) for key in mapping) or "none"
