"""Turns card records into one query plan per run and reads each card back from it.

Planning happens in two passes. First every card registers the facet branches it needs
with its collection's ``FacetBatch``; identical branches are shared. Then each batch
runs as one aggregation, and every card's reader picks its branches from the results,
issuing a follow-up query only for joins (see ``handlers.engagement``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from analytics_service.catalogue import Card
from analytics_service.query.context import RunContext
from analytics_service.query.facets import FacetBatch, FacetResults
from analytics_service.sync.data import CardData

if TYPE_CHECKING:
    from analytics_service.rollups.plan import RollupPlan

Reader = Callable[[FacetResults], Awaitable[CardData]]


class Batches:
    """The facet batches of one run, one per source collection."""

    def __init__(self, rollups: RollupPlan | None = None) -> None:
        self._batches: dict[str, FacetBatch] = {}
        # The rollup specs of the run; planners of sums over time register there.
        self.rollups = rollups

    def for_collection(self, collection: str) -> FacetBatch:
        batch = self._batches.get(collection)
        if batch is None:
            batch = self._batches[collection] = FacetBatch(collection)
        return batch

    def __iter__(self):
        return iter(self._batches.values())


Planner = Callable[[Card, Any, RunContext, Batches], Reader]

_PLANNERS: dict[type, Planner] = {}


def planner(source_type: type) -> Callable[[Planner], Planner]:
    """Register the planner of one kind of source."""

    def register(function: Planner) -> Planner:
        _PLANNERS[source_type] = function
        return function

    return register


def plan_card(card: Card, context: RunContext, batches: Batches) -> Reader:
    function = _PLANNERS.get(type(card.source))
    if function is None:
        raise TypeError(f"card {card.id}: no planner for source {type(card.source).__name__}")
    return function(card, card.source, context, batches)
