"""The configured reporting clients of the process, and the choice of one for each run.

``ANALYTICS_PROVIDER`` names the provider, or ``auto`` follows the platform's
``remote_configs`` (``activeProvider: firebase`` means GA4). The choice is made again at
the start of every run, so a change of the platform's setting takes effect without a
restart. Database cards refresh whatever the provider's state.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from analytics_service.errors import ConfigurationError
from analytics_service.providers.base import ProviderConfigurationError, ReportingClient
from analytics_service.providers.events import EventsClient
from analytics_service.providers.remote_config import AnalyticsConfig, read_analytics_config
from analytics_service.query.provider_access import ProviderSelection
from analytics_service.settings import Settings

logger = logging.getLogger(__name__)


class ProviderRegistry:
    """Holds one client per configured provider for the life of the process."""

    def __init__(self, settings: Settings, clients: dict[str, ReportingClient]) -> None:
        self._settings = settings
        self._clients = clients

    @property
    def configured(self) -> list[str]:
        return sorted(self._clients)

    def _resolve(self, config: AnalyticsConfig) -> tuple[str | None, str | None]:
        """Return the provider name for this run, or None and the reason."""
        requested = self._settings.provider
        if requested == "none":
            return None, "ANALYTICS_PROVIDER is none, so provider-backed cards are turned off"
        if requested != "auto":
            return requested, None
        name = config.provider_module
        if name is None:
            return None, ("ANALYTICS_PROVIDER is auto and remote_configs names no analytics provider "
                          "(features.analytics.activeProvider)")
        return name, None

    async def select(self, database: Any) -> ProviderSelection:
        config = await read_analytics_config(database)
        name, reason = self._resolve(config)
        if name is None:
            return ProviderSelection(None, reason, config, self._settings.provider_timeout_seconds)
        client = self._clients.get(name)
        if client is None:
            missing = ", ".join(self._settings.missing_provider_settings(name))
            return ProviderSelection(
                None, f"remote_configs selects {name}, which is not configured: set {missing}", config,
                self._settings.provider_timeout_seconds,
            )
        return ProviderSelection(client, None, config, self._settings.provider_timeout_seconds)

    async def check_selection(self, database: Any) -> None:
        """Stop at start when ``auto`` resolves to a provider that is not configured."""
        if self._settings.provider != "auto":
            return
        config = await read_analytics_config(database)
        name, reason = self._resolve(config)
        if name is None:
            logger.warning("provider-backed cards are off: %s", reason)
            return
        if name not in self._clients:
            missing = ", ".join(self._settings.missing_provider_settings(name))
            raise ConfigurationError(
                f"invalid configuration: remote_configs selects the analytics provider {name} "
                f"(ANALYTICS_PROVIDER=auto), which needs {missing}; set them, or set ANALYTICS_PROVIDER to "
                "events or none"
            )
        logger.info("analytics provider: %s (from remote_configs)", name)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


def build_clients(settings: Settings, database: Any, session: aiohttp.ClientSession) -> dict[str, ReportingClient]:
    """Create a client for every provider whose settings are complete."""
    clients: dict[str, ReportingClient] = {
        "events": EventsClient(database, settings.tz, settings.events_collection),
    }
    if not settings.missing_provider_settings("ga4"):
        from analytics_service.providers.ga4_setup import build_ga4_client

        try:
            clients["ga4"] = build_ga4_client(settings)
        except ProviderConfigurationError as error:
            raise ConfigurationError(f"invalid configuration: GA4 credentials: {error}") from None
    if not settings.missing_provider_settings("mixpanel"):
        from analytics_service.providers.mixpanel_setup import build_mixpanel_client

        clients["mixpanel"] = build_mixpanel_client(settings, session)
    return clients


@contextlib.asynccontextmanager
async def open_providers(settings: Settings, database: Any) -> AsyncIterator[ProviderRegistry]:
    """Open the HTTP session and the clients, and close both on exit."""
    async with aiohttp.ClientSession() as session:
        registry = ProviderRegistry(settings, build_clients(settings, database, session))
        logger.info("configured analytics providers: %s", ", ".join(registry.configured))
        try:
            yield registry
        finally:
            await registry.close()
