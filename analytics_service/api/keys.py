"""Typed application keys for what the lifecycle steps put on the app."""

from __future__ import annotations

import asyncio

from aiohttp import web

from analytics_service.api.card_cache import CardCache
from analytics_service.providers.registry import ProviderRegistry
from analytics_service.scheduler import SyncScheduler
from analytics_service.settings import Settings
from analytics_service.storage.client import Storage
from analytics_service.sync.service import SyncService

SETTINGS = web.AppKey("settings", Settings)
STORAGE = web.AppKey("storage", Storage)
SYNC_SERVICE = web.AppKey("sync_service", SyncService)
SCHEDULER = web.AppKey("scheduler", SyncScheduler)
REBUILD_SCHEDULER = web.AppKey("rebuild_scheduler", SyncScheduler)
PROVIDERS = web.AppKey("providers", ProviderRegistry)
# Set once the service's indexes exist (or index creation is off); /readyz waits for it.
INDEXES_READY = web.AppKey("indexes_ready", asyncio.Event)
CARD_CACHE = web.AppKey("card_cache", CardCache)
