"""A lease in MongoDB that lets one replica at a time run a sync.

The lease is one document in ``analytics_leases``: its owner, its expiry and a fencing
token that grows by one with every acquisition. The holder renews the expiry while the
run lasts (a heartbeat). A holder that stops renewing loses the lease once it expires,
and another replica can take it with a larger token. Card writes carry the token and
are rejected when a card already holds a larger one, so a late writer whose lease has
passed to another replica cannot overwrite a newer run's cards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

logger = logging.getLogger(__name__)

LEASES = "analytics_leases"
SYNC_LEASE = "sync"


@dataclass(frozen=True)
class Lease:
    owner: str
    token: int
    expires_at: datetime


class LeaseStore:
    """Acquires, renews and releases the sync lease for one owner."""

    def __init__(self, database: Any, owner: str, ttl: timedelta, name: str = SYNC_LEASE) -> None:
        self._collection = database[LEASES]
        self._owner = owner
        self._ttl = ttl
        self._name = name

    @property
    def owner(self) -> str:
        return self._owner

    async def acquire(self, now: datetime) -> Lease | None:
        """Take the lease if it is free, expired or already ours; None when another owner holds it."""
        try:
            document = await self._collection.find_one_and_update(
                {"_id": self._name, "$or": [{"expiresAt": {"$lte": now}}, {"owner": self._owner}]},
                {"$set": {"owner": self._owner, "expiresAt": now + self._ttl, "acquiredAt": now},
                 "$inc": {"token": 1}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            # The filter did not match an existing lease, so the upsert tried to insert a
            # second document with the same _id: another owner holds an unexpired lease.
            return None
        return Lease(document["owner"], int(document["token"]), document["expiresAt"])

    async def renew(self, lease: Lease, now: datetime) -> Lease | None:
        """Extend the lease; None when it was lost (expired and taken, or released)."""
        document = await self._collection.find_one_and_update(
            {"_id": self._name, "owner": lease.owner, "token": lease.token, "expiresAt": {"$gt": now}},
            {"$set": {"expiresAt": now + self._ttl}},
            return_document=ReturnDocument.AFTER,
        )
        if document is None:
            return None
        return Lease(lease.owner, lease.token, document["expiresAt"])

    async def release(self, lease: Lease, now: datetime) -> None:
        """Give the lease up at once, if it is still ours."""
        await self._collection.update_one(
            {"_id": self._name, "owner": lease.owner, "token": lease.token},
            {"$set": {"expiresAt": now}},
        )

    async def holder(self, now: datetime) -> Lease | None:
        """Return the current unexpired lease of any owner, or None."""
        document = await self._collection.find_one({"_id": self._name, "expiresAt": {"$gt": now}})
        if document is None:
            return None
        return Lease(document["owner"], int(document["token"]), document["expiresAt"])
