"""Benchmark: peak resident memory of a sync, against the memory of the loaded data.

Each size runs in a fresh child process, which loads the data into the embedded engine,
creates the indexes and runs two syncs through ``SyncService`` with the provider
registry, as ``serve`` does at its scheduled ticks. The first sync builds the rollups in
full, and the second, 15 minutes later, refreshes them incrementally. ``--mode history`` (the
default) loads N scale-1 demo datasets end to end, as ``bench.scaling`` does, with no
provider, because the events provider's questions over N times the events outlast its
time limit on the embedded engine. ``--mode scale`` loads ``generate_dataset(now, N)``
and selects the events provider, as ``demo`` does, with its time limit raised to the
maximum (600 s).

The baseline is the child's resident set (VmRSS) after loading, before the sync. The
kernel's peak counter (VmHWM) is reset at that point by writing 5 to
``/proc/self/clear_refs``, so the peak read after the sync is the peak of the sync alone.

RSS does not shrink when Python frees objects: the memory of the generated documents,
freed after the insert, stays in the process and the sync reuses it. So one more child
(``--trace-scale``) runs the sync under ``tracemalloc``, started after loading, whose
peak is the most memory that the sync's own new allocations held at once. That child's
RSS is not reported, as tracemalloc adds its own.

Run: python -m bench.memory [--mode history|scale] [--scales 1,16] [--trace-scale 1]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta

from pydantic import SecretStr

from analytics_service.providers.registry import open_providers
from analytics_service.settings import load_settings
from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.storage.indexes import ensure_indexes
from analytics_service.sync.runner import RunStatus, Trigger
from analytics_service.sync.service import SyncService
from bench.common import BENCH_NOW, load_average, load_dataset, load_history, machine_summary, print_table, ratio

DEFAULT_SCALES = (1, 16)
CHILD_TIMEOUT_S = 3600
SECOND_SYNC_AFTER = timedelta(minutes=15)


def status_kib(field: str) -> int:
    """Return a memory field of /proc/self/status (VmRSS, VmHWM) in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found in /proc/self/status")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS; returns False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


