"""Benchmark: throughput and latency of GET /api/v1/analytics/kpis against a fixed-response app.

A server process (``bench.read_server``) serves the real app, with the demo data synced
once, and a minimal aiohttp app that returns the same response bytes. This process
generates the load: a warm-up, then rounds that alternate between the two apps, each
round a fixed number of requests over keep-alive connections. Everything listens on
127.0.0.1 only.

Run: python -m bench.read_path [--requests N] [--rounds N] [--concurrency N] [--wrk]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Any

from bench.common import load_average, machine_summary, print_table
from bench.load import LoadResult, percentile, run_load
from bench.read_server import ACCEPT_ENCODING, KPIS_PATH, run_server

TARGET_THROUGHPUT_RATIO = 0.8
# Upper bound of the wait for the server process, which loads and syncs the demo data
# before it accepts requests.
SERVER_READY_TIMEOUT_S = 600
WRK_DURATION_S = 10
# Requests sent to the service while cProfile runs in the server process.
PROFILED_REQUESTS = 300


def request_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Encoding": ACCEPT_ENCODING}


def server_cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time of process ``pid`` (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # Fields after the command name, which may contain spaces, start at field 3 (state).
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure(url: str, token: str, requests: int, concurrency: int, pid: int,
                  expected_bytes: int | None) -> tuple[LoadResult, float]:
    """Run one load round and return it with the server's CPU seconds per request."""
    cpu_before = server_cpu_seconds(pid)
    result = await run_load(url, request_headers(token), requests, concurrency, expected_bytes)
    return result, (server_cpu_seconds(pid) - cpu_before) / requests


async def run_rounds(info: dict[str, Any], arguments: argparse.Namespace, pid: int) -> dict[str, list]:
    targets = {
        "service": (f"http://127.0.0.1:{info['real_port']}{KPIS_PATH}", None),
        # The baseline must return exactly the fetched bytes. The service's body is checked
        # for status only, because a card turning stale changes it.
        "baseline": (f"http://127.0.0.1:{info['baseline_port']}{KPIS_PATH}", info["body_bytes"]),
    }
    for name, (url, expected) in targets.items():
        await run_load(url, request_headers(info["token"]), arguments.warmup, arguments.concurrency, expected)
        print(f"warm-up: {arguments.warmup} requests to the {name}")

    rounds: dict[str, list] = {name: [] for name in targets}
    for number in range(1, arguments.rounds + 1):
        for name, (url, expected) in targets.items():
            result, cpu_per_request = await measure(url, info["token"], arguments.requests,
                                                    arguments.concurrency, pid, expected)
            rounds[name].append((result, cpu_per_request))
            print(f"round {number} {name}: {result.requests_per_second:.0f} requests/s, "
                  f"p50 {result.percentile_ms(0.50):.2f} ms, p99 {result.percentile_ms(0.99):.2f} ms, "
                  f"server CPU {cpu_per_request * 1000:.3f} ms/request, "
                  f"load generator CPU {result.client_cpu_seconds / result.seconds:.0%} of one core")
    return rounds


def summarize(rounds: list[tuple[LoadResult, float]]) -> dict[str, float]:
    latencies = sorted(latency for result, _ in rounds for latency in result.latencies)
    return {
        "rps": statistics.median(result.requests_per_second for result, _ in rounds),
        "p50": percentile(latencies, 0.50) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "cpu_ms": statistics.median(cpu for _, cpu in rounds) * 1000,
        "requests": sum(result.requests for result, _ in rounds),
    }


