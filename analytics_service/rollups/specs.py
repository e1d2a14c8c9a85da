"""Rollup specs: which documents a rollup counts and how it keys them.

Cards whose numbers are sums over time (windowed and cumulative counts, daily series,
field sums and per-category counts in a window) read rollups instead of their source
collection. Cards that share a collection, filter and grouping share one spec, so the
source is read once per run for all of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from bson import json_util

from analytics_service.catalogue.sources import DailyCount, GroupCount, WindowCount, WindowFieldSum

# Part of every spec id: changing how rollups are computed changes every id, so the next
# run rebuilds them instead of mixing old and new pieces.
ROLLUP_FORMAT = 1


def _canonical(value: Any) -> str:
    return json_util.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class RollupSpec:
    """One rollup: per piece (and per key), the documents matching ``match`` and the sum of ``value_field``."""

    collection: str
    time_field: str
    match_json: str
    key_json: str | None = None
    value_field: str | None = None
    label_field: str | None = None

    @property
    def match(self) -> dict[str, Any]:
        return json_util.loads(self.match_json)

    @property
    def key(self) -> Any:
        return None if self.key_json is None else json_util.loads(self.key_json)

    def spec_id(self, zone: str, minutes: tuple[int, ...]) -> str:
        """Return a stable id of this spec for a time zone and the minutes its hours start at.

        Pieces record their local calendar day, so another time zone means other pieces.
        """
        text = _canonical([ROLLUP_FORMAT, self.collection, self.time_field, self.match_json,
                           self.key_json, self.value_field, self.label_field, zone, list(minutes)])
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def group_key(source: GroupCount) -> Any:
    """Return the ``$group`` key expression of a per-category count."""
    field = "$" + source.group_field
    if source.fallback_field is None:
        return field
    return {"$ifNull": [field, "$" + source.fallback_field]}


def spec_for(source: Any) -> RollupSpec | None:
    """Return the rollup a card source reads, or None when the source is not a sum over time."""
    if isinstance(source, (WindowCount, DailyCount)):
        return RollupSpec(source.collection, source.time_field, _canonical(dict(source.match)))
    if isinstance(source, WindowFieldSum):
        match = {source.value_field: {"$type": "number"}}
        return RollupSpec(source.collection, source.time_field, _canonical(match), value_field=source.value_field)
    if isinstance(source, GroupCount) and not source.snapshot:
        return RollupSpec(source.collection, source.time_field, _canonical(dict(source.match)),
                          key_json=_canonical(group_key(source)), label_field=source.label_field)
    return None
