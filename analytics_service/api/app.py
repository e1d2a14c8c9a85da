"""The aiohttp application: routes, security and the lifecycle of its resources.

``create_app`` does no I/O. Each resource is one ``cleanup_ctx`` step, opened in order
at startup and closed in reverse at shutdown: storage, indexes, providers, sync service,
scheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp_security
from aiohttp import web
from pymongo.errors import PyMongoError

from analytics_service.api import cards, health, status, sync_routes
from analytics_service.api import metrics as metrics_api
from analytics_service.api.auth import BearerIdentityPolicy, RoleAuthorizationPolicy
from analytics_service.api.card_cache import CardCache
from analytics_service.api.errors import error_middleware
from analytics_service.api.keys import (
    CARD_CACHE,
    INDEXES_READY,
    PROVIDERS,
    REBUILD_SCHEDULER,
    SCHEDULER,
    SETTINGS,
    STORAGE,
    SYNC_SERVICE,
)
from analytics_service.api.metrics import METRICS, metrics_middleware
from analytics_service.errors import ConfigurationError
from analytics_service.observability import ServiceMetrics
from analytics_service.providers.registry import open_providers
from analytics_service.scheduler import SyncScheduler
from analytics_service.settings import Settings
from analytics_service.storage.client import Storage, open_storage
from analytics_service.storage.indexes import ensure_indexes
from analytics_service.sync.service import SyncService

logger = logging.getLogger(__name__)

# How long startup waits for the database before it serves anyway and retries in the
# background, so probes get responses while the database is down.
STARTUP_CHECK_SECONDS = 2.0


class _DatabaseProxy:
    """Gives the authorization policy the database once storage has been opened."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    def __getitem__(self, name: str):
        return self._app[STORAGE].database[name]


def create_app(settings: Settings, *, storage: Storage | None = None, scheduler: bool = True) -> web.Application:
    """Build the application; pass ``storage`` to share an already open store (it is not closed)."""
    if settings.jwt_secret is None:
        raise ConfigurationError(
            "invalid configuration: ANALYTICS_JWT_SECRET is unset: the API needs it to verify bearer tokens; "
            "set a random string of at least 32 characters"
        )
    # The metrics middleware sits outside the error middleware, so it counts the JSON error
    # responses with their final status.
    app = web.Application(middlewares=[metrics_middleware, error_middleware])
    app[SETTINGS] = settings
    app[METRICS] = ServiceMetrics()
    app.add_routes(health.routes)
    app.add_routes(metrics_api.routes)
    app.add_routes(cards.routes)
    app.add_routes(sync_routes.routes)
    app.add_routes(status.routes)
    aiohttp_security.setup(
        app,
        BearerIdentityPolicy(settings.jwt_secret.get_secret_value()),
        RoleAuthorizationPolicy(_DatabaseProxy(app)),
    )
    app.cleanup_ctx.append(_storage_step(storage))
    app.cleanup_ctx.append(_index_step)
    app.cleanup_ctx.append(_provider_step)
    app.cleanup_ctx.append(_sync_service_step)
    if scheduler:
        app.cleanup_ctx.append(_scheduler_step)
    return app


def _storage_step(shared: Storage | None):
    async def step(app: web.Application) -> AsyncIterator[None]:
        storage = shared if shared is not None else open_storage(app[SETTINGS])
        app[STORAGE] = storage
        yield
        if shared is None:
            await storage.close()

    return step


async def _index_step(app: web.Application) -> AsyncIterator[None]:
    ready = app[INDEXES_READY] = asyncio.Event()
    if not app[SETTINGS].create_indexes:
        logger.info("index creation is off (ANALYTICS_CREATE_INDEXES=false)")
        ready.set()
        yield
        return
    try:
        await asyncio.wait_for(ensure_indexes(app[STORAGE].database), STARTUP_CHECK_SECONDS)
    except (PyMongoError, TimeoutError) as error:
        logger.error("creating indexes failed, retrying in the background: %s", str(error) or "timed out")
    else:
        ready.set()

    # The service starts even while the database is down: indexes are then created in the
    # background as soon as it answers, and /readyz reports not ready until then.
    task = None
    if not ready.is_set():
        task = asyncio.create_task(_ensure_indexes_until_done(app[STORAGE].database, ready), name="ensure-indexes")
    yield
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _ensure_indexes_until_done(
    database, ready: asyncio.Event, first_delay_s: float = 1.0, max_delay_s: float = 60.0
) -> None:
    delay = first_delay_s
    while True:
        try:
            await ensure_indexes(database)
            ready.set()
            return
        except PyMongoError as error:
            logger.error("creating indexes failed, retrying in %.0f s: %s", delay, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)


async def _provider_step(app: web.Application) -> AsyncIterator[None]:
    async with open_providers(app[SETTINGS], app[STORAGE].database) as registry:
        try:
            await asyncio.wait_for(registry.check_selection(app[STORAGE].database), STARTUP_CHECK_SECONDS)
        except (PyMongoError, TimeoutError) as error:
            # The selection is made again at every run; a database that is down at start
            # must not stop the service.
            logger.warning("could not read remote_configs at start: %s", str(error) or "timed out")
        app[PROVIDERS] = registry
        yield


async def _sync_service_step(app: web.Application) -> AsyncIterator[None]:
    service = SyncService(app[STORAGE].database, app[SETTINGS], app[PROVIDERS], metrics=app[METRICS])
    app[SYNC_SERVICE] = service
    app[CARD_CACHE] = cache = CardCache(app[STORAGE].database)

    async def refresh_cache(result) -> None:
        await cache.refresh()

    service.listeners.append(refresh_cache)
    yield
    await service.stop()


async def _scheduler_step(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    scheduler = SyncScheduler(app[SYNC_SERVICE], settings.sync_cron, settings.tz)
    scheduler.start(run_now=settings.sync_on_startup)
    app[SCHEDULER] = scheduler
    rebuilds = SyncScheduler(app[SYNC_SERVICE], settings.rebuild_cron, settings.tz, rebuild=True)
    rebuilds.start(run_now=False)
    app[REBUILD_SCHEDULER] = rebuilds
    yield
    await rebuilds.stop()
    await scheduler.stop()
