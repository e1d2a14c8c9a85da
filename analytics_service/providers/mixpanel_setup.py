"""Builds the Mixpanel client from the service settings."""

from __future__ import annotations

import aiohttp

from analytics_service.providers.mixpanel import MixpanelClient
from analytics_service.settings import Settings


def build_mixpanel_client(settings: Settings, session: aiohttp.ClientSession) -> MixpanelClient:
    secret = settings.mixpanel_secret.get_secret_value() if settings.mixpanel_secret else ""
    return MixpanelClient(
        session,
        project_id=settings.mixpanel_project_id or "",
        username=settings.mixpanel_username or "",
        secret=secret,
        region=settings.mixpanel_region,
        base_url=settings.mixpanel_base_url,
        hourly_limit=settings.mixpanel_hourly_limit,
        request_timeout=settings.provider_timeout_seconds,
    )
