"""Reading values out of aggregation results, shared by the planners and the rollups."""

from __future__ import annotations

from typing import Any

# How many ids of skipped documents a card reports, so an operator can find them.
SKIPPED_ID_SAMPLE = 5


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
