"""Exceptions of the service.

    AnalyticsError
    ├── ConfigurationError   invalid setting; the process stops at start (exit code 2)
    ├── StorageError         the database failed or returned something unusable
    └── CardError            one card could not be computed; the other cards go on
        └── SourceDataError  a source query returned data of an unexpected shape

HTTP errors are not here: the API renders its own ``{"error": {"code", "message"}}``
bodies in ``analytics_service.api.errors``.
"""

from __future__ import annotations


class AnalyticsError(Exception):
    """Base class of the service's own errors."""


class ConfigurationError(AnalyticsError):
    """A setting is missing or invalid; the message names the variable and the fix."""


class StorageError(AnalyticsError):
    """The database failed or returned something unusable."""


class CardError(AnalyticsError):
    """One card could not be computed."""

    def __init__(self, card_id: str, reason: str) -> None:
        super().__init__(f"card {card_id}: {reason}")
        self.card_id = card_id
        self.reason = reason


class SourceDataError(CardError):
    """A source query returned data of an unexpected shape."""
