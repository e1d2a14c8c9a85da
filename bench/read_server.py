"""Server process of the read-path benchmark: the real app and a fixed-response baseline.

``run_server`` runs in its own process, so the load generator in the parent process does
not share this event loop or its core. It loads the demo dataset into the embedded
engine, syncs once (events provider, as ``demo`` does), serves the real app without the
scheduler, fetches ``GET /api/v1/analytics/kpis`` once and serves those exact bytes from
a minimal aiohttp app. Both listen on 127.0.0.1 only, on ports the OS picks.
"""

from __future__ import annotations

import asyncio
import cProfile
import logging
import pstats
import secrets
from datetime import timedelta
from multiprocessing.connection import Connection

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from analytics_service.api.app import create_app
from analytics_service.api.auth import mint_token
from analytics_service.clock import utc_now
from analytics_service.demo.generator import DEMO_ADMIN_ID
from analytics_service.providers.registry import open_providers
from analytics_service.settings import Settings, load_settings
from analytics_service.storage.client import Storage
from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.storage.indexes import ensure_indexes
from analytics_service.sync.runner import RunStatus, Trigger
from analytics_service.sync.service import SyncService
from bench.common import load_dataset

KPIS_PATH = "/api/v1/analytics/kpis"
# Request headers of every benchmark request besides the token: what aiohttp's client and
# browsers send, so the service may respond with gzip as it does to a dashboard.
ACCEPT_ENCODING = "gzip, deflate"
# Response headers that differ per response or per connection; the baseline sets its own.
PER_RESPONSE_HEADERS = {"date", "server", "content-length", "connection", "keep-alive", "content-type"}
# Functions listed from the profile of the service under load.
PROFILE_TOP = 8


def run_server(connection: Connection, scale: int, fixed_stale_threshold: bool) -> None:
    """Entry point of the server process; runs commands from ``connection`` until "stop"."""
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(_serve(connection, scale, fixed_stale_threshold))


def fix_stale_threshold(settings: Settings) -> None:
    """Replace ``Settings.stale_threshold_seconds`` in this process by its value, computed once.

    A what-if experiment, not the service as shipped: the property steps through the cron
    schedule for a week on every call, and the card handlers call it on every request.
    """
    threshold = settings.stale_threshold_seconds
    Settings.stale_threshold_seconds = property(lambda self: threshold)  # type: ignore[method-assign, assignment]


async def _start_site(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


def baseline_app(body: bytes, content_type: str, charset: str | None, headers: dict[str, str]) -> web.Application:
    """Build an app whose one route returns ``body`` as is: the floor of aiohttp's own cost.

    ``headers`` (such as Content-Encoding and ETag) are sent unchanged, so a client
    receives the same response from both apps.
    """

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, charset=charset, headers=headers)

    app = web.Application()
    app.router.add_get(KPIS_PATH, handler)
    return app


async def _fetch_once(url: str, token: str) -> tuple[bytes, str, str | None, dict[str, str]]:
    """Return the body as sent on the wire (still compressed), its content type and other headers."""
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": ACCEPT_ENCODING}
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(url, headers=headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {url} returned {response.status}: {body[:200]!r}")
            copied_headers = {name: value for name, value in response.headers.items()
                              if name.lower() not in PER_RESPONSE_HEADERS}
            return body, response.content_type, response.charset, copied_headers


async def _serve(connection: Connection, scale: int, fixed_stale_threshold: bool) -> None:
    secret = secrets.token_urlsafe(48)
    settings = load_settings(env_file=None, jwt_secret=SecretStr(secret), host="127.0.0.1",
                             provider="events", sync_on_startup=False)
    client = EmbeddedMongoClient()
    database = client[settings.database]
    await load_dataset(database, scale)
    await ensure_indexes(database)
    async with open_providers(settings, database) as providers:
        result = await SyncService(database, settings, providers).run(Trigger.CLI)
    if result.status is not RunStatus.SUCCEEDED:
        raise RuntimeError(f"the initial sync ended {result.status}")

    if fixed_stale_threshold:
        fix_stale_threshold(settings)
    app = create_app(settings, storage=Storage(client, database, embedded=True), scheduler=False)
    real_runner, real_port = await _start_site(app)
    token = mint_token(secret, DEMO_ADMIN_ID, utc_now(), timedelta(hours=2))
    body, content_type, charset, headers = await _fetch_once(f"http://127.0.0.1:{real_port}{KPIS_PATH}", token)
    baseline_runner, baseline_port = await _start_site(baseline_app(body, content_type, charset, headers))

    connection.send({"real_port": real_port, "baseline_port": baseline_port, "token": token,
                     "body_bytes": len(body), "content_type": content_type, "charset": charset,
                     "headers": headers})
    loop = asyncio.get_running_loop()
    profiler: cProfile.Profile | None = None
    try:
        while True:
            command = await loop.run_in_executor(None, connection.recv)
            if command == "profile-start":
                profiler = cProfile.Profile()
                profiler.enable()
                connection.send("profiling")
            elif isinstance(command, tuple) and command[0] == "profile-stop" and profiler is not None:
                profiler.disable()
                connection.send(top_service_functions(profiler, requests=command[1]))
            elif command == "stop":
                break
    finally:
        await baseline_runner.cleanup()
        await real_runner.cleanup()
        await client.close()


def top_service_functions(profiler: cProfile.Profile, requests: int, limit: int = PROFILE_TOP) -> list[tuple[str, float]]:
    """Return the service's functions with the most cumulative time, in ms per request.

    Only functions of ``analytics_service`` are listed, so the list names the service's
    own share of the request path. cProfile slows small functions down more than large
    ones, so the shares are indicative and the absolute times inflated.
    """
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, function), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "analytics_service" in filename:
            module = filename.split("analytics_service", 1)[1].lstrip("/").removesuffix(".py").replace("/", ".")
            rows.append((f"analytics_service.{module}:{line} {function}", cumulative / requests * 1000))
    rows.sort(key=lambda row: -row[1])
    return rows[:limit]
