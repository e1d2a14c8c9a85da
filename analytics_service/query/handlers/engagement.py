"""Planners of engagement per headline: breakdowns by topic, source type, person, and most liked.

Engagements are grouped by headline id in one aggregation with a counter per window.
The headlines are then read by id list (see ``analytics_service.query.joins``), and the
per-headline counts are added up by headline attribute here. Both steps are shared by
every card of this kind in a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analytics_service.catalogue import Card
from analytics_service.catalogue.charts import SOURCE_TYPES
from analytics_service.catalogue.labels import sanitize_language_map, value_label
from analytics_service.catalogue.ranked import RANKED_LIST_SIZE
from analytics_service.catalogue.sources import HeadlineEngagement, MostLikedHeadlines
from analytics_service.query.bounds import combine, count_if, in_window, time_range_filter
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.handlers.groups import MAX_OPEN_BARS, UNKNOWN
from analytics_service.query.joins import find_by_ids
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.sync.data import CardData, DataPoint, RankedRow
from analytics_service.timeframes import KPI_FRAMES

ENGAGEMENTS = "engagements"
HEADLINE_FIELDS = {"title": 1, "topic": 1, "source": 1, "mentionedPersons": 1}

_HAS_REACTION = {"$ne": [{"$ifNull": ["$reaction", None]}, None]}
_HAS_COMMENT = {"$ne": [{"$ifNull": ["$comment", None]}, None]}
_IS_LIKE = {"$eq": ["$reaction.reactionType", "like"]}


@dataclass
class HeadlineCounts:
    """Per-headline counters of one run, with the headlines they refer to."""

    rows: list[dict[str, Any]]
    headlines: dict[str, dict[str, Any]]
    source_types: dict[str, str]
    missing_headline_ids: list[str]


def _pipeline(context: RunContext) -> list[dict[str, Any]]:
    group: dict[str, Any] = {"_id": "$entityId"}
    for frame in KPI_FRAMES:
        window = in_window("createdAt", context.windows[frame].current)
        group[f"likes_{frame}"] = count_if({"$and": [_IS_LIKE, window]})
        # Reactions and comments are counted separately: one document may hold both.
        group[f"interactions_{frame}"] = {"$sum": {"$add": [
            {"$cond": [{"$and": [_HAS_REACTION, window]}, 1, 0]},
            {"$cond": [{"$and": [_HAS_COMMENT, window]}, 1, 0]},
        ]}}
    start = context.earliest_start(KPI_FRAMES, include_previous=False)
    return [
        {"$match": combine({"entityType": "headline", "entityId": {"$type": "string"}},
                           time_range_filter("createdAt", start, context.now))},
        {"$group": group},
    ]


async def _load_counts(context: RunContext) -> HeadlineCounts:
    rows = await context.aggregate(ENGAGEMENTS, _pipeline(context))
    headlines = await find_by_ids(context, "headlines", [row["_id"] for row in rows], HEADLINE_FIELDS)
    missing = sorted(row["_id"] for row in rows if row["_id"] not in headlines)

    # Headlines embed a copy of their source; older copies lack sourceType, which is
    # then read from the source itself.
    lacking_type = {
        str(headline["source"].get("id"))
        for headline in headlines.values()
        if isinstance(headline.get("source"), dict) and not headline["source"].get("sourceType")
    }
    source_types = {}
    if lacking_type:
        sources = await find_by_ids(context, "sources", lacking_type, {"sourceType": 1})
        source_types = {key: value.get("sourceType") for key, value in sources.items() if value.get("sourceType")}
    return HeadlineCounts(rows, headlines, source_types, missing)


async def headline_counts(context: RunContext) -> HeadlineCounts:
    return await context.memo("engagement-by-headline", lambda: _load_counts(context))


def headline_attributes(headline: dict[str, Any], dimension: str, source_types: dict[str, str]) -> list[tuple[str, Any]]:
    """Return (key, label source) pairs a headline contributes to under ``dimension``."""
    if dimension == "topic":
        topic = headline.get("topic")
        if isinstance(topic, dict) and topic.get("id"):
            return [(str(topic["id"]), topic.get("name"))]
        return [(UNKNOWN, None)]
    if dimension == "sourceType":
        source = headline.get("source")
        if not isinstance(source, dict):
            return [(UNKNOWN, None)]
        source_type = source.get("sourceType") or source_types.get(str(source.get("id")))
        return [(source_type if isinstance(source_type, str) else UNKNOWN, None)]
    if dimension == "person":
        persons = headline.get("mentionedPersons")
        if not isinstance(persons, list):
            return []
        return [(str(person["id"]), person.get("name")) for person in persons
                if isinstance(person, dict) and person.get("id")]
    raise ValueError(f"unknown engagement dimension {dimension!r}")


def _with_skipped(data: CardData, counts: HeadlineCounts) -> CardData:
    if counts.missing_headline_ids:
        data.skipped_documents = len(counts.missing_headline_ids)
        data.skipped_ids = counts.missing_headline_ids[:5]
        data.skipped_reason = "engagements refer to headlines that do not exist (ids are headline ids)"
    return data


@planner(HeadlineEngagement)
def plan_headline_engagement(card: Card, source: HeadlineEngagement, context: RunContext, batches: Batches) -> Reader:
    async def read(results: FacetResults) -> CardData:
        counts = await headline_counts(context)
        frames = {}
        for frame in card.frames:
            totals: dict[str, float] = {}
            labels: dict[str, dict[str, str]] = {}
            for row in counts.rows:
                headline = counts.headlines.get(row["_id"])
                value = row.get(f"interactions_{frame}", 0)
                if headline is None or not value:
                    continue
                for key, label in headline_attributes(headline, source.dimension, counts.source_types):
                    totals[key] = totals.get(key, 0) + value
                    clean = sanitize_language_map(label)
                    if clean is not None:
                        labels.setdefault(key, clean)
            frames[frame] = _bars(totals, labels, source.dimension)
        return _with_skipped(CardData(frames), counts)

    return read


def _bars(totals: dict[str, float], labels: dict[str, dict[str, str]], dimension: str) -> list[DataPoint]:
    if dimension == "sourceType":
        keys = list(SOURCE_TYPES) + sorted(key for key in totals if key not in SOURCE_TYPES)
        return [DataPoint(value=totals.get(key, 0), label=value_label(key), key=key) for key in keys]
    ranked = sorted(totals, key=lambda key: (-totals[key], key))[:MAX_OPEN_BARS]
    return [DataPoint(value=totals[key], label=labels.get(key) or value_label(key), key=key) for key in ranked]


@planner(MostLikedHeadlines)
def plan_most_liked(card: Card, source: MostLikedHeadlines, context: RunContext, batches: Batches) -> Reader:
    async def read(results: FacetResults) -> CardData:
        counts = await headline_counts(context)
        frames = {}
        for frame in card.frames:
            key = f"likes_{frame}"
            liked = [row for row in counts.rows if row.get(key) and row["_id"] in counts.headlines]
            liked.sort(key=lambda row: (-row[key], row["_id"]))
            frames[frame] = [
                RankedRow(row["_id"], _title(counts.headlines[row["_id"]], row["_id"]), row[key])
                for row in liked[:RANKED_LIST_SIZE]
            ]
        return _with_skipped(CardData(frames), counts)

    return read


def _title(headline: dict[str, Any], headline_id: str) -> dict[str, str]:
    return sanitize_language_map(headline.get("title")) or {"en": headline_id}
