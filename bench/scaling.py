"""Benchmark: what one incremental sync reads as the history grows.

For each size N, a fresh embedded engine gets N scale-1 demo datasets laid end to end
(``load_history``): every window up to a year holds the same documents at every N, and
only older history is added. The documents of the last hour are held back. A first sync
one hour before ``BENCH_NOW`` builds the rollups in full; the held-back hour is then
inserted (the same new data at every N) and a second sync at ``BENCH_NOW`` refreshes
incrementally. The second sync is the one measured: it is what every scheduled run costs.

``--mode scale`` instead multiplies the event-like collections by N over the same 400
days (``generate_dataset(now, N)``), so the new hour also holds N times the documents.

"Documents read" is what a MongoDB server with fitting indexes reads at least: for each
read call, the documents matching its leading ``$match`` or ``find`` filter, or the whole
collection for a pipeline that starts with ``$facet``. The embedded engine has no indexes
and scans every collection on every query, so its CPU time grows with history anyway;
it is printed too. No provider is selected, as in ``bench.sync_cost``.

Run: python -m bench.scaling [--mode history|scale] [--sizes 1,2,4,16]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.sync.runner import RunStatus
from analytics_service.timeframes import parse_timestamp
from bench.common import (
    BENCH_NOW,
    READ_METHODS,
    counted_sync,
    load_average,
    load_dataset,
    load_history,
    machine_summary,
    print_table,
    ratio,
)

DEFAULT_SIZES = (1, 2, 4, 16)
TARGET_READ_RATIO = 1.2
HELD_BACK = timedelta(hours=1)
TIME_FIELDS = ("createdAt", "updatedAt", "timestamp")


@dataclass
class RunCost:
    round_trips: int
    documents_read: int
    documents_returned: int
    seconds: float
    cpu_seconds: float
    modes: str
    read_by_collection: dict[str, int]


@dataclass
class SyncPoint:
    size: int
    documents: int
    new_documents: int
    first: RunCost
    second: RunCost


def _dated(document: dict[str, Any]):
    for name in TIME_FIELDS:
        moment = parse_timestamp(document.get(name))
        if moment is not None:
            return moment
    return None


async def hold_back_last_hour(database: Any, collections: list[str]) -> dict[str, list[dict]]:
    """Remove and return the documents dated in the hour before BENCH_NOW."""
    last_hour = {}
    for name in collections:
        recent = [document async for document in database[name].find({})
                  if (moment := _dated(document)) is not None and BENCH_NOW - HELD_BACK <= moment < BENCH_NOW]
        if recent:
            await database[name].delete_many({"_id": {"$in": [document["_id"] for document in recent]}})
            last_hour[name] = recent
    return last_hour


async def timed_sync(raw: Any, now) -> RunCost:
    result, database, (seconds, cpu_seconds) = await counted_sync(raw, now)
    if result.status is not RunStatus.SUCCEEDED:
        raise SystemExit(f"FAILED: the sync ended {result.status}: {result.failed_cards}")
    reads = sum(method in READ_METHODS for method, _ in database.log.calls)
    if reads != result.stats["roundTrips"]:
        raise SystemExit(f"FAILED: {reads} read calls counted, the service reports {result.stats['roundTrips']}")
    modes = ", ".join(sorted({group["mode"] for group in result.rollups.values()}))
    return RunCost(reads, database.log.read_estimate(), result.stats["documentsReturned"], seconds, cpu_seconds,
                   modes, dict(database.log.documents_read))


async def measure_point(mode: str, size: int) -> SyncPoint:
    client = EmbeddedMongoClient()
    try:
        raw = client["news"]
        sizes = await (load_dataset(raw, size) if mode == "scale" else load_history(raw, size))
        last_hour = await hold_back_last_hour(raw, sorted(sizes))
        first = await timed_sync(raw, BENCH_NOW - HELD_BACK)
        for name, documents in last_hour.items():
            await raw[name].insert_many(documents)
        second = await timed_sync(raw, BENCH_NOW)
        return SyncPoint(size, sum(sizes.values()), sum(len(batch) for batch in last_hour.values()), first, second)
    finally:
        await client.close()


def report(mode: str, points: list[SyncPoint]) -> None:
    base = points[0]
    rows = []
    for point in points:
        cost, first = point.second, point.first
        rows.append([
            f"{point.size}x", point.documents, point.new_documents, cost.round_trips,
            f"{cost.documents_read} ({ratio(cost.documents_read, base.second.documents_read)})",
            f"{cost.documents_returned} ({ratio(cost.documents_returned, base.second.documents_returned)})",
            f"{cost.cpu_seconds:.1f} ({ratio(cost.cpu_seconds, base.second.cpu_seconds)})",
            f"{first.documents_read} ({ratio(first.documents_read, base.first.documents_read)})",
            f"{first.cpu_seconds:.1f}",
        ])
    print_table([mode, "documents stored", "new documents", "round trips",
                 "documents read (ratio to first row)", "documents returned (ratio)", "CPU time, s (ratio)",
                 "first sync (full): documents read (ratio)", "first sync: CPU time, s"], rows)
    report_by_collection(points)
    last = points[-1].second.documents_read / base.second.documents_read
    verdict = "met" if last <= TARGET_READ_RATIO else "missed"
    print(f"incremental documents read at {points[-1].size}x / 1x: {last:.2f}x "
          f"(target <= {TARGET_READ_RATIO}x: {verdict})")


def report_by_collection(points: list[SyncPoint]) -> None:
    """Print the incremental sync's documents read per collection at every size, largest first."""
    last = points[-1].second.read_by_collection
    names = sorted(last, key=lambda name: -last[name])
    rows = [[name, *[point.second.read_by_collection.get(name, 0) for point in points]] for name in names]
    print_table(["collection (second sync: documents read)", *[f"{point.size}x" for point in points]], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("history", "scale"), default="history",
                        help="history: N scale-1 datasets end to end; scale: generate_dataset(now, N)")
    parser.add_argument("--sizes", default=",".join(str(size) for size in DEFAULT_SIZES),
                        help="comma-separated multiples to measure, the first being the baseline")
    arguments = parser.parse_args()
    sizes = [int(item) for item in arguments.sizes.split(",")]
    logging.basicConfig(level=logging.ERROR)
    print(machine_summary())
    print(load_average())
    points = []
    for size in sizes:
        point = asyncio.run(measure_point(arguments.mode, size))
        print(f"{arguments.mode} {size}x: {point.documents} documents; first sync ({point.first.modes}) "
              f"{point.first.seconds:.1f} s, second sync ({point.second.modes}) {point.second.seconds:.1f} s",
              flush=True)
        points.append(point)
        gc.collect()
    report(arguments.mode, points)
    print(load_average())


if __name__ == "__main__":
    main()
