"""Shared fixtures: a database on the embedded engine, or on a real server when asked.

Set ``ANALYTICS_TEST_MONGODB_URI`` to run every storage and pipeline test against a real
MongoDB as well; each test then gets its own database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
from pymongo import AsyncMongoClient

from analytics_service.demo.generator import generate_dataset
from analytics_service.storage.embedded import EmbeddedMongoClient

TEST_MONGODB_URI = os.environ.get("ANALYTICS_TEST_MONGODB_URI")

# The instant every seeded test treats as "now": a Friday afternoon, so every frame
# has history before it.
SEED_NOW = datetime(2026, 12, 4, 15, 30, 0, tzinfo=timezone.utc)

ENGINES = ["embedded"] + (["mongodb"] if TEST_MONGODB_URI else [])


@pytest.fixture(params=ENGINES)
async def database(request):
    """An empty database on each configured engine."""
    if request.param == "embedded":
        client = EmbeddedMongoClient()
        yield client["news_test"]
        await client.close()
        return
    client = AsyncMongoClient(TEST_MONGODB_URI, tz_aware=True, serverSelectionTimeoutMS=5000)
    name = f"analytics_test_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture(scope="session")
def demo_documents() -> dict[str, list[dict]]:
    """The demo dataset at scale 1 for SEED_NOW, generated once per session."""
    return generate_dataset(SEED_NOW, 1)


async def insert_dataset(database, documents: dict[str, list[dict]]) -> None:
    for collection, batch in documents.items():
        if batch:
            # insert_many adds nothing to documents that already carry an _id.
            await database[collection].insert_many([dict(document) for document in batch])
