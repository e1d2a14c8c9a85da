"""Computed card values, before they are shaped into stored documents."""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics_service.timeframes import TimeFrame


@dataclass(frozen=True)
class KpiFrame:
    value: float
    # None for a snapshot, which has no earlier value to compare with.
    previous: float | None


@dataclass(frozen=True)
class DataPoint:
    value: float
    timestamp: str | None = None
    label: dict[str, str] | None = None
    # Stable category key (enum value or entity id) of a bar; None for a time point.
    key: str | None = None


@dataclass(frozen=True)
class RankedRow:
    entity_id: str
    title: dict[str, str]
    value: float


@dataclass(frozen=True)
class FrameUnavailable:
    reason: str


FrameData = KpiFrame | list[DataPoint] | list[RankedRow] | FrameUnavailable


@dataclass
class CardData:
    frames: dict[TimeFrame, FrameData]
    # Source documents left out because a field had the wrong type or form.
    skipped_documents: int = 0
    skipped_ids: list[str] = field(default_factory=list)
    skipped_reason: str | None = None
    # Points shown apart from a chart's series, such as a funnel's skips, per frame.
    asides: dict[TimeFrame, list[DataPoint]] = field(default_factory=dict)
    # Limits of the computation that a reader of the card should know.
    notes: list[str] = field(default_factory=list)

    def all_unavailable(self) -> bool:
        return all(isinstance(frame, FrameUnavailable) for frame in self.frames.values())
