"""Planners for every kind of card source; importing this package registers them."""

from analytics_service.query.handlers import (
    counts,
    engagement,
    follows,
    groups,
    providers,
    rewards,
    rolled,
    series,
    static,
)

__all__ = ["counts", "engagement", "follows", "groups", "providers", "rewards", "rolled", "series", "static"]
