"""The platform's analytics settings, read from its ``remote_configs`` document each run."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

logger = logging.getLogger(__name__)

REMOTE_CONFIG_ID = ObjectId("6643b1b7a4a4e6e1a8e7b1c2")

# activeProvider values of the platform and the provider module that serves each.
PLATFORM_PROVIDERS = {"firebase": "ga4", "mixpanel": "mixpanel"}


@dataclass(frozen=True)
class AnalyticsConfig:
    """``features.analytics`` of the remote config; defaults when the document is missing."""

    found: bool = False
    enabled: bool = True
    active_provider: str | None = None
    sampling_rates: Mapping[str, float] = field(default_factory=dict)
    disabled_events: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()

    @property
    def provider_module(self) -> str | None:
        """Return the provider the platform's app sends events to, or None when unknown."""
        return PLATFORM_PROVIDERS.get(self.active_provider or "")

    def sampling_rate(self, event: str) -> float:
        return self.sampling_rates.get(event, 1.0)


def parse_analytics_config(document: Mapping[str, Any] | None) -> AnalyticsConfig:
    """Read ``features.analytics``; invalid entries are ignored and listed in ``problems``."""
    if document is None:
        return AnalyticsConfig()
    features = document.get("features")
    analytics = features.get("analytics") if isinstance(features, Mapping) else None
    if not isinstance(analytics, Mapping):
        return AnalyticsConfig(found=True, problems=("features.analytics is missing or not an object",))

    problems = []
    enabled = analytics.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"features.analytics.enabled is {enabled!r}, expected true or false; read as true")
        enabled = True

    provider = analytics.get("activeProvider")
    if provider is not None and provider not in PLATFORM_PROVIDERS:
        problems.append(f"features.analytics.activeProvider {provider!r} is not one of firebase, mixpanel")

    rates: dict[str, float] = {}
    raw_rates = analytics.get("eventSamplingRates") or {}
    if isinstance(raw_rates, Mapping):
        for event, rate in raw_rates.items():
            # A rate is the fraction of events the app logs: above 0 and at most 1.
            if isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 < rate <= 1:
                rates[str(event)] = float(rate)
            else:
                problems.append(f"sampling rate of {event!r} is {rate!r}, expected a number above 0 and at most 1")
    else:
        problems.append("features.analytics.eventSamplingRates is not an object")

    raw_disabled = analytics.get("disabledEvents") or []
    disabled = frozenset(item for item in raw_disabled if isinstance(item, str)) if isinstance(raw_disabled, list) else frozenset()

    return AnalyticsConfig(True, enabled, provider if isinstance(provider, str) else None, rates, disabled, tuple(problems))


async def read_analytics_config(database: Any) -> AnalyticsConfig:
    document = await database["remote_configs"].find_one({"_id": REMOTE_CONFIG_ID})
    config = parse_analytics_config(document)
    for problem in config.problems:
        logger.warning("remote_configs %s: %s", REMOTE_CONFIG_ID, problem)
    return config
