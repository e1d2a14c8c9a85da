"""A naive sync: one query per card, time frame and window, as the platform's earlier job did.

The earlier job sent eight queries per KPI: a ``count_documents`` for the current and the
previous window of each of the four frames. This module does the same for every
database-backed KPI, and one query per chart frame (plus one lookup query where a card
joins headlines or entities). It reads the card records of the catalogue for *what* to
count, but builds its own filters, so it shares only the window arithmetic of
``analytics_service.timeframes`` with the service.

Values are returned so ``bench.sync_cost`` can check them against the service's cards.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from analytics_service.catalogue import ALL_CARDS, Card, CardKind
from analytics_service.catalogue.ranked import RANKED_LIST_SIZE
from analytics_service.catalogue.sources import (
    ActiveRewardsByType,
    ActiveRewardUsers,
    DailyCount,
    GroupCount,
    HeadlineEngagement,
    MostFollowed,
    MostLikedHeadlines,
    SnapshotArrayLength,
    SnapshotCount,
    WindowCount,
    WindowFieldSum,
    WindowMeanDuration,
)
from analytics_service.timeframes import (
    TimeFrame,
    Window,
    daily_boundaries,
    daily_bucket_days,
    format_bound,
    frame_windows,
    parse_timestamp,
)

# (value, previous) of one KPI frame, or None where the service stores the frame as unavailable.
KpiValue = tuple[float, float | None] | None


@dataclass
class NaiveTally:
    """Queries sent by the naive sync and the documents they touched.

    ``matched`` is the number of documents that pass each query's filter, summed over
    queries: what a server with a fitting index would examine at least. ``returned``
    counts result documents, the result of a ``count_documents`` being one.
    """

    by_method: Counter = field(default_factory=Counter)
    matched: int = 0
    returned: int = 0

    @property
    def queries(self) -> int:
        return sum(self.by_method.values())

    def record(self, method: str, matched: int, returned: int) -> None:
        self.by_method[method] += 1
        self.matched += matched
        self.returned += returned


@dataclass
class NaiveResults:
    kpis: dict[str, dict[TimeFrame, KpiValue]] = field(default_factory=dict)
    # Daily charts: one count per calendar day of each frame.
    series: dict[str, dict[TimeFrame, list[int]]] = field(default_factory=dict)
    # Bar charts: counts per category key, before the service's top-10 cut and ordering.
    bars: dict[str, dict[TimeFrame, Counter]] = field(default_factory=dict)


def window_filter(time_field: str, window: Window) -> dict[str, Any]:
    """Match ``time_field`` in ``window``, whether stored as an ISO string or a BSON date.

    No guard against malformed strings or arrays: the demo dataset has none, and the
    earlier job had none either.
    """
    string_range: dict[str, Any] = {"$lt": format_bound(window.end)}
    date_range: dict[str, Any] = {"$lt": window.end}
    if window.start is not None:
        string_range["$gte"] = format_bound(window.start)
        date_range["$gte"] = window.start
    return {"$or": [{time_field: string_range}, {time_field: date_range}]}


def both(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    return {"$and": [first, second]} if first else second


def object_ids(entity_ids: list[str]) -> list[Any]:
    """Return each string id with its ObjectId form, as stored ``_id`` values may be either."""
    variants: list[Any] = []
    for entity_id in entity_ids:
        variants.append(entity_id)
        try:
            variants.append(ObjectId(entity_id))
        except (InvalidId, TypeError):
            pass
    return variants


class NaiveSync:
    """Computes the database-backed cards with one query per card, frame and window."""

    def __init__(self, database: Any, now: datetime, tz: tzinfo) -> None:
        self.database = database
        self.now = now
        self.tz = tz
        self.windows = {frame: frame_windows(frame, now, tz) for frame in TimeFrame}
        self.tally = NaiveTally()

    # Query helpers: each sends one round trip and records it.

    async def count(self, collection: str, query: dict[str, Any]) -> int:
        value = await self.database[collection].count_documents(query)
        self.tally.record("count_documents", matched=value, returned=1)
        return value

    async def aggregate(self, collection: str, pipeline: list[dict[str, Any]], matched_key: str = "n") -> list[dict]:
        """Run one pipeline; the matched documents are the sum of ``matched_key`` over its rows."""
        cursor = await self.database[collection].aggregate(pipeline)
        rows = await cursor.to_list(None)
        matched = sum(row.get(matched_key, 0) for row in rows)
        self.tally.record("aggregate", matched=matched, returned=len(rows))
        return rows

    async def find(self, collection: str, query: dict[str, Any], projection: dict[str, Any]) -> list[dict]:
        documents = await self.database[collection].find(query, projection).to_list(None)
        self.tally.record("find", matched=len(documents), returned=len(documents))
        return documents

    async def find_by_ids(self, collection: str, entity_ids: list[str], projection: dict[str, Any]) -> dict[str, dict]:
        if not entity_ids:
            return {}
        documents = await self.find(collection, {"_id": {"$in": object_ids(entity_ids)}}, projection)
        return {str(document["_id"]): document for document in documents}

    def frame_pairs(self, card: Card, cumulative: bool = False) -> list[tuple[TimeFrame, Window, Window]]:
        pairs = []
        for frame in card.frames:
            current, previous = self.windows[frame].current, self.windows[frame].previous
            if cumulative:
                current, previous = Window(None, current.end), Window(None, previous.end)
            pairs.append((frame, current, previous))
        return pairs

    # KPI cards: eight queries for a windowed KPI, four for a snapshot.

    async def window_count(self, card: Card, source: WindowCount) -> dict[TimeFrame, KpiValue]:
        values = {}
        for frame, current, previous in self.frame_pairs(card, source.cumulative):
            value = await self.count(source.collection, both(dict(source.match), window_filter(source.time_field, current)))
            before = await self.count(source.collection, both(dict(source.match), window_filter(source.time_field, previous)))
            values[frame] = (value, before)
        return values

    async def snapshot_count(self, card: Card, source: SnapshotCount) -> dict[TimeFrame, KpiValue]:
        return {frame: (await self.count(source.collection, dict(source.match)), None) for frame in card.frames}

    async def array_length(self, card: Card, source: SnapshotArrayLength) -> dict[TimeFrame, KpiValue]:
        reference = "$" + source.array_field
        pipeline = [
            {"$match": {source.array_field: {"$type": "array"}}},
            {"$group": {"_id": None, "total": {"$sum": {"$size": reference}}, "n": {"$sum": 1}}},
        ]
        values = {}
        for frame in card.frames:
            rows = await self.aggregate(source.collection, pipeline)
            values[frame] = (rows[0]["total"] if rows else 0, None)
        return values

    async def field_sum(self, card: Card, source: WindowFieldSum) -> dict[TimeFrame, KpiValue]:
        async def window_sum(window: Window) -> tuple[float, int]:
            query = both({source.value_field: {"$type": "number"}}, window_filter(source.time_field, window))
            rows = await self.aggregate(source.collection, [
                {"$match": query},
                {"$group": {"_id": None, "total": {"$sum": "$" + source.value_field}, "n": {"$sum": 1}}},
            ])
            return (rows[0]["total"], rows[0]["n"]) if rows else (0, 0)

        values: dict[TimeFrame, KpiValue] = {}
        for frame, current, previous in self.frame_pairs(card):
            value, documents = await window_sum(current)
            before, documents_before = await window_sum(previous)
            if not documents:
                # The service stores a frame without documents as unavailable, not as 0.
                values[frame] = None
                continue
            values[frame] = (value, before if documents_before else None)
        return values

    async def mean_duration(self, card: Card, source: WindowMeanDuration) -> dict[TimeFrame, KpiValue]:
        async def window_mean(window: Window) -> float | None:
            query = both(dict(source.match), window_filter(source.start_field, window))
            documents = await self.find(source.collection, query, {source.start_field: 1, source.end_field: 1})
            durations = []
            for document in documents:
                started = parse_timestamp(document.get(source.start_field))
                ended = parse_timestamp(document.get(source.end_field))
                if started is not None and ended is not None and ended >= started:
                    durations.append((ended - started).total_seconds())
            return round(sum(durations) / len(durations), 3) if durations else None

        values: dict[TimeFrame, KpiValue] = {}
        for frame, current, previous in self.frame_pairs(card):
            value = await window_mean(current)
            before = await window_mean(previous)
            values[frame] = None if value is None else (value, before)
        return values

    async def active_rewards(self, collection: str) -> list[dict[str, Any]]:
        """Return the rewards (type and user) that expire after now, read with one query."""
        documents = await self.find(collection, {"activeRewards": {"$type": "object"}}, {"activeRewards": 1})
        active = []
        for document in documents:
            for reward_type, expiry in document["activeRewards"].items():
                moment = parse_timestamp(expiry)
                if moment is not None and moment > self.now:
                    active.append({"type": reward_type, "user": document["_id"]})
        return active

    async def active_reward_users(self, card: Card, source: ActiveRewardUsers) -> dict[TimeFrame, KpiValue]:
        values = {}
        for frame in card.frames:
            rewards = await self.active_rewards(source.collection)
            values[frame] = (len({reward["user"] for reward in rewards}), None)
        return values

    # Chart cards: one query per frame (the current window only, as the service shows).

    async def daily_count(self, card: Card, source: DailyCount) -> dict[TimeFrame, list[int]]:
        """Read the frame's timestamps with one find and count them per calendar day."""
        series = {}
        for frame in card.frames:
            edges = daily_boundaries(daily_bucket_days(frame, self.now, self.tz), self.tz)
            query = both(dict(source.match), window_filter(source.time_field, Window(edges[0], edges[-1])))
            documents = await self.find(source.collection, query, {source.time_field: 1})
            counts = [0] * (len(edges) - 1)
            for document in documents:
                moment = parse_timestamp(document.get(source.time_field))
                if moment is not None:
                    counts[bisect_right(edges, moment) - 1] += 1
            series[frame] = counts
        return series

    async def group_count(self, card: Card, source: GroupCount) -> dict[TimeFrame, Counter]:
        key: Any = "$" + source.group_field
        if source.fallback_field is not None:
            key = {"$ifNull": [key, "$" + source.fallback_field]}
        bars = {}
        for frame in card.frames:
            query = dict(source.match)
            if not source.snapshot:
                query = both(query, window_filter(source.time_field, self.windows[frame].current))
            rows = await self.aggregate(source.collection, [{"$match": query}, {"$group": {"_id": key, "n": {"$sum": 1}}}])
            bars[frame] = Counter()
            for row in rows:
                bars[frame][self.category(row["_id"], source)] += row["n"]
        return bars

    @staticmethod
    def category(value: Any, source: GroupCount) -> str:
        """Return the bar key of a grouped value: booleans as True/False, missing as unknown."""
        if value is None:
            return "unknown"
        if isinstance(value, bool):
            text = "True" if value else "False"
        else:
            text = str(value)
        return source.aliases.get(text, text)

    async def rewards_by_type(self, card: Card, source: ActiveRewardsByType) -> dict[TimeFrame, Counter]:
        bars = {}
        for frame in card.frames:
            rewards = await self.active_rewards(source.collection)
            bars[frame] = Counter(reward["type"] for reward in rewards)
        return bars

    async def engagement_by_headline(self, window: Window, likes_only: bool) -> list[dict[str, Any]]:
        """Count reactions and comments (or likes) per headline in ``window``: one query."""
        has_reaction = {"$ne": [{"$ifNull": ["$reaction", None]}, None]}
        has_comment = {"$ne": [{"$ifNull": ["$comment", None]}, None]}
        if likes_only:
            value = {"$cond": [{"$eq": ["$reaction.reactionType", "like"]}, 1, 0]}
        else:
            value = {"$add": [{"$cond": [has_reaction, 1, 0]}, {"$cond": [has_comment, 1, 0]}]}
        query = both({"entityType": "headline", "entityId": {"$type": "string"}}, window_filter("createdAt", window))
        return await self.aggregate("engagements", [
            {"$match": query},
            {"$group": {"_id": "$entityId", "value": {"$sum": value}, "n": {"$sum": 1}}},
        ])

    async def headline_engagement(self, card: Card, source: HeadlineEngagement) -> None:
        """Send the queries of an engagement breakdown; the values are not compared."""
        for frame in card.frames:
            rows = await self.engagement_by_headline(self.windows[frame].current, likes_only=False)
            await self.find_by_ids("headlines", [row["_id"] for row in rows if row["value"]],
                                   {"topic": 1, "source": 1, "mentionedPersons": 1})

    # Ranked lists: a ranking query and a lookup of the ranked entities, per frame.

    async def most_liked(self, card: Card, source: MostLikedHeadlines) -> None:
        for frame in card.frames:
            rows = await self.engagement_by_headline(self.windows[frame].current, likes_only=True)
            ranked = sorted((row for row in rows if row["value"]), key=lambda row: (-row["value"], row["_id"]))
            await self.find_by_ids("headlines", [row["_id"] for row in ranked[:RANKED_LIST_SIZE]], {"title": 1})

    async def most_followed(self, card: Card, source: MostFollowed) -> None:
        item = "$" + source.array_field
        pipeline = [
            {"$match": {source.array_field: {"$type": "array"}}},
            {"$unwind": item},
            {"$group": {"_id": item + ".id", "n": {"$sum": 1}}},
            {"$sort": {"n": -1, "_id": 1}},
            {"$limit": RANKED_LIST_SIZE},
        ]
        for _frame in card.frames:
            rows = await self.aggregate("user_content_preferences", pipeline)
            await self.find_by_ids(source.entity_collection, [row["_id"] for row in rows], {"name": 1})

    async def run(self, cards: tuple[Card, ...] = ALL_CARDS) -> NaiveResults:
        """Compute every database-backed card; provider and unavailable cards send nothing."""
        kpi_readers = {
            WindowCount: self.window_count, SnapshotCount: self.snapshot_count,
            SnapshotArrayLength: self.array_length, WindowFieldSum: self.field_sum,
            WindowMeanDuration: self.mean_duration, ActiveRewardUsers: self.active_reward_users,
        }
        bar_readers = {GroupCount: self.group_count, ActiveRewardsByType: self.rewards_by_type}
        query_only = {HeadlineEngagement: self.headline_engagement, MostLikedHeadlines: self.most_liked,
                      MostFollowed: self.most_followed}
        results = NaiveResults()
        for card in cards:
            source_type = type(card.source)
            if card.kind is CardKind.KPI and source_type in kpi_readers:
                results.kpis[card.id] = await kpi_readers[source_type](card, card.source)
            elif source_type is DailyCount:
                results.series[card.id] = await self.daily_count(card, card.source)
            elif source_type in bar_readers:
                results.bars[card.id] = await bar_readers[source_type](card, card.source)
            elif source_type in query_only:
                await query_only[source_type](card, card.source)
        return results


def daily_chart_queries(cards: tuple[Card, ...] = ALL_CARDS) -> tuple[int, int]:
    """Return the queries of the daily charts with one count per day, and with one find per frame.

    The first figure is for a job that counts each chart day separately. It is computed,
    not run, to keep the benchmark within its time budget.
    """
    per_day = per_frame = 0
    for card in cards:
        if isinstance(card.source, DailyCount):
            per_day += sum(frame.days for frame in card.frames)
            per_frame += len(card.frames)
    return per_day, per_frame
