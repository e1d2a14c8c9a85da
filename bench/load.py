"""HTTP load loop: a fixed number of GET requests over N keep-alive connections."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp


@dataclass
class LoadResult:
    """Outcome of one load run; latencies are in seconds, sorted."""

    requests: int
    seconds: float
    latencies: list[float]
    client_cpu_seconds: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of already sorted values."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def run_load(url: str, headers: dict[str, str], total: int, concurrency: int,
                   expected_bytes: int | None = None) -> LoadResult:
    """Send ``total`` requests from ``concurrency`` workers, each reusing one connection.

    Bodies are read as sent (a gzip body stays compressed), as the wire bytes are what
    the two apps are compared on. Raises RuntimeError on the first response that is not 200, or whose body length
    differs from ``expected_bytes``, so a failing server never counts as a fast one.
    """
    latencies: list[float] = []
    sent = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while sent < total:
            sent += 1
            started = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                body = await response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"GET {url} returned {response.status}: {body[:200]!r}")
            if expected_bytes is not None and len(body) != expected_bytes:
                raise RuntimeError(f"GET {url} returned {len(body)} bytes, expected {expected_bytes}")

    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
        cpu_started = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    latencies.sort()
    return LoadResult(total, seconds, latencies, cpu_seconds)
