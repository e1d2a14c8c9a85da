"""Indexes of the service, created at startup with repeatable calls.

Card collections get a unique index on ``cardId`` so two overlapping runs cannot create
duplicate cards. Source collections get ``analytics_``-prefixed indexes on the fields the
pipelines filter on: equality fields first, then the timestamp range. They serve the
queries that start with ``$match`` (engagement per headline, upload durations, id-list
joins). ``create_indexes`` is a no-op for an index that already exists with the same keys
and options.

The rollup refresh of a source collection starts with a ``$match`` on the time field, so
it reads the update window through these indexes. Pipelines that start with ``$facet``
(snapshots, engagement per headline, full rebuilds) scan the whole collection.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel

from analytics_service.catalogue import CardKind
from analytics_service.rollups.store import ROLLUPS

logger = logging.getLogger(__name__)

SYNC_RUNS = "analytics_sync_runs"


def _index(collection: str, *fields: str, name_suffix: str) -> tuple[str, IndexModel]:
    keys = [(field, ASCENDING) for field in fields]
    return collection, IndexModel(keys, name=f"analytics_{name_suffix}")


SOURCE_INDEXES: tuple[tuple[str, IndexModel], ...] = (
    _index("users", "createdAt", name_suffix="created_at"),
    _index("headlines", "createdAt", name_suffix="created_at"),
    _index("headlines", "status", "createdAt", name_suffix="status_created_at"),
    _index("engagements", "createdAt", name_suffix="created_at"),
    _index("engagements", "entityType", "createdAt", name_suffix="entity_type_created_at"),
    _index("reports", "createdAt", name_suffix="created_at"),
    _index("reports", "status", "createdAt", name_suffix="status_created_at"),
    _index("app_reviews", "createdAt", name_suffix="created_at"),
    _index("media_assets", "status", "createdAt", name_suffix="status_created_at"),
    _index("media_assets", "createdAt", name_suffix="created_at"),
    _index("sources", "createdAt", name_suffix="created_at"),
    _index("topics", "createdAt", name_suffix="created_at"),
    _index("persons", "createdAt", name_suffix="created_at"),
    _index("news_automation_tasks", "status", name_suffix="status"),
    _index("ingestion_usage", "updatedAt", name_suffix="updated_at"),
)


def service_indexes() -> dict[str, list[IndexModel]]:
    """Return every index of the service, by collection."""
    by_collection: dict[str, list[IndexModel]] = {}
    for kind in CardKind:
        by_collection[kind.collection] = [IndexModel([("cardId", ASCENDING)], name="analytics_card_id", unique=True)]
    by_collection[SYNC_RUNS] = [
        IndexModel([("runId", ASCENDING)], name="analytics_run_id", unique=True),
        IndexModel([("startedAt", DESCENDING)], name="analytics_started_at"),
    ]
    by_collection[ROLLUPS] = [
        IndexModel([("spec", ASCENDING), ("start", ASCENDING)], name="analytics_spec_start"),
        IndexModel([("group", ASCENDING)], name="analytics_group"),
    ]
    for collection, model in SOURCE_INDEXES:
        by_collection.setdefault(collection, []).append(model)
    return by_collection


async def ensure_indexes(database: Any) -> int:
    """Create every index of the service; returns how many index definitions were sent."""
    sent = 0
    for collection, models in service_indexes().items():
        await database[collection].create_indexes(models)
        sent += len(models)
    logger.info("indexes ensured: %d definitions on %d collections", sent, len(service_indexes()))
    return sent
