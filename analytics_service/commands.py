"""The work behind each CLI subcommand."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr
from pymongo.errors import PyMongoError

from analytics_service.api.app import create_app
from analytics_service.api.auth import READ_PERMISSION, SYNC_PERMISSION, mint_token
from analytics_service.clock import utc_now
from analytics_service.demo.generator import DEMO_ADMIN_ID, generate_dataset
from analytics_service.demo.importer import DatasetError, import_directory
from analytics_service.errors import ConfigurationError
from analytics_service.providers.registry import open_providers
from analytics_service.settings import Settings
from analytics_service.storage.client import open_storage
from analytics_service.storage.indexes import ensure_indexes
from analytics_service.sync.runner import RunStatus, SyncResult, Trigger
from analytics_service.sync.service import SyncService

logger = logging.getLogger(__name__)

DEMO_TOKEN_LIFETIME = timedelta(hours=24)
# Collections the demo refuses to load into when they already hold documents, so it
# never mixes generated data into a real platform database.
DEMO_GUARDED_COLLECTIONS = ("users", "headlines", "engagements")


def serve(settings: Settings) -> int:
    app = create_app(settings)
    # run_app stops accepting connections on SIGTERM or SIGINT, then runs the cleanup steps
    # (scheduler, sync service, providers, storage) within the grace period.
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None,
                shutdown_timeout=settings.shutdown_grace_seconds, handle_signals=True)
    return 0


async def sync_once(settings: Settings, rebuild: bool = False) -> int:
    storage = open_storage(settings)
    try:
        if storage.embedded:
            logger.warning("sync on the embedded engine reads an empty database; set ANALYTICS_MONGODB_URI")
        if settings.create_indexes:
            await ensure_indexes(storage.database)
        async with open_providers(settings, storage.database) as providers:
            await providers.check_selection(storage.database)
            result = await SyncService(storage.database, settings, providers).run(Trigger.CLI, rebuild=rebuild)
    except PyMongoError as error:
        # The run could not even be recorded; nothing was written.
        print(f"sync failed: the database did not respond: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        await storage.close()
    _print_result(result, rebuild)
    return 0 if result.status is RunStatus.SUCCEEDED else 1


def _print_result(result: SyncResult, rebuild: bool = False) -> None:
    refreshed = len(result.outcomes) - len(result.failed_cards)
    provider = result.provider.get("selected") or "none"
    print(f"run {result.run_id}: {result.status}, {refreshed} cards refreshed, "
          f"{len(result.failed_cards)} failed, {result.stats.get('roundTrips', 0)} database round trips, "
          f"provider {provider} ({result.provider.get('requests', 0)} requests)")
    modes = sorted({group["mode"] for group in result.rollups.values()})
    if modes:
        reason = ""
        if rebuild:
            reason = " (rebuild requested)"
        elif "full" in modes:
            reason = " (full for sources without usable rollups)"
        print(f"rollups: {' and '.join(modes)} refresh of {len(result.rollups)} sources{reason}, "
              f"{sum(group['pieces'] for group in result.rollups.values())} pieces written")
    for outcome in result.failed_cards:
        print(f"  failed {outcome.card_id}: {outcome.error}")


async def import_export(settings: Settings, directory: Path, progress: bool) -> int:
    storage = open_storage(settings)
    try:
        if storage.embedded:
            logger.warning("importing into the embedded engine: the data lasts only as long as this process")
        try:
            report = await import_directory(storage.database, directory, progress=progress)
        except DatasetError as error:
            print(f"import failed: {error}", file=sys.stderr)
            return 2
    finally:
        await storage.close()
    for item in report.collections:
        print(f"{item.collection}: {item.inserted} inserted, {item.skipped_invalid} invalid, "
              f"{item.skipped_duplicate} duplicates")
    for line in report.invalid_lines:
        print(f"  skipped {line}", file=sys.stderr)
    return 1 if report.has_skipped else 0


def demo(settings: Settings, dataset: Path | None, scale: int) -> int:
    if settings.jwt_secret is None:
        # A fresh random secret: tokens printed by one demo run are useless to the next.
        settings = settings.model_copy(update={"jwt_secret": SecretStr(secrets.token_urlsafe(48))})
    # The demo syncs once before serving, so the scheduler does not repeat it at start.
    settings = settings.model_copy(update={"sync_on_startup": False})
    if "provider" not in settings.model_fields_set:
        # The generated platform logs its events to analytics_events, so the demo reports
        # from there unless the operator chose a provider.
        settings = settings.model_copy(update={"provider": "events"})
    try:
        return asyncio.run(_stop_on_signal(_demo(settings, dataset, scale)))
    except DatasetError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 2


async def _stop_on_signal(work) -> int:
    """Run ``work`` and cancel it on SIGTERM or SIGINT, so the demo stops cleanly at any stage."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        print("stopped", flush=True)
        return 0