async def child_measure(mode: str, scale: int, trace: bool) -> dict[str, object]:
    figures: dict[str, object] = {"scale": scale, "rss_start_kib": status_kib("VmRSS")}
    # At 4x the events provider's questions outlast the default 60 s time limit on the
    # embedded engine, so their cards would fail. The maximum limit lets the sync finish.
    provider = "events" if mode == "scale" else "none"
    settings = load_settings(env_file=None, jwt_secret=SecretStr("x" * 48), provider=provider,
                             provider_timeout_seconds=600)
    client = EmbeddedMongoClient()
    try:
        database = client[settings.database]
        sizes = await (load_dataset(database, scale) if mode == "scale" else load_history(database, scale))
        await ensure_indexes(database)
        # The generated documents are garbage once inserted; collect them so the baseline
        # holds only what the engine stores.
        gc.collect()
        figures["documents"] = sum(sizes.values())
        figures["peak_while_loading_kib"] = status_kib("VmHWM")
        figures["rss_before_sync_kib"] = status_kib("VmRSS")
        figures["peak_reset"] = reset_peak()
        if trace:
            tracemalloc.start()

        async with open_providers(settings, database) as providers:
            now = BENCH_NOW
            service = SyncService(database, settings, providers, clock=lambda: now)
            started = time.perf_counter()
            result = await service.run(Trigger.SCHEDULE)
            figures["sync_seconds"] = time.perf_counter() - started
            if result.status is not RunStatus.SUCCEEDED:
                raise SystemExit(f"FAILED: the first sync ended {result.status}: {result.failed_cards}")
            if trace:
                figures["traced_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
                tracemalloc.stop()
            figures["peak_during_sync_kib"] = status_kib("VmHWM")
            figures["rss_after_sync_kib"] = status_kib("VmRSS")

            reset_peak()
            now = BENCH_NOW + SECOND_SYNC_AFTER
            started = time.perf_counter()
            result = await service.run(Trigger.SCHEDULE)
            figures["second_sync_seconds"] = time.perf_counter() - started
            if result.status is not RunStatus.SUCCEEDED:
                raise SystemExit(f"FAILED: the second sync ended {result.status}: {result.failed_cards}")
            figures["peak_during_second_sync_kib"] = status_kib("VmHWM")
        # ru_maxrss is the lifetime peak in KiB on Linux, loading included.
        figures["lifetime_peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        await client.close()
    return figures


def run_child(mode: str, scale: int, trace: bool = False) -> dict[str, object]:
    command = [sys.executable, "-m", "bench.memory", "--mode", mode, "--child", str(scale)]
    command += ["--trace"] if trace else []
    completed = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"FAILED: the child process at scale {scale} exited {completed.returncode}:\n"
                         f"{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def mib(kib: object) -> str:
    return f"{int(kib) / 1024:.0f}"  # type: ignore[call-overload]


def report(results: list[dict[str, object]]) -> None:
    rows = []
    for figures in results:
        before, peak = int(figures["rss_before_sync_kib"]), int(figures["peak_during_sync_kib"])  # type: ignore[call-overload]
        rows.append([
            f"{figures['scale']}x", figures["documents"], mib(figures["rss_start_kib"]),
            mib(figures["peak_while_loading_kib"]), mib(before), mib(peak), mib(figures["rss_after_sync_kib"]),
            mib(figures["lifetime_peak_kib"]), ratio(peak, before), f"{float(figures['sync_seconds']):.1f}",  # type: ignore[arg-type]
            mib(figures["peak_during_second_sync_kib"]),
            ratio(int(figures["peak_during_second_sync_kib"]), before),  # type: ignore[call-overload]
            f"{float(figures['second_sync_seconds']):.1f}",  # type: ignore[arg-type]
        ])
    print_table(["size", "documents", "RSS at start, MiB", "peak RSS while loading, MiB",
                 "RSS after loading (baseline), MiB", "peak RSS during first sync (full), MiB",
                 "RSS after first sync, MiB", "lifetime peak (ru_maxrss), MiB", "first sync peak / baseline",
                 "first sync s", "peak RSS during second sync (incremental), MiB", "second sync peak / baseline",
                 "second sync s"], rows)
    if not all(figures["peak_reset"] for figures in results):
        print("NOTE: /proc/self/clear_refs was not writable, so the peak during the sync includes loading")


def report_traced(traced: dict[str, object], results: list[dict[str, object]]) -> None:
    """Print the sync's peak of new allocations next to the baseline RSS of the same scale."""
    peak = int(traced["traced_peak_kib"])  # type: ignore[call-overload]
    print(f"tracemalloc, scale {traced['scale']}x: the sync's new allocations peaked at {mib(peak)} MiB")
    for figures in results:
        if figures["scale"] == traced["scale"]:
            before = int(figures["rss_before_sync_kib"])  # type: ignore[call-overload]
            print(f"  baseline RSS {mib(before)} MiB; baseline plus that peak / baseline: {ratio(before + peak, before)} "
                  "(the ratio if the sync could not reuse freed memory)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("history", "scale"), default="history",
                        help="history: N scale-1 datasets end to end; scale: generate_dataset(now, N)")
    parser.add_argument("--scales", default=",".join(str(scale) for scale in DEFAULT_SCALES),
                        help="comma-separated sizes N, one child process each")
    parser.add_argument("--trace-scale", type=int, default=1,
                        help="scale of the extra run under tracemalloc; 0 skips it")
    parser.add_argument("--child", type=int, metavar="SCALE", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if arguments.child is not None:
        print(json.dumps(asyncio.run(child_measure(arguments.mode, arguments.child, arguments.trace))))
        return

    print(machine_summary())
    print(load_average())
    results = []
    for scale in (int(item) for item in arguments.scales.split(",")):
        figures = run_child(arguments.mode, scale)
        print(f"{arguments.mode} {scale}x: first sync {float(figures['sync_seconds']):.1f} s, "  # type: ignore[arg-type]
              f"second sync {float(figures['second_sync_seconds']):.1f} s", flush=True)  # type: ignore[arg-type]
        results.append(figures)
    report(results)
    if arguments.trace_scale:
        report_traced(run_child(arguments.mode, arguments.trace_scale, trace=True), results)
    print(load_average())


if __name__ == "__main__":
    main()
