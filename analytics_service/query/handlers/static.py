"""Planners of cards that need no database query."""

from __future__ import annotations

from analytics_service.catalogue import Card
from analytics_service.catalogue.sources import ProviderMetric, Unavailable
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.sync.data import CardData, FrameUnavailable

# NOTE: provider-backed cards stay unavailable until a reporting client for GA4,
# Mixpanel or the platform's own events is configured; none exists in this version.
NO_PROVIDER = "needs an analytics provider (GA4, Mixpanel or the platform's own events), and none is configured"


def _unavailable(card: Card, reason: str) -> Reader:
    async def read(results: FacetResults) -> CardData:
        return CardData({frame: FrameUnavailable(reason) for frame in card.frames})

    return read


@planner(ProviderMetric)
def plan_provider_metric(card: Card, source: ProviderMetric, context: RunContext, batches: Batches) -> Reader:
    return _unavailable(card, f"{source.description}: {NO_PROVIDER}")


@planner(Unavailable)
def plan_unavailable(card: Card, source: Unavailable, context: RunContext, batches: Batches) -> Reader:
    return _unavailable(card, source.reason)
