"""In-process MongoDB stand-in: mongomock behind the shape of PyMongo's async API.

The embedded engine is for evaluation and tests. It keeps everything in memory, so
nothing survives a restart. Every call runs on one worker thread: mongomock is not
thread-safe, and moving its CPU-bound work off the event loop keeps the HTTP server
responding while a sync aggregates (though the GIL still slows it down).

Only the subset of the PyMongo async API that this service calls is mirrored:
``aggregate`` is awaited and returns a cursor, ``find`` returns a cursor without
awaiting, and both cursors support ``async for`` and ``to_list``.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import mongomock
from mongomock import aggregate as mongomock_aggregate
from pymongo import IndexModel, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

T = TypeVar("T")


class _Executor:
    """One daemon worker thread shared by a client and everything opened from it.

    A daemon thread, unlike ThreadPoolExecutor's, does not hold up the process at exit:
    a shutdown in the middle of a long aggregation exits at once, because the embedded
    engine's data dies with the process anyway.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="embedded-mongo", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            loop, future, func = job
            if future.cancelled():
                continue
            try:
                result = func()
            except BaseException as error:  # handed to the awaiting coroutine
                loop.call_soon_threadsafe(_settle, future, None, error)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((loop, future, functools.partial(func, *args, **kwargs)))
        return await future

    def shutdown(self) -> None:
        self._jobs.put(None)
        # A job still running keeps its thread busy; waiting briefly lets short ones end.
        self._thread.join(timeout=0.5)


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class EmbeddedCursor:
    """Async cursor over a mongomock cursor or a list of documents."""

    def __init__(self, executor: _Executor, open_cursor: Callable[[], Iterable[dict]]) -> None:
        self._executor = executor
        self._open_cursor = open_cursor
        self._documents: list[dict] | None = None
        self._position = 0
        self._sort: list[tuple[str, int]] | None = None
        self._limit = 0
        self._skip = 0

    def sort(self, key_or_list: str | Sequence[tuple[str, int]], direction: int = 1) -> EmbeddedCursor:
        if isinstance(key_or_list, str):
            self._sort = [(key_or_list, direction)]
        else:
            self._sort = list(key_or_list)
        return self

    def limit(self, limit: int) -> EmbeddedCursor:
        self._limit = limit
        return self

    def skip(self, skip: int) -> EmbeddedCursor:
        self._skip = skip
        return self

    def _materialise(self) -> list[dict]:
        cursor = self._open_cursor()
        if self._sort is not None:
            cursor = cursor.sort(self._sort)  # type: ignore[attr-defined]
        if self._skip:
            cursor = cursor.skip(self._skip)  # type: ignore[attr-defined]
        if self._limit:
            cursor = cursor.limit(self._limit)  # type: ignore[attr-defined]
        return list(cursor)

    async def _load(self) -> list[dict]:
        if self._documents is None:
            self._documents = await self._executor.run(self._materialise)
        return self._documents

    async def to_list(self, length: int | None = None) -> list[dict]:
        documents = await self._load()
        remaining = documents[self._position :]
        if length is not None:
            remaining = remaining[:length]
        self._position += len(remaining)
        return remaining

    def __aiter__(self) -> EmbeddedCursor:
        return self

    async def __anext__(self) -> dict:
        documents = await self._load()
        if self._position >= len(documents):
            raise StopAsyncIteration
        document = documents[self._position]
        self._position += 1
        return document

    async def close(self) -> None:
        self._documents = []


