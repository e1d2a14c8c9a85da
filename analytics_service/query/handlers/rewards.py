"""Planners of reward snapshots: ``activeRewards`` maps a reward type to its expiry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from analytics_service.catalogue import Card
from analytics_service.catalogue.labels import value_label
from analytics_service.catalogue.sources import ActiveRewardsByType, ActiveRewardUsers
from analytics_service.query.bounds import time_range_filter
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.query.values import number
from analytics_service.sync.data import CardData, DataPoint, KpiFrame

# Upper end of "expires after now": later than any real expiry.
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=timezone.utc)


def _active_rewards(context: RunContext) -> list[dict[str, Any]]:
    """Stages that emit one document per reward that is still active at ``now``."""
    # "Expires after now": string bounds cannot tell "...:00Z" (now) from "...:00.5Z", so
    # the bound is the next whole second, and an expiry within that second counts as expired.
    not_expired = time_range_filter("reward.v", context.now + timedelta(seconds=1), FAR_FUTURE)
    return [
        {"$match": {"activeRewards": {"$type": "object"}}},
        {"$project": {"reward": {"$objectToArray": "$activeRewards"}}},
        {"$unwind": "$reward"},
        {"$match": not_expired},
    ]


@planner(ActiveRewardUsers)
def plan_active_reward_users(card: Card, source: ActiveRewardUsers, context: RunContext, batches: Batches) -> Reader:
    batch = batches.for_collection(source.collection)
    branch = batch.add(_active_rewards(context) + [{"$group": {"_id": "$_id"}}, {"$count": "n"}])

    async def read(results: FacetResults) -> CardData:
        rows = results.branch(source.collection, branch)
        value = number(rows[0], "n") if rows else 0
        return CardData({frame: KpiFrame(value, None) for frame in card.frames})

    return read


@planner(ActiveRewardsByType)
def plan_active_rewards_by_type(card: Card, source: ActiveRewardsByType, context: RunContext, batches: Batches) -> Reader:
    batch = batches.for_collection(source.collection)
    branch = batch.add(_active_rewards(context) + [
        {"$group": {"_id": "$reward.k", "n": {"$sum": 1}}},
        {"$sort": {"n": -1, "_id": 1}},
    ])

    async def read(results: FacetResults) -> CardData:
        rows = results.branch(source.collection, branch)
        points = [DataPoint(value=number(row, "n"), label=value_label(str(row["_id"])), key=str(row["_id"]))
                  for row in rows]
        return CardData({frame: list(points) for frame in card.frames})

    return read
