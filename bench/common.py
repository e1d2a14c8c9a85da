"""Helpers shared by the benchmarks: the demo dataset, a counting database wrapper, output."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from analytics_service.demo.generator import HISTORY_DAYS, generate_dataset
from analytics_service.sync.runner import Trigger, run_sync

# Every benchmark computes its cards as of this instant, as the tests do, so runs on
# different days read the same windows of the same generated dataset.
BENCH_NOW = datetime(2026, 12, 4, 15, 30, 0, tzinfo=timezone.utc)

# Calls that read documents. Every other call (card writes, run records, the lease) is
# bookkeeping of the service and is reported apart.
READ_METHODS = ("aggregate", "find", "find_one", "count_documents", "distinct")


async def load_dataset(database: Any, scale: int) -> dict[str, int]:
    """Insert the demo dataset at ``scale`` and return the document count per collection."""
    documents = generate_dataset(BENCH_NOW, scale)
    sizes = {}
    for collection, batch in documents.items():
        if batch:
            await database[collection].insert_many(batch)
        sizes[collection] = len(batch)
    return sizes


async def load_history(database: Any, depth: int) -> dict[str, int]:
    """Insert ``depth`` scale-1 datasets, each ending ``HISTORY_DAYS`` before the next.

    The newest copy is the scale-1 dataset, so every window up to a year contains the same
    documents at each depth, and only older history is added. The previous-year window
    also reaches into the second copy. Documents with fixed ids (the demo admin and reader, the
    remote config) are kept from the newest copy only. Returns the count per collection.
    """
    sizes: Counter = Counter()
    seen_ids: dict[str, set] = {}
    for copy in range(depth):
        documents = generate_dataset(BENCH_NOW - timedelta(days=HISTORY_DAYS * copy), 1)
        for collection, batch in documents.items():
            seen = seen_ids.setdefault(collection, set())
            fresh = [document for document in batch if document["_id"] not in seen]
            seen.update(document["_id"] for document in fresh)
            if fresh:
                await database[collection].insert_many(fresh)
            sizes[collection] += len(fresh)
    return dict(sizes)


@dataclass
class CallLog:
    """Database calls seen by a ``CountingDatabase``, by method and collection."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    seconds_by_collection: Counter = field(default_factory=Counter)
    # Documents that a MongoDB server with fitting indexes reads at least, per read call;
    # filled only when the wrapper is asked to estimate them.
    documents_read: Counter = field(default_factory=Counter)

    def read_estimate(self, collections: set[str] | None = None) -> int:
        return sum(count for name, count in self.documents_read.items() if collections is None or name in collections)

    def reads_on(self, collections: set[str]) -> list[tuple[str, str]]:
        return [(method, name) for method, name in self.calls if method in READ_METHODS and name in collections]

    def read_round_trips(self, collections: set[str]) -> int:
        return len(self.reads_on(collections))

    def documents_scanned(self, sizes: dict[str, int]) -> int:
        """Sum the collection size over every read call on ``sizes``' collections.

        This is what a MongoDB server reads for a collection scan: an unindexed query, or
        a pipeline that starts with ``$facet``, which never uses an index (MongoDB manual,
        ``$facet``, "Index Use"). The embedded engine has no indexes at all and iterates
        the collection once per ``$facet`` branch, so its own work is larger still.
        """
        return sum(sizes[name] for _, name in self.reads_on(set(sizes)))

    def by_method(self, collections: set[str]) -> Counter:
        return Counter(method for method, _ in self.reads_on(collections))

    def bookkeeping_calls(self, collections: set[str]) -> int:
        return len(self.calls) - self.read_round_trips(collections)


class TimedCursor:
    """Adds the time spent in ``to_list`` to the collection's total."""

    def __init__(self, cursor: Any, name: str, log: CallLog, estimate: Any) -> None:
        self._cursor = cursor
        self._name = name
        self._log = log
        self._estimate = estimate

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        await self._estimate
        started = time.perf_counter()
        try:
            return await self._cursor.to_list(length)
        finally:
            self._log.seconds_by_collection[self._name] += time.perf_counter() - started

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._cursor, attribute)


