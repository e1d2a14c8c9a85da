"""An in-memory copy of the stored cards, replaced whole when a run has finished.

Reads are served from the copy, so a dashboard opening a dozen cards costs no database
query. A new copy is read after a local run finishes, or when a check (at most every
``CHECK_INTERVAL_S``) finds that another replica finished a newer run; readers keep the
previous copy until the new one is complete, so they never see a half-written run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analytics_service.catalogue import CardKind
from analytics_service.storage.cards import read_cards
from analytics_service.storage.indexes import SYNC_RUNS
from analytics_service.timeframes import parse_timestamp

logger = logging.getLogger(__name__)

CHECK_INTERVAL_S = 5.0
# Rendered responses kept per snapshot: kinds × cards × languages × frames stays small.
MAX_RENDERED = 4096


@dataclass
class Snapshot:
    cards: dict[CardKind, dict[str, dict[str, Any]]]
    run_id: str | None
    version: str
    computed_at: dict[str, datetime | None]
    # Serialised responses of this snapshot: key -> (body, ETag, gzip body or None).
    rendered: dict[tuple, tuple[bytes, str, bytes | None]] = field(default_factory=dict)

    def stale_flags(self, card_ids: list[str], now: datetime, stale_after_s: float) -> tuple[bool, ...]:
        flags = []
        for card_id in card_ids:
            moment = self.computed_at.get(card_id)
            flags.append(moment is None or (now - moment).total_seconds() > stale_after_s)
        return tuple(flags)


async def _latest_finished_run(database: Any) -> str | None:
    rows = await database[SYNC_RUNS].find(
        {"finishedAt": {"$ne": None}}, {"_id": 0, "runId": 1}
    ).sort("startedAt", -1).limit(1).to_list(None)
    return rows[0]["runId"] if rows else None


class CardCache:
    """Holds the current snapshot and replaces it when the stored cards change."""

    def __init__(self, database: Any, check_interval_s: float = CHECK_INTERVAL_S) -> None:
        self._database = database
        self._check_interval_s = check_interval_s
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> Snapshot:
        """Return the snapshot, reading a new one first when it is missing or outdated."""
        snapshot = self._snapshot
        if snapshot is not None and time.monotonic() - self._checked_at < self._check_interval_s:
            return snapshot
        async with self._lock:
            if self._snapshot is None or time.monotonic() - self._checked_at >= self._check_interval_s:
                latest = await _latest_finished_run(self._database)
                if self._snapshot is None or latest != self._snapshot.run_id:
                    self._snapshot = await self._load(latest)
                self._checked_at = time.monotonic()
            return self._snapshot  # type: ignore[return-value]

    async def refresh(self) -> None:
        """Read a new snapshot now, after a run of this process has finished."""
        async with self._lock:
            latest = await _latest_finished_run(self._database)
            self._snapshot = await self._load(latest)
            self._checked_at = time.monotonic()

    async def _load(self, run_id: str | None) -> Snapshot:
        cards = {kind: await read_cards(self._database, kind) for kind in CardKind}
        computed_at = {card_id: parse_timestamp(document.get("computedAt"))
                       for by_id in cards.values() for card_id, document in by_id.items()}
        digest = hashlib.sha256()
        for kind in CardKind:
            for card_id in sorted(cards[kind]):
                digest.update(f"{card_id}:{cards[kind][card_id].get('runId')}:"
                              f"{cards[kind][card_id].get('computedAt')};".encode())
        logger.debug("card cache loaded: run %s, %d cards", run_id, len(computed_at))
        return Snapshot(cards, run_id, digest.hexdigest()[:16], computed_at)
