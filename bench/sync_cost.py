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
from datetime import timezone
from typing import Any

from analytics_service.catalogue import CARDS_BY_ID, CardKind
from analytics_service.catalogue.sources import GroupCount
from analytics_service.storage.cards import read_cards
from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.sync.runner import RunStatus, Trigger, run_sync
from bench.common import BENCH_NOW, CountingDatabase, load_average, load_dataset, machine_summary, print_table, ratio
from bench.naive import NaiveResults, NaiveSync, daily_chart_queries

TARGET_ROUND_TRIP_RATIO = 10.0


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


async def measure(scale: int) -> int:
    client = EmbeddedMongoClient()
    try:
        raw = client["news"]
        sizes = await load_dataset(raw, scale)
        sources = set(sizes)
        print(f"dataset: scale {scale}, {sum(sizes.values())} documents in {len(sizes)} collections")

        service_db = CountingDatabase(raw)
        started, cpu_started = time.perf_counter(), time.process_time()
        result = await run_sync(service_db, now=BENCH_NOW, tz=timezone.utc, trigger=Trigger.CLI, clock=lambda: BENCH_NOW)
        service_seconds = (time.perf_counter() - started, time.process_time() - cpu_started)
        if result.status is not RunStatus.SUCCEEDED:
            print(f"FAILED: the service sync ended {result.status}: {result.failed_cards}", file=sys.stderr)
            return 1

        naive_db = CountingDatabase(raw)
        naive = NaiveSync(naive_db, BENCH_NOW, timezone.utc)
        started, cpu_started = time.perf_counter(), time.process_time()
        naive_results = await naive.run()
        naive_seconds = (time.perf_counter() - started, time.process_time() - cpu_started)

        stored = await stored_cards(raw)
        problems = compare_kpis(stored, naive_results) + compare_series(stored, naive_results)
        problems += compare_bars(stored, naive_results)
        if problems:
            print("FAILED: naive values differ from the service's cards:", file=sys.stderr)
            for problem in problems:
                print("  " + problem, file=sys.stderr)
            return 1
        checked = (f"{len(naive_results.kpis)} KPI cards, {len(naive_results.series)} daily charts and "
                   f"{len(naive_results.bars)} bar charts")
        print(f"values: naive equals service for {checked} (every frame, current and previous)")

        report(result.stats, service_db, naive, sizes, sources, service_seconds, naive_seconds)
    finally:
        await client.close()
    return 0


def report(stats: dict[str, int], service_db: CountingDatabase, naive: NaiveSync, sizes: dict[str, int],
           sources: set[str], service_seconds: tuple[float, float], naive_seconds: tuple[float, float]) -> None:
    """Print the comparison; ``*_seconds`` are (wall time, CPU time of this process)."""
    service_trips = service_db.log.read_round_trips(sources)
    if service_trips != stats["roundTrips"]:
        # The wrapper and the service's own counter must agree, or one of them is wrong.
        raise SystemExit(f"round-trip counts disagree: wrapper {service_trips}, service stats {stats['roundTrips']}")
    naive_trips = naive.database.log.read_round_trips(sources)
    if naive_trips != naive.tally.queries:
        raise SystemExit(f"round-trip counts disagree: wrapper {naive_trips}, naive tally {naive.tally.queries}")

    service_methods: Counter = service_db.log.by_method(sources)
    naive_methods: Counter = naive.tally.by_method
    service_scanned = service_db.log.documents_scanned(sizes)
    naive_scanned = naive.database.log.documents_scanned(sizes)
    rows = [
        ["read round trips", service_trips, naive_trips, ratio(naive_trips, service_trips)],
        ["  aggregate", service_methods["aggregate"], naive_methods["aggregate"], ""],
        ["  find", service_methods["find"], naive_methods["find"], ""],
        ["  count_documents", service_methods["count_documents"], naive_methods["count_documents"], ""],
        ["documents returned", stats["documentsReturned"], naive.tally.returned,
         ratio(naive.tally.returned, stats["documentsReturned"])],
        ["documents matched by the filters", "n/a ($facet)", naive.tally.matched, ""],
        ["documents scanned (collection size per query)", service_scanned, naive_scanned,
         ratio(naive_scanned, service_scanned)],
        ["wall time, s", f"{service_seconds[0]:.1f}", f"{naive_seconds[0]:.1f}",
         ratio(naive_seconds[0], service_seconds[0])],
        ["CPU time, s", f"{service_seconds[1]:.1f}", f"{naive_seconds[1]:.1f}",
         ratio(naive_seconds[1], service_seconds[1])],
    ]
    print_table(["per sync", "service", "naive", "naive / service"], rows)
    print(f"service bookkeeping calls (run record, card writes), not counted above: "
          f"{service_db.log.bookkeeping_calls(sources)}")
    per_day, per_frame = daily_chart_queries()
    print(f"daily charts: the naive sync sends {per_frame} finds (one per chart and frame); a job counting each "
          f"day separately would send {per_day} counts (computed, not run)")

    achieved = naive_trips / service_trips
    verdict = "met" if achieved >= TARGET_ROUND_TRIP_RATIO else "MISSED"
    print(f"round-trip ratio naive / service: {achieved:.1f}x (target >= {TARGET_ROUND_TRIP_RATIO:.0f}x: {verdict})")


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
