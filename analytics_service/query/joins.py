"""Follow-up queries by id list, for joins that need an id type conversion.

Engagements and follows store entity ids as strings, while the entities' ``_id`` is an
ObjectId. Instead of converting types inside a pipeline, the ids are collected from the
first query's result and the entities are read with one ``$in`` query per batch of ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from analytics_service.query.context import RunContext

# Keeps each $in query document far below MongoDB's 16 MB limit.
ID_BATCH_SIZE = 5000


def id_variants(entity_ids: Iterable[str]) -> list[Any]:
    """Return each id as an ObjectId when it is one, and as the string as well.

    Documents imported by other tools sometimes carry string ``_id`` values.
    """
    variants: list[Any] = []
    for entity_id in entity_ids:
        variants.append(entity_id)
        try:
            variants.append(ObjectId(entity_id))
        except (InvalidId, TypeError):
            pass
    return variants


async def find_by_ids(
    context: RunContext, collection: str, entity_ids: Iterable[str], projection: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Read entities by id, keyed by the id's string form."""
    unique = sorted(set(entity_ids))
    found: dict[str, dict[str, Any]] = {}
    for offset in range(0, len(unique), ID_BATCH_SIZE):
        chunk = unique[offset : offset + ID_BATCH_SIZE]
        documents = await context.find(collection, {"_id": {"$in": id_variants(chunk)}}, projection)
        for document in documents:
            found[str(document["_id"])] = document
    return found
