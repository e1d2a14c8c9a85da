"""Planner of the most followed entities, from ``user_content_preferences``."""

from __future__ import annotations

from analytics_service.catalogue import Card
from analytics_service.catalogue.labels import sanitize_language_map
from analytics_service.catalogue.ranked import RANKED_LIST_SIZE
from analytics_service.catalogue.sources import MostFollowed
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.joins import find_by_ids
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.query.values import number
from analytics_service.sync.data import CardData, RankedRow

PREFERENCES = "user_content_preferences"


@planner(MostFollowed)
def plan_most_followed(card: Card, source: MostFollowed, context: RunContext, batches: Batches) -> Reader:
    batch = batches.for_collection(PREFERENCES)
    item = "$" + source.array_field
    branch = batch.add([
        {"$match": {source.array_field: {"$type": "array"}}},
        {"$unwind": item},
        {"$match": {source.array_field + ".id": {"$type": "string"}}},
        {"$group": {"_id": item + ".id", "follows": {"$sum": 1}, "name": {"$first": item + ".name"}}},
        {"$sort": {"follows": -1, "_id": 1}},
        {"$limit": RANKED_LIST_SIZE},
    ])

    async def read(results: FacetResults) -> CardData:
        rows = results.branch(PREFERENCES, branch)
        # Current names come from the entities themselves; the copies embedded in
        # preferences may be stale, so they are only the fallback.
        entities = await find_by_ids(context, source.entity_collection, [row["_id"] for row in rows], {"name": 1})
        ranking = []
        for row in rows:
            entity = entities.get(row["_id"], {})
            title = sanitize_language_map(entity.get("name")) or sanitize_language_map(row.get("name"))
            ranking.append(RankedRow(row["_id"], title or {"en": row["_id"]}, number(row, "follows")))
        return CardData({frame: list(ranking) for frame in card.frames})

    return read
