"""Reads and writes of card documents in the dashboard's three collections."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne

from analytics_service.catalogue import CardKind

# Fields of a card document that the API returns; ``_id`` is left out.
CARD_PROJECTION = {"_id": 0}


async def write_cards(database: Any, kind: CardKind, documents: list[dict[str, Any]]) -> None:
    """Upsert card documents by ``cardId``; existing ``_id`` values are kept."""
    if not documents:
        return
    requests = [UpdateOne({"cardId": document["cardId"]}, {"$set": document}, upsert=True) for document in documents]
    await database[kind.collection].bulk_write(requests, ordered=False)


async def read_cards(database: Any, kind: CardKind, card_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Return stored cards of one kind keyed by card id; ``card_ids`` come from the catalogue."""
    query: dict[str, Any] = {}
    if card_ids is not None:
        query = {"cardId": {"$in": list(card_ids)}}
    documents = await database[kind.collection].find(query, CARD_PROJECTION).to_list(None)
    return {document["cardId"]: document for document in documents if isinstance(document.get("cardId"), str)}