def report(rounds: dict[str, list], profile: list[tuple[str, float]]) -> None:
    service, baseline = summarize(rounds["service"]), summarize(rounds["baseline"])
    rows = [[name, int(figures["requests"]), f"{figures['rps']:.0f}", f"{figures['p50']:.2f}",
             f"{figures['p99']:.2f}", f"{figures['cpu_ms']:.3f}"]
            for name, figures in (("service", service), ("baseline", baseline))]
    print_table(["app", "requests", "requests/s (median round)", "p50 ms", "p99 ms", "server CPU ms/request"], rows)

    throughput = service["rps"] / baseline["rps"]
    verdict = "met" if throughput >= TARGET_THROUGHPUT_RATIO else "MISSED"
    print(f"throughput ratio service / baseline: {throughput:.2f} (target >= {TARGET_THROUGHPUT_RATIO}: {verdict})")
    print(f"p50 latency ratio service / baseline: {service['p50'] / baseline['p50']:.2f}; "
          f"p99: {service['p99'] / baseline['p99']:.2f}")
    print(f"server CPU per request ratio service / baseline: {service['cpu_ms'] / baseline['cpu_ms']:.2f}")

    print(f"\nservice functions with the most cumulative time under cProfile ({PROFILED_REQUESTS} requests; "
          "cProfile inflates the times, the order is what matters):")
    print_table(["function", "ms per request"], [[name, f"{ms:.3f}"] for name, ms in profile])


def run_wrk(info: dict[str, Any], concurrency: int) -> None:
    """Run wrk against both apps for a fixed duration and print its summary lines.

    NOTE: wrk was not installed on the machine these benchmarks were written on, so this
    path has not been run there.
    """
    for name, port in (("service", info["real_port"]), ("baseline", info["baseline_port"])):
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{WRK_DURATION_S}s", "--latency",
                   "-H", f"Authorization: Bearer {info['token']}", f"http://127.0.0.1:{port}{KPIS_PATH}"]
        output = subprocess.run(command, capture_output=True, text=True, timeout=WRK_DURATION_S + 30, check=False)
        summary = [line.strip() for line in output.stdout.splitlines()
                   if line.strip().startswith(("Requests/sec", "50%", "99%", "Non-2xx"))]
        print(f"wrk {name}: " + "; ".join(summary or [output.stderr.strip()]))


def profile_service(connection: Connection, info: dict[str, Any], concurrency: int) -> list[tuple[str, float]]:
    """Run a short load on the service with cProfile on in the server process; return its top functions."""
    connection.send("profile-start")
    connection.recv()
    url = f"http://127.0.0.1:{info['real_port']}{KPIS_PATH}"
    asyncio.run(run_load(url, request_headers(info["token"]), PROFILED_REQUESTS, concurrency))
    connection.send(("profile-stop", PROFILED_REQUESTS))
    return connection.recv()


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per round and app")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per app")
    parser.add_argument("--warmup", type=int, default=1000, help="warm-up requests per app")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--scale", type=int, default=1, help="demo dataset scale of the served cards")
    parser.add_argument("--wrk", action="store_true", help="also measure with wrk, if it is installed")
    parser.add_argument("--fixed-stale-threshold", action="store_true",
                        help="what-if: compute the service's stale threshold once instead of on every request")
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    print(machine_summary())
    print(load_average())
    if arguments.fixed_stale_threshold:
        print("what-if run: Settings.stale_threshold_seconds is computed once in the server process")
    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe()
    server = context.Process(target=run_server, args=(child_end, arguments.scale, arguments.fixed_stale_threshold),
                             name="read-path-server")
    server.start()
    try:
        exit_code = drive(parent_end, server.pid, arguments)
    finally:
        if server.is_alive():
            parent_end.send("stop")
            server.join(timeout=30)
        if server.is_alive():
            server.terminate()
            server.join(timeout=10)
    sys.exit(exit_code)


def drive(connection: Connection, pid: int, arguments: argparse.Namespace) -> int:
    if not connection.poll(SERVER_READY_TIMEOUT_S):
        print(f"FAILED: the server process was not ready within {SERVER_READY_TIMEOUT_S} s", file=sys.stderr)
        return 1
    try:
        info = connection.recv()
    except EOFError:
        print("FAILED: the server process exited before it was ready; its traceback is above", file=sys.stderr)
        return 1
    print(f"server ready: pid {pid}; the service answers {info['body_bytes']} bytes on the wire, "
          f"{info['content_type']} (charset {info['charset']}), headers {info['headers']}")
    rounds = asyncio.run(run_rounds(info, arguments, pid))
    profile = profile_service(connection, info, arguments.concurrency)
    report(rounds, profile)
    print(load_average())
    if arguments.wrk:
        if shutil.which("wrk"):
            run_wrk(info, arguments.concurrency)
        else:
            print("wrk is not installed; only the Python load generator was used")
    return 0


if __name__ == "__main__":
    main()
