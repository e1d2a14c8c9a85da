"""Remembers which sources are failing, so each change is logged once, not on every run.

A source (the database, or a provider by name) that starts failing is logged at error
level; further failures of the same source are logged at debug level until it
recovers, which is logged once at info level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class SourceHealth:
    failing: dict[str, str] = field(default_factory=dict)

    def failed(self, source: str, error: str) -> None:
        if source not in self.failing:
            logger.error("source %s is failing: %s", source, error)
        else:
            logger.debug("source %s is still failing: %s", source, error)
        self.failing[source] = error

    def succeeded(self, source: str) -> None:
        if self.failing.pop(source, None) is not None:
            logger.info("source %s recovered", source)

    def is_failing(self, source: str) -> bool:
        return source in self.failing
