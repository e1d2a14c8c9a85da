"""Planners of cards that need no database query."""

from __future__ import annotations

from analytics_service.catalogue import Card
from analytics_service.catalogue.sources import Unavailable
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetResults
from analytics_service.query.plan import Batches, Reader, planner
from analytics_service.sync.data import CardData, FrameUnavailable


def unavailable_reader(card: Card, reason: str) -> Reader:
    """Return a reader that marks every frame of ``card`` unavailable for ``reason``."""

    async def read(results: FacetResults) -> CardData:
        return CardData({frame: FrameUnavailable(reason) for frame in card.frames})

    return read


@planner(Unavailable)
def plan_unavailable(card: Card, source: Unavailable, context: RunContext, batches: Batches) -> Reader:
    return unavailable_reader(card, source.reason)
