"""Builds the GA4 client from the service settings."""

from __future__ import annotations

from analytics_service.providers.ga4 import GA4Client
from analytics_service.settings import Settings


def build_ga4_client(settings: Settings) -> GA4Client:
    # Settings validation guarantees the property id and one credentials source.
    if settings.ga4_credentials_json is not None:
        service_account: str = settings.ga4_credentials_json.get_secret_value()
    else:
        service_account = str(settings.ga4_credentials_file)
    return GA4Client.from_service_account(
        settings.ga4_property_id or "",
        service_account,
        endpoint=settings.ga4_endpoint,
        timeout=settings.provider_timeout_seconds,
    )