class EmbeddedCollection:
    """Async view of one mongomock collection."""

    def __init__(self, executor: _Executor, collection: mongomock.Collection) -> None:
        self._executor = executor
        self._collection = collection

    @property
    def name(self) -> str:
        return self._collection.name

    def find(self, filter: Mapping[str, Any] | None = None, projection: Any = None, **kwargs: Any) -> EmbeddedCursor:
        def open_cursor() -> Iterable[dict]:
            return self._collection.find(filter or {}, projection, **kwargs)

        return EmbeddedCursor(self._executor, open_cursor)

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]], **kwargs: Any) -> EmbeddedCursor:
        # Options such as allowDiskUse are accepted and ignored, as mongomock has no use for them.
        stages = list(pipeline)
        documents = await self._executor.run(lambda: self._aggregate(stages))
        return EmbeddedCursor(self._executor, lambda: documents)

    def _aggregate(self, stages: list[Mapping[str, Any]]) -> list[dict]:
        # mongomock's own aggregate copies the whole collection before the first stage. A
        # leading $match goes through find() instead, which copies only the matching
        # documents, much as a server reads only what an index selects.
        if stages and list(stages[0]) == ["$match"]:
            matching = list(self._collection.find(stages[0]["$match"]))
            return list(mongomock_aggregate.process_pipeline(matching, self._collection.database, stages[1:], None))
        return list(self._collection.aggregate(stages))

    async def find_one(self, filter: Mapping[str, Any] | None = None, *args: Any, **kwargs: Any) -> dict | None:
        return await self._executor.run(self._collection.find_one, filter or {}, *args, **kwargs)

    async def count_documents(self, filter: Mapping[str, Any], **kwargs: Any) -> int:
        return await self._executor.run(self._collection.count_documents, filter, **kwargs)

    async def distinct(self, key: str, filter: Mapping[str, Any] | None = None) -> list[Any]:
        return await self._executor.run(self._collection.distinct, key, filter)

    async def insert_one(self, document: dict, **kwargs: Any) -> Any:
        return await self._executor.run(self._collection.insert_one, document, **kwargs)

    async def insert_many(self, documents: Iterable[dict], ordered: bool = True, **kwargs: Any) -> Any:
        return await self._executor.run(self._collection.insert_many, list(documents), ordered=ordered, **kwargs)

    async def replace_one(self, filter: Mapping[str, Any], replacement: Mapping[str, Any], upsert: bool = False) -> Any:
        return await self._executor.run(self._collection.replace_one, filter, replacement, upsert=upsert)

    async def update_one(self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool = False) -> Any:
        return await self._executor.run(self._collection.update_one, filter, update, upsert=upsert)

    async def update_many(self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool = False) -> Any:
        return await self._executor.run(self._collection.update_many, filter, update, upsert=upsert)

    async def find_one_and_update(self, filter: Mapping[str, Any], update: Mapping[str, Any], **kwargs: Any) -> dict | None:
        return await self._executor.run(self._collection.find_one_and_update, filter, update, **kwargs)

    async def delete_many(self, filter: Mapping[str, Any]) -> Any:
        return await self._executor.run(self._collection.delete_many, filter)

    async def delete_one(self, filter: Mapping[str, Any]) -> Any:
        return await self._executor.run(self._collection.delete_one, filter)

    async def bulk_write(self, requests: Sequence[Any], ordered: bool = True) -> None:
        """Apply UpdateOne and ReplaceOne requests one by one, as PyMongo's bulk_write would.

        mongomock 4.3's own bulk_write rejects the ``sort`` option that PyMongo 4.11+
        adds to every UpdateOne, so the requests are unpacked here. PyMongo exposes their
        fields only as private attributes, which mongomock reads the same way. Write
        errors are collected into one BulkWriteError shaped like the server's; with
        ``ordered`` the first error stops the remaining requests.
        """

        def apply_all() -> None:
            errors = []
            for index, request in enumerate(requests):
                if isinstance(request, UpdateOne):
                    apply = self._collection.update_one
                elif isinstance(request, ReplaceOne):
                    apply = self._collection.replace_one
                else:
                    raise TypeError(f"embedded bulk_write does not support {type(request).__name__}")
                try:
                    apply(request._filter, request._doc, upsert=bool(request._upsert))
                except DuplicateKeyError as error:
                    errors.append({"index": index, "code": 11000, "errmsg": str(error)})
                    if ordered:
                        break
            if errors:
                raise BulkWriteError({"writeErrors": errors, "writeConcernErrors": [], "nInserted": 0,
                                      "nUpserted": 0, "nMatched": 0, "nModified": 0, "nRemoved": 0,
                                      "upserted": []})

        await self._executor.run(apply_all)

    async def create_index(self, keys: Any, **kwargs: Any) -> str:
        return await self._executor.run(self._collection.create_index, keys, **kwargs)

    async def create_indexes(self, indexes: Sequence[IndexModel]) -> list[str]:
        def create_all() -> list[str]:
            names = []
            for model in indexes:
                document = dict(model.document)
                keys = list(document.pop("key").items())
                names.append(self._collection.create_index(keys, **document))
            return names

        return await self._executor.run(create_all)

    async def index_information(self) -> dict[str, Any]:
        return await self._executor.run(self._collection.index_information)

    async def drop(self) -> None:
        await self._executor.run(self._collection.drop)


class EmbeddedDatabase:
    """Async view of one mongomock database."""

    def __init__(self, executor: _Executor, database: mongomock.Database) -> None:
        self._executor = executor
        self._database = database

    @property
    def name(self) -> str:
        return self._database.name

    def __getitem__(self, name: str) -> EmbeddedCollection:
        return EmbeddedCollection(self._executor, self._database[name])

    def get_collection(self, name: str) -> EmbeddedCollection:
        return self[name]

    async def list_collection_names(self) -> list[str]:
        return await self._executor.run(self._database.list_collection_names)

    async def command(self, command: str | Mapping[str, Any]) -> dict[str, Any]:
        name = command if isinstance(command, str) else next(iter(command))
        if name == "ping":
            return {"ok": 1.0}
        return await self._executor.run(self._database.command, command)

    async def drop_collection(self, name: str) -> None:
        await self._executor.run(self._database.drop_collection, name)


class EmbeddedMongoClient:
    """Stand-in for ``pymongo.AsyncMongoClient`` backed by mongomock."""

    def __init__(self) -> None:
        self._executor = _Executor()
        self._client = mongomock.MongoClient(tz_aware=True)
        self.admin = EmbeddedDatabase(self._executor, self._client["admin"])

    def __getitem__(self, name: str) -> EmbeddedDatabase:
        return EmbeddedDatabase(self._executor, self._client[name])

    def get_database(self, name: str) -> EmbeddedDatabase:
        return self[name]

    async def close(self) -> None:
        self._executor.shutdown()