def leading_filter(pipeline: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return the filter of a pipeline's first ``$match``, or None when it starts otherwise."""
    if pipeline and "$match" in pipeline[0]:
        return pipeline[0]["$match"]
    return None


class CountingCollection:
    """Passes every call to the wrapped async collection and logs the call.

    With ``estimate_reads``, each read call also counts the documents a MongoDB server
    with fitting indexes would read at least. Those are the documents matching the
    leading ``$match`` or the ``find`` filter, or the whole collection for a pipeline
    that starts otherwise, because ``$facet`` never uses an index. The counting calls are neither timed nor logged,
    and they run before the read, so they see the same documents.
    """

    def __init__(self, collection: Any, name: str, log: CallLog, estimate_reads: bool = False) -> None:
        self._collection = collection
        self._name = name
        self._log = log
        self._estimate_reads = estimate_reads

    async def _estimate(self, query: dict[str, Any] | None) -> None:
        if self._estimate_reads:
            self._log.documents_read[self._name] += await self._collection.count_documents(query or {})

    def find(self, *args: Any, **kwargs: Any) -> TimedCursor:
        # find returns a cursor without awaiting, and the round trip happens when it is read.
        # Every caller in the service reads it, so the call is counted here.
        self._log.calls.append(("find", self._name))
        estimate = self._estimate(args[0] if args else kwargs.get("filter"))
        return TimedCursor(self._collection.find(*args, **kwargs), self._name, self._log, estimate)

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._collection, method)
        if not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._log.calls.append((method, self._name))
            if method == "aggregate":
                await self._estimate(leading_filter(args[0] if args else kwargs["pipeline"]))
            elif method in ("count_documents", "find_one"):
                await self._estimate(args[0] if args else kwargs.get("filter"))
            started = time.perf_counter()
            try:
                return await target(*args, **kwargs)
            finally:
                self._log.seconds_by_collection[self._name] += time.perf_counter() - started

        return call


class CountingDatabase:
    """Wraps an async database (embedded or PyMongo) so every collection call is logged."""

    def __init__(self, database: Any, log: CallLog | None = None, estimate_reads: bool = False) -> None:
        self._database = database
        self.log = log or CallLog()
        self._estimate_reads = estimate_reads

    def __getitem__(self, name: str) -> CountingCollection:
        return CountingCollection(self._database[name], name, self.log, self._estimate_reads)

    def get_collection(self, name: str) -> CountingCollection:
        return self[name]

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._database, attribute)


def ratio(value: float, baseline: float) -> str:
    """Format ``value / baseline`` as ``1.23x``, or ``n/a`` for a zero baseline."""
    if not baseline:
        return "n/a"
    return f"{value / baseline:.2f}x"


def source_revision() -> str:
    """Return the checked-out commit and how many files differ from it (others edit concurrently)."""
    def git(*arguments: str) -> str:
        return subprocess.run(["git", *arguments], capture_output=True, text=True, check=False).stdout.strip()

    changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line]
    return f"commit {git('rev-parse', '--short', 'HEAD') or 'unknown'}, {len(changed)} tracked files changed"


def machine_summary() -> str:
    """Describe the machine and the code: cores, CPU model, Python version, UTC date and commit."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    date = subprocess.run(["date", "-u"], capture_output=True, text=True, check=False).stdout.strip()
    return (f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}; date: {date}; "
            f"code: {source_revision()}")


def load_average() -> str:
    """Describe the 1-minute load average: other processes on the machine slow wall times down."""
    return f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def print_table(header: list[str], rows: list[list[Any]]) -> None:
    """Print rows as a Markdown table, so the output can be pasted into BENCHMARKS.md."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


async def counted_sync(raw: Any, now: datetime, rebuild: bool = False) -> tuple[Any, CountingDatabase, tuple[float, float]]:
    """Run one service sync without a provider through a read-estimating wrapper.

    Returns the sync result, the wrapper with its call log, and (wall time, CPU time of
    this process) in seconds.
    """
    database = CountingDatabase(raw, estimate_reads=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = await run_sync(database, now=now, tz=timezone.utc, trigger=Trigger.CLI, clock=lambda: now,
                            rebuild=rebuild)
    return result, database, (time.perf_counter() - started, time.process_time() - cpu_started)