async def _demo(settings: Settings, dataset: Path | None, scale: int) -> int:
    storage = open_storage(settings)
    try:
        await _require_empty(storage.database, settings.database)
        if dataset is not None:
            report = await import_directory(storage.database, dataset, progress=True)
            print(f"loaded {report.total_inserted} documents from {dataset}, skipped "
                  f"{report.total_skipped_invalid} invalid lines and {report.total_skipped_duplicate} duplicates")
            for line in report.invalid_lines:
                print(f"  skipped {line}")
        else:
            counts = await _load_generated(storage.database, scale)
            print("loaded demo data: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
        if settings.create_indexes:
            await ensure_indexes(storage.database)

        async with open_providers(settings, storage.database) as providers:
            started = time.perf_counter()
            result = await SyncService(storage.database, settings, providers).run(Trigger.CLI)
        _print_result(result)
        print(f"first sync took {time.perf_counter() - started:.1f} s")

        subject, permissions = await _demo_subject(storage.database, dataset is None)
        token = mint_token(settings.jwt_secret.get_secret_value(), subject, utc_now(),  # type: ignore[union-attr]
                           DEMO_TOKEN_LIFETIME, permissions)
        await _serve_until_stopped(settings, storage, token)
    finally:
        await storage.close()
    return 0


async def _require_empty(database: Any, name: str) -> None:
    for collection in DEMO_GUARDED_COLLECTIONS:
        if await database[collection].count_documents({}, limit=1):
            raise ConfigurationError(
                f"database {name!r} already holds documents in {collection!r}; the demo loads data only into "
                "an empty database: set ANALYTICS_DATABASE to another name or unset ANALYTICS_MONGODB_URI"
            )


async def _load_generated(database: Any, scale: int) -> dict[str, int]:
    documents = generate_dataset(utc_now(), scale)
    counts = {}
    for collection, batch in documents.items():
        if batch:
            await database[collection].insert_many(batch)
        counts[collection] = len(batch)
    return counts


async def _demo_subject(database: Any, generated: bool) -> tuple[str, list[str] | None]:
    """Return the token subject: the demo admin, an admin of an imported dataset, or a machine client."""
    if generated:
        return DEMO_ADMIN_ID, None
    admin = await database["users"].find_one({"$or": [{"role": "admin"}, {"dashboardRole": "admin"}]}, {"_id": 1})
    if admin is not None:
        return str(admin["_id"]), None
    print("the dataset has no admin user; the token carries the analytics.read and analytics.sync "
          "permissions instead")
    return "demo-client", [READ_PERMISSION, SYNC_PERMISSION]


async def _serve_until_stopped(settings: Settings, storage, token: str) -> None:
    app = create_app(settings, storage=storage)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()

    shown_host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host
    url = f"http://{shown_host}:{settings.port}"
    print(f"\nserving on {url} (stop with Ctrl+C)")
    print(f"admin bearer token, valid for 24 hours:\n{token}\n")
    print(f"try: curl -H 'Authorization: Bearer {token}' {url}/api/v1/analytics/kpis", flush=True)

    try:
        # Serves until SIGTERM or SIGINT cancels this task (see _stop_on_signal).
        await asyncio.Event().wait()
    finally:
        print("stopping", flush=True)
        try:
            await asyncio.wait_for(runner.cleanup(), settings.shutdown_grace_seconds)
        except TimeoutError:
            logger.error("shutdown did not finish within %g s (ANALYTICS_SHUTDOWN_GRACE_SECONDS); exiting anyway",
                         settings.shutdown_grace_seconds)
