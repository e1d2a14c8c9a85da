"""Reporting from the platform's own event log in MongoDB, with no third party.

Each event document has ``event`` (the name), ``timestamp`` (ISO string or BSON date),
``userId`` (string) and ``params`` (the event parameters). Every question is answered
by one aggregation, with the same string-or-date window filters as the database cards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any

from analytics_service.providers.base import (
    DateRange,
    EventQuery,
    ProviderUsage,
    RankedValue,
)
from analytics_service.query.bounds import combine, count_if, in_window, time_range_filter
from analytics_service.query.handlers.series import as_utc, boundary_keys, bucket_branches, daily_counts
from analytics_service.timeframes import daily_boundaries, day_range_window

DEFAULT_COLLECTION = "analytics_events"
TIME_FIELD = "timestamp"
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _parameter_path(name: str) -> str:
    # Parameter names become field paths, so only plain identifiers are accepted.
    if not _PARAMETER_NAME.match(name):
        raise ValueError(f"invalid event parameter name {name!r}; expected letters, digits and underscores")
    return "params." + name


def _query_filter(query: EventQuery) -> dict[str, Any]:
    conditions: dict[str, Any] = {"event": query.event}
    for name, value in query.parameters.items():
        conditions[_parameter_path(name)] = value
    return conditions


class EventsClient:
    """Answers the reporting questions from an events collection."""

    name = "events"

    def __init__(self, database: Any, tz: tzinfo, collection: str = DEFAULT_COLLECTION) -> None:
        self._database = database
        self._tz = tz
        self._collection = collection
        self.usage = ProviderUsage()

    async def missing_data_reason(self) -> str | None:
        """Return why no event data exists (an empty collection), or None when there is some."""
        self.usage.requests += 1
        if await self._database[self._collection].find_one({}, {"_id": 1}) is None:
            return f"the {self._collection} collection has no events, so this data does not exist here"
        return None

    async def _aggregate(self, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.usage.requests += 1
        cursor = await self._database[self._collection].aggregate(pipeline, allowDiskUse=True)
        return await cursor.to_list(None)

    def _span_filter(self, ranges: Sequence[DateRange]) -> dict[str, Any]:
        start = day_range_window(min(item.start for item in ranges), min(item.start for item in ranges), self._tz)
        end = day_range_window(max(item.end for item in ranges), max(item.end for item in ranges), self._tz)
        return time_range_filter(TIME_FIELD, start.start, end.end)

    async def event_counts(
        self, queries: Sequence[EventQuery], ranges: Sequence[DateRange]
    ) -> dict[EventQuery, dict[DateRange, int]]:
        if not queries or not ranges:
            return {query: {} for query in queries}

        # Group by event name and the parameter values any query filters on, with one
        # counter per range; matching rows to queries happens here, so the per-document
        # work in MongoDB does not grow with the number of queries.
        parameters = sorted({name for query in queries for name in query.parameters})
        key: dict[str, Any] = {"event": "$event"}
        for index, name in enumerate(parameters):
            key[f"p{index}"] = "$" + _parameter_path(name)
        group: dict[str, Any] = {"_id": key}
        for range_index, date_range in enumerate(ranges):
            window = day_range_window(date_range.start, date_range.end, self._tz)
            group[f"r{range_index}"] = count_if(in_window(TIME_FIELD, window))
        names = sorted({query.event for query in queries})
        rows = await self._aggregate([
            {"$match": combine({"event": {"$in": names}}, self._span_filter(ranges))},
            {"$group": group},
        ])

        counts = {query: dict.fromkeys(ranges, 0) for query in queries}
        for row in rows:
            values = {name: row["_id"].get(f"p{index}") for index, name in enumerate(parameters)}
            for query in queries:
                if query.event != row["_id"].get("event"):
                    continue
                if any(values[name] != value for name, value in query.parameters.items()):
                    continue
                for range_index, date_range in enumerate(ranges):
                    counts[query][date_range] += int(row.get(f"r{range_index}", 0))
        return counts

    async def daily_event_counts(
        self, queries: Sequence[EventQuery], date_range: DateRange
    ) -> dict[EventQuery, dict[date, int]]:
        days = date_range.dates()
        edges = daily_boundaries(days, self._tz)
        string_keys, date_keys = boundary_keys(edges)
        facets: dict[str, list] = {}
        for index, query in enumerate(queries):
            string_branch, date_branch = bucket_branches(TIME_FIELD, _query_filter(query), edges)
            facets[f"s{index}"] = string_branch
            facets[f"d{index}"] = date_branch
        if not facets:
            return {}
        result = (await self._aggregate([{"$facet": facets}]))[0]
        counts = {}
        for index, query in enumerate(queries):
            by_string = daily_counts(result[f"s{index}"], string_keys)
            by_date = daily_counts(as_utc(result[f"d{index}"]), date_keys)
            counts[query] = {day: first + second for day, first, second in zip(days, by_string, by_date, strict=True)}
        return counts

    async def active_users(self, ranges: Sequence[DateRange]) -> dict[DateRange, int | None]:
        if not ranges:
            return {}
        facets = {}
        for index, date_range in enumerate(ranges):
            window = day_range_window(date_range.start, date_range.end, self._tz)
            facets[f"r{index}"] = [
                {"$match": combine({"userId": {"$type": "string"}},
                                   time_range_filter(TIME_FIELD, window.start, window.end))},
                {"$group": {"_id": "$userId"}},
                {"$count": "n"},
            ]
        result = (await self._aggregate([{"$facet": facets}]))[0]
        return {date_range: int(result[f"r{index}"][0]["n"]) if result[f"r{index}"] else 0
                for index, date_range in enumerate(ranges)}

    async def daily_active_users(self, date_range: DateRange) -> dict[date, int]:
        days = date_range.dates()
        edges = daily_boundaries(days, self._tz)
        string_keys, date_keys = boundary_keys(edges)
        output = {"users": {"$addToSet": "$userId"}}
        string_branch, date_branch = bucket_branches(TIME_FIELD, {"userId": {"$type": "string"}}, edges, output)
        result = (await self._aggregate([{"$facet": {"s": string_branch, "d": date_branch}}]))[0]

        # A user may have events with string and with date timestamps on the same day,
        # so the two branches' user sets are merged before counting.
        users_by_day: list[set[str]] = [set() for _ in days]
        for rows, keys in ((result["s"], string_keys), (as_utc(result["d"]), date_keys)):
            position_of = {key: position for position, key in enumerate(keys[:-1])}
            for row in rows:
                position = position_of.get(row["_id"])
                if position is not None:
                    users_by_day[position].update(row["users"])
        return {day: len(users) for day, users in zip(days, users_by_day, strict=True)}

    async def top_values(
        self, query: EventQuery, parameter: str, ranges: Sequence[DateRange], limit: int
    ) -> dict[DateRange, list[RankedValue]]:
        path = _parameter_path(parameter)
        facets = {}
        for index, date_range in enumerate(ranges):
            window = day_range_window(date_range.start, date_range.end, self._tz)
            facets[f"r{index}"] = [
                {"$match": combine(_query_filter(query), {path: {"$type": "string"}},
                                   time_range_filter(TIME_FIELD, window.start, window.end))},
                {"$group": {"_id": "$" + path, "n": {"$sum": 1}}},
                {"$sort": {"n": -1, "_id": 1}},
                {"$limit": limit},
            ]
        if not facets:
            return {}
        result = (await self._aggregate([{"$facet": facets}]))[0]
        return {date_range: [RankedValue(str(row["_id"]), int(row["n"])) for row in result[f"r{index}"]]
                for index, date_range in enumerate(ranges)}

    async def close(self) -> None:
        return None
