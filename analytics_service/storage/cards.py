"""Reads and writes of card documents in the dashboard's three collections."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from analytics_service.catalogue import CardKind

DUPLICATE_KEY = 11000

# Fields of a card document that the API returns; ``_id`` is left out.
CARD_PROJECTION = {"_id": 0}


async def write_cards(
    database: Any, kind: CardKind, documents: list[dict[str, Any]], fencing_token: int | None = None
) -> list[str]:
    """Upsert card documents by ``cardId``; return the ids rejected by the fencing token.

    With a token, a card whose stored ``fencingToken`` is larger belongs to a newer run:
    the filter then matches nothing, the upsert's insert collides with the unique index on
    ``cardId``, and the write is rejected instead of overwriting the newer card. Existing
    ``_id`` values are kept.
    """
    if not documents:
        return []
    requests = []
    for document in documents:
        query: dict[str, Any] = {"cardId": document["cardId"]}
        update = dict(document)
        if fencing_token is not None:
            query["$or"] = [{"fencingToken": {"$lte": fencing_token}}, {"fencingToken": {"$exists": False}}]
            update["fencingToken"] = fencing_token
        requests.append(UpdateOne(query, {"$set": update}, upsert=True))
    try:
        await database[kind.collection].bulk_write(requests, ordered=False)
    except BulkWriteError as error:
        write_errors = error.details.get("writeErrors", [])
        if any(item.get("code") != DUPLICATE_KEY for item in write_errors) or fencing_token is None:
            raise
        return [documents[item["index"]]["cardId"] for item in write_errors]
    return []


async def read_cards(database: Any, kind: CardKind, card_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Return stored cards of one kind keyed by card id; ``card_ids`` come from the catalogue."""
    query: dict[str, Any] = {}
    if card_ids is not None:
        query = {"cardId": {"$in": list(card_ids)}}
    documents = await database[kind.collection].find(query, CARD_PROJECTION).to_list(None)
    return {document["cardId"]: document for document in documents if isinstance(document.get("cardId"), str)}
