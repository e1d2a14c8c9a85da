"""The ``analytics_sync_runs`` collection: one record per sync run."""

from __future__ import annotations

from typing import Any

from analytics_service.storage.indexes import SYNC_RUNS

RUN_PROJECTION = {"_id": 0}


async def insert_run(database: Any, record: dict[str, Any]) -> None:
    await database[SYNC_RUNS].insert_one(dict(record))


async def update_run(database: Any, run_id: str, fields: dict[str, Any]) -> None:
    await database[SYNC_RUNS].update_one({"runId": run_id}, {"$set": fields})


async def list_runs(database: Any, limit: int) -> list[dict[str, Any]]:
    cursor = database[SYNC_RUNS].find({}, RUN_PROJECTION).sort("startedAt", -1).limit(limit)
    return await cursor.to_list(None)
