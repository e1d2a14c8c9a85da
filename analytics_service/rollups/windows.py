"""Window terms: a window's count as whole pieces plus and minus two partial ones.

A window [a, b) rarely starts on a piece boundary. Its count is the sum of the pieces
from the one containing ``a`` up to the one containing ``b``. From that sum go the
documents of the first piece dated before ``a``, and to it are added the documents of the
last piece dated before ``b``. Those two partial counts ("edges") come from the source collection and cover at
most one piece each. A window ending at the run's ``now`` takes every piece from its
start on: the rollups hold no document dated at or after ``now``.

Pure functions: the caller passes every instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from analytics_service.rollups.pieces import piece_floor
from analytics_service.timeframes import Window


@dataclass(frozen=True)
class PieceRange:
    """Pieces whose start lies in [start, end); None leaves a side open."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        if self.start is not None and moment < self.start:
            return False
        return self.end is None or moment < self.end


@dataclass(frozen=True)
class WindowTerms:
    """count(window) = sum over ``pieces`` − edge(``minus``) + edge(``plus``).

    edge(s) is the number of documents in the piece containing ``s`` dated before ``s``.
    """

    pieces: PieceRange
    minus: datetime | None
    plus: datetime | None


def _unaligned(moment: datetime, minutes: tuple[int, ...]) -> datetime | None:
    return None if piece_floor(moment, minutes) == moment else moment


def window_terms(window: Window, now: datetime, minutes: tuple[int, ...]) -> WindowTerms:
    """Return the pieces and edges that make up the count of ``window``.

    ``window.start`` None means "since the beginning"; ``window.end == now`` means the
    window is still open.
    """
    if window.end > now:
        raise ValueError(f"window end {window.end.isoformat()} is after the run's now {now.isoformat()}")
    start = None if window.start is None else piece_floor(window.start, minutes)
    minus = None if window.start is None else _unaligned(window.start, minutes)
    if window.end == now:
        return WindowTerms(PieceRange(start, None), minus, None)
    end = piece_floor(window.end, minutes)
    return WindowTerms(PieceRange(start, end), minus, _unaligned(window.end, minutes))


def edge_boundaries(windows: list[Window], now: datetime, minutes: tuple[int, ...]) -> list[datetime]:
    """Return every unaligned window boundary whose edge must be counted, oldest first."""
    found = set()
    for window in windows:
        terms = window_terms(window, now, minutes)
        found.update(moment for moment in (terms.minus, terms.plus) if moment is not None)
    return sorted(found)
