"""Opens the database: a real MongoDB when a URI is set, else the embedded engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient

from analytics_service.settings import Settings
from analytics_service.storage.embedded import EmbeddedMongoClient

logger = logging.getLogger(__name__)

# Fail fast when the server is unreachable instead of PyMongo's 30 s default, so a
# probe or a CLI run reports the problem quickly.
SERVER_SELECTION_TIMEOUT_MS = 5000


@dataclass
class Storage:
    """The open client and the service's database."""

    client: Any
    database: Any
    embedded: bool

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.database.command("ping")


def open_storage(settings: Settings) -> Storage:
    """Create the client; no I/O happens until the first command."""
    if settings.mongodb_uri is None:
        logger.warning(
            "ANALYTICS_MONGODB_URI is unset: using the embedded in-memory engine; "
            "data is lost when the process stops"
        )
        client: Any = EmbeddedMongoClient()
        return Storage(client, client[settings.database], embedded=True)

    uri = settings.mongodb_uri.get_secret_value()
    options: dict[str, Any] = {"tz_aware": True, "appname": "analytics_service"}
    # Keyword arguments override the URI's options, so the default applies only when the
    # connection string does not set its own.
    if "serverselectiontimeoutms=" not in uri.lower():
        options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
    client = AsyncMongoClient(uri, **options)
    return Storage(client, client[settings.database], embedded=False)
