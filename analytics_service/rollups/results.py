"""Rollup results of one run: sums per window and key, daily series, build state and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analytics_service.query.values import number
from analytics_service.rollups.windows import WindowTerms


@dataclass
class GroupOutcome:
    """The refresh of one source group in one run: its mode, first piece, pieces written and error."""

    mode: str  # "full" or "incremental"
    start: datetime | None
    pieces: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "from": self.start.isoformat() if self.start else None,
                "pieces": self.pieces, "error": self.error}


@dataclass
class Totals:
    """A window's count, sum and label for one key."""

    key: Any
    n: float = 0
    s: float = 0
    label: Any = None


@dataclass
class RollupResults:
    ranges: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # spec -> repr(key) -> row
    daily: dict[str, list[int]] = field(default_factory=dict)
    edges: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # by group state id
    errors: dict[str, Exception] = field(default_factory=dict)  # by spec id and by group state id
    present: dict[str, bool] = field(default_factory=dict)  # by collection
    outcomes: dict[str, GroupOutcome] = field(default_factory=dict)  # by group state id

    def _check(self, spec_id: str) -> None:
        if spec_id in self.errors:
            raise self.errors[spec_id]

    def window(self, spec_id: str, range_name: str, terms: WindowTerms, edges: list[datetime]) -> dict[str, Totals]:
        """Return the totals per key of one window: pieces, minus one edge, plus another."""
        self._check(spec_id)
        totals: dict[str, Totals] = {}

        def add(row: dict[str, Any], n_field: str, s_field: str, sign: int) -> None:
            slot = totals.setdefault(repr(row["_id"]), Totals(row["_id"]))
            slot.n += sign * number(row, n_field)
            slot.s += sign * number(row, s_field)
            if slot.label is None:
                slot.label = row.get("label")

        for row in self.ranges[spec_id].values():
            add(row, f"{range_name}_n", f"{range_name}_s", 1)
        for edge, sign in ((terms.minus, -1), (terms.plus, 1)):
            if edge is not None:
                position = edges.index(edge)
                for row in self.edges[spec_id].values():
                    add(row, f"e{position}", f"v{position}", sign)
        return totals

    def days(self, spec_id: str) -> list[int]:
        self._check(spec_id)
        return self.daily[spec_id]

    def invalid_timestamps(self, state_id: str) -> tuple[int, list[str]]:
        """Return how many documents the group's last full rebuild found without a valid timestamp, and some ids."""
        self._check(state_id)
        state = self.states[state_id]
        return int(state.get("invalidCount") or 0), list(state.get("invalidIds") or [])
