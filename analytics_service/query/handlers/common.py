"""Helpers shared by the planners: timestamp checks and reading branch results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analytics_service.query.bounds import invalid_timestamp_filter
from analytics_service.query.facets import FacetBatch, FacetResults
from analytics_service.sync.data import CardData

# How many ids of skipped documents a card reports, so an operator can find them.
SKIPPED_ID_SAMPLE = 5


@dataclass(frozen=True)
class TimestampCheck:
    """Branches counting documents whose time field is missing or malformed."""

    collection: str
    time_field: str
    count_branch: str
    sample_branch: str

    def apply(self, results: FacetResults, data: CardData) -> CardData:
        count_rows = results.branch(self.collection, self.count_branch)
        data.skipped_documents = int(count_rows[0]["n"]) if count_rows else 0
        if data.skipped_documents:
            rows = results.branch(self.collection, self.sample_branch)
            data.skipped_ids = [str(row["_id"]) for row in rows]
            data.skipped_reason = f"missing or malformed {self.time_field}"
        return data


def check_timestamps(batch: FacetBatch, time_field: str) -> TimestampCheck:
    invalid = {"$match": invalid_timestamp_filter(time_field)}
    count_branch = batch.add([invalid, {"$count": "n"}])
    sample_branch = batch.add([invalid, {"$sort": {"_id": 1}}, {"$limit": SKIPPED_ID_SAMPLE}, {"$project": {"_id": 1}}])
    return TimestampCheck(batch.collection, time_field, count_branch, sample_branch)


def single_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the one row of a ``$group`` on null, or an empty row when nothing matched."""
    if len(rows) > 1:
        raise ValueError(f"expected at most one grouped row, got {len(rows)}")
    return rows[0] if rows else {}


def number(row: dict[str, Any], key: str) -> float:
    value = row.get(key, 0)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"expected a number in {key}, got {value!r}")
    return value


def category_key(value: Any) -> str | None:
    """Return a group key as a string; None stays None (missing field)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)
