"""Benchmark: database cost of one service sync against a naive one-query-per-window sync.

Both read the same demo dataset on the embedded engine. The service runs ``run_sync``
without a provider, so its provider-backed cards send no query, and the naive sync
covers exactly the database-backed cards. A counting wrapper around the database counts
the round trips of both. The naive KPI values, daily series and bar values must equal
the service's stored cards, or the benchmark exits with status 1.

Run: python -m bench.sync_cost [--scale N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
from collections import Counter
from datetime import timedelta, timezone
from typing import Any

from analytics_service.catalogue import CARDS_BY_ID, CardKind
from analytics_service.catalogue.sources import GroupCount
from analytics_service.rollups.store import ROLLUP_STATE, ROLLUPS
from analytics_service.storage.cards import read_cards
from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.sync.runner import RunStatus, Trigger, run_sync
from bench.common import (
    BENCH_NOW,
    CountingDatabase,
    counted_sync,
    load_average,
    load_dataset,
    machine_summary,
    print_table,
    ratio,
)
from bench.naive import NaiveResults, NaiveSync, daily_chart_queries

TARGET_ROUND_TRIP_RATIO = 10.0
# The default schedule (*/15 * * * *): the rollups were last refreshed this long before.
SCHEDULE_INTERVAL = timedelta(minutes=15)


def same_number(first: float | None, second: float | None) -> bool:
    if first is None or second is None:
        return first is second
    return math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-9)


def compare_kpis(stored: dict[str, dict], naive: NaiveResults) -> list[str]:
    problems = []
    for card_id, frames in naive.kpis.items():
        document = stored[card_id]
        for frame, expected in frames.items():
            if expected is None:
                if str(frame) not in document["unavailable"]:
                    problems.append(f"{card_id} {frame}: naive finds no data, service stores {document['timeFrames'].get(frame)}")
                continue
            got = document["timeFrames"].get(str(frame))
            if got is None or not (same_number(got["value"], expected[0]) and same_number(got["previous"], expected[1])):
                problems.append(f"{card_id} {frame}: naive (value, previous) {expected}, service {got}")
    return problems


def compare_series(stored: dict[str, dict], naive: NaiveResults) -> list[str]:
    problems = []
    for card_id, frames in naive.series.items():
        for frame, counts in frames.items():
            values = [point["value"] for point in stored[card_id]["timeFrames"][str(frame)]]
            if values != counts:
                problems.append(f"{card_id} {frame}: daily counts differ (naive total {sum(counts)}, service {sum(values)})")
    return problems


def compare_bars(stored: dict[str, dict], naive: NaiveResults) -> list[str]:
    """Check each bar the service shows, and for open-ended charts that it shows the largest."""
    problems = []
    for card_id, frames in naive.bars.items():
        source = CARDS_BY_ID[card_id].source
        categorical = isinstance(source, GroupCount) and bool(source.categories)
        for frame, counts in frames.items():
            points = stored[card_id]["timeFrames"][str(frame)]
            service_bars = {point["key"]: point["value"] for point in points}
            for key, value in service_bars.items():
                if counts.get(key, 0) != value:
                    problems.append(f"{card_id} {frame} {key}: naive {counts.get(key, 0)}, service {value}")
            if not categorical:
                largest = sorted((value for value in counts.values() if value), reverse=True)[: len(points)]
                if sorted(service_bars.values(), reverse=True) != largest:
                    problems.append(f"{card_id} {frame}: service bars are not the largest naive counts")
    return problems


async def stored_cards(database: Any) -> dict[str, dict]:
    cards: dict[str, dict] = {}
    for kind in CardKind:
        cards.update(await read_cards(database, kind))
    return cards


ROLLUP_COLLECTIONS = {ROLLUPS, ROLLUP_STATE}


async def measure(scale: int) -> int:
    client = EmbeddedMongoClient()
    try:
        raw = client["news"]
        sizes = await load_dataset(raw, scale)
        sources = set(sizes)
        print(f"dataset: scale {scale}, {sum(sizes.values())} documents in {len(sizes)} collections")

        # The rollups are first built a scheduled interval earlier, so the measured
        # incremental sync is what every scheduled run costs. The full rebuild is
        # measured after it, at the same instant.
        await run_sync(raw, now=BENCH_NOW - SCHEDULE_INTERVAL, tz=timezone.utc, trigger=Trigger.CLI,
                       clock=lambda: BENCH_NOW)
        service_runs = {"incremental": await counted_sync(raw, BENCH_NOW, rebuild=False)}
        naive_db = CountingDatabase(raw, estimate_reads=True)
        naive = NaiveSync(naive_db, BENCH_NOW, timezone.utc)
        started, cpu_started = time.perf_counter(), time.process_time()
        naive_results = await naive.run()
        naive_seconds = (time.perf_counter() - started, time.process_time() - cpu_started)
        # The incremental sync's cards are compared first, then the full rebuild's.
        service_runs["full rebuild"] = None
        for label in service_runs:
            if label == "full rebuild":
                service_runs[label] = await counted_sync(raw, BENCH_NOW, rebuild=True)
            result = service_runs[label][0]
            if result.status is not RunStatus.SUCCEEDED:
                print(f"FAILED: the service sync ({label}) ended {result.status}: {result.failed_cards}",
                      file=sys.stderr)
                return 1
            problems = await compare_with_naive(raw, naive_results)
            if problems:
                print(f"FAILED: naive values differ from the service's cards ({label}):", file=sys.stderr)
                for problem in problems:
                    print("  " + problem, file=sys.stderr)
                return 1
        checked = (f"{len(naive_results.kpis)} KPI cards, {len(naive_results.series)} daily charts and "
                   f"{len(naive_results.bars)} bar charts")
        print(f"values: naive equals service for {checked} "
              "(every frame, current and previous)")

        report(service_runs, naive, sizes, sources, naive_seconds)
    finally:
        await client.close()
    return 0


async def compare_with_naive(raw: Any, naive_results: NaiveResults) -> list[str]:
    stored = await stored_cards(raw)
    problems = compare_kpis(stored, naive_results) + compare_series(stored, naive_results)
    return problems + compare_bars(stored, naive_results)


def report(service_runs: dict[str, tuple], naive: NaiveSync, sizes: dict[str, int], sources: set[str],
           naive_seconds: tuple[float, float]) -> None:
    """Print the comparison; ``*_seconds`` are (wall time, CPU time of this process)."""
    read_collections = sources | ROLLUP_COLLECTIONS
    columns = []
    for label, (result, database, seconds) in service_runs.items():
        trips = database.log.read_round_trips(read_collections)
        if trips != result.stats["roundTrips"]:
            # The wrapper and the service's own counter must agree, or one of them is wrong.
            raise SystemExit(f"round-trip counts disagree ({label}): wrapper {trips}, "
                             f"service stats {result.stats['roundTrips']}")
        columns.append((label, trips, database.log.by_method(read_collections), result.stats["documentsReturned"],
                        database.log.read_estimate(), database.log.documents_scanned(sizes), seconds))
    naive_trips = naive.database.log.read_round_trips(sources)
    if naive_trips != naive.tally.queries:
        raise SystemExit(f"round-trip counts disagree: wrapper {naive_trips}, naive tally {naive.tally.queries}")
    naive_read = naive.database.log.read_estimate()
    naive_scanned = naive.database.log.documents_scanned(sizes)
    naive_methods: Counter = naive.tally.by_method

    def row(name: str, position: int, naive_value: float, with_ratio: bool = True) -> list[Any]:
        values = [column[position] for column in columns]
        ratios = " / ".join(ratio(naive_value, value) for value in values) if with_ratio else ""
        return [name, *values, naive_value, ratios]

    rows = [
        row("read round trips", 1, naive_trips),
        *[[f"  {method}", *[column[2][method] for column in columns], naive_methods[method], ""]
          for method in ("aggregate", "find", "count_documents")],
        row("documents read by an indexed server (estimate)", 4, naive_read),
        row("documents returned", 3, naive.tally.returned),
        row("documents scanned (collection size per query)", 5, naive_scanned),
        ["wall time, s", *[f"{column[6][0]:.1f}" for column in columns], f"{naive_seconds[0]:.1f}",
         " / ".join(ratio(naive_seconds[0], column[6][0]) for column in columns)],
        ["CPU time, s", *[f"{column[6][1]:.1f}" for column in columns], f"{naive_seconds[1]:.1f}",
         " / ".join(ratio(naive_seconds[1], column[6][1]) for column in columns)],
    ]
    labels = [f"service, {column[0]}" for column in columns]
    print_table(["per sync", *labels, "naive", "naive / " + " / ".join(column[0] for column in columns)], rows)
    print(f"service bookkeeping calls (run record, card and rollup writes) of the incremental sync, not counted "
          f"above: {service_runs['incremental'][1].log.bookkeeping_calls(read_collections)}")
    per_day, per_frame = daily_chart_queries()
    print(f"daily charts: the naive sync sends {per_frame} finds (one per chart and frame); a job counting each "
          f"day separately would send {per_day} counts (computed, not run)")

    for label, trips, *_ in columns:
        achieved = naive_trips / trips
        verdict = "met" if achieved >= TARGET_ROUND_TRIP_RATIO else "MISSED"
        print(f"round-trip ratio naive / service ({label}): {achieved:.1f}x "
              f"(target >= {TARGET_ROUND_TRIP_RATIO:.0f}x: {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="demo dataset scale (event-like collections x N)")
    arguments = parser.parse_args()
    # The service logs a line per run and a warning per card with skipped documents.
    logging.basicConfig(level=logging.ERROR)
    print(machine_summary())
    print(load_average())
    exit_code = asyncio.run(measure(arguments.scale))
    print(load_average())
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
