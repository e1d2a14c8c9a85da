"""A database wrapper that makes chosen operations fail, for fault tests."""

from __future__ import annotations

import asyncio
from typing import Any


class FaultyCollection:
    def __init__(self, collection: Any, database: FaultyDatabase) -> None:
        self._collection = collection
        self._database = database

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def find(self, *args: Any, **kwargs: Any) -> Any:
        return self._collection.find(*args, **kwargs)

    async def aggregate(self, pipeline, **kwargs):
        name = self._collection.name
        if self._database.blocker is not None:
            await self._database.blocker.wait()
        if name in self._database.failing_aggregations:
            raise self._database.failing_aggregations[name]
        if name in self._database.empty_aggregations:
            return await self._collection.aggregate([{"$match": {"_id": "never matches"}}], **kwargs)
        return await self._collection.aggregate(pipeline, **kwargs)

    async def bulk_write(self, requests, **kwargs):
        if self._collection.name in self._database.failing_writes:
            raise self._database.failing_writes[self._collection.name]
        result = await self._collection.bulk_write(requests, **kwargs)
        if self._database.write_blocker is not None:
            # Let the test look at the store after this collection's write, then go on.
            self._database.write_started.set()
            await self._database.write_blocker.wait()
        return result


class FaultyDatabase:
    """Wraps a database; set the dictionaries to make operations on a collection fail."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self.failing_aggregations: dict[str, Exception] = {}
        self.empty_aggregations: set[str] = set()
        self.failing_writes: dict[str, Exception] = {}
        self.blocker: asyncio.Event | None = None
        self.write_blocker: asyncio.Event | None = None
        self.write_started = asyncio.Event()

    def __getitem__(self, name: str) -> FaultyCollection:
        return FaultyCollection(self._database[name], self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)


class DownCollection:
    """A collection proxy whose every operation fails while its database is down."""

    def __init__(self, collection: Any, database: SwitchableDatabase) -> None:
        self._collection = collection
        self._database = database

    @property
    def name(self) -> str:
        return self._collection.name

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._collection, name)
        if not callable(target):
            return target
        database = self._database

        if name == "find":
            def find(*args: Any, **kwargs: Any) -> Any:
                database.check()
                return target(*args, **kwargs)
            return find

        async def call(*args: Any, **kwargs: Any) -> Any:
            database.check()
            return await target(*args, **kwargs)
        return call


class SwitchableDatabase:
    """Wraps a database that tests can take down and bring back, as in an outage."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self.down = False

    def check(self) -> None:
        if self.down:
            from pymongo.errors import ServerSelectionTimeoutError

            raise ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused (simulated outage)")

    def __getitem__(self, name: str) -> DownCollection:
        return DownCollection(self._database[name], self)

    async def command(self, command: Any) -> Any:
        self.check()
        return await self._database.command(command)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)
