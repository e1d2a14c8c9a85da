"""The card record: one entry of the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from analytics_service.catalogue.labels import LabelMap
from analytics_service.catalogue.sources import (
    HeadlineEngagement,
    MostLikedHeadlines,
    ProviderSource,
    Source,
    Unavailable,
)
from analytics_service.timeframes import CHART_FRAMES, KPI_FRAMES, TimeFrame


class CardKind(StrEnum):
    KPI = "kpi"
    CHART = "chart"
    RANKED_LIST = "rankedList"

    @property
    def collection(self) -> str:
        """Name of the collection the dashboard reads cards of this kind from."""
        return _KIND_COLLECTIONS[self]

    @property
    def frames(self) -> tuple[TimeFrame, ...]:
        return CHART_FRAMES if self is CardKind.CHART else KPI_FRAMES


_KIND_COLLECTIONS = {
    CardKind.KPI: "kpi_card_data",
    CardKind.CHART: "chart_card_data",
    CardKind.RANKED_LIST: "ranked_list_card_data",
}


class Unit(StrEnum):
    COUNT = "count"
    SECONDS = "seconds"
    PERCENT = "percent"


class ChartType(StrEnum):
    LINE = "line"
    BAR = "bar"


@dataclass(frozen=True)
class Card:
    """One dashboard card: its id, how it is shown and what it is computed from."""

    id: str
    kind: CardKind
    label: LabelMap
    source: Source
    unit: Unit = Unit.COUNT
    increase_is_bad: bool = False
    chart_type: ChartType | None = None

    def __post_init__(self) -> None:
        if "en" not in self.label:
            raise ValueError(f"card {self.id}: label needs an 'en' entry")
        if (self.kind is CardKind.CHART) != (self.chart_type is not None):
            raise ValueError(f"card {self.id}: chart_type is required for charts and only for charts")

    @property
    def frames(self) -> tuple[TimeFrame, ...]:
        return self.kind.frames

    @property
    def source_name(self) -> str:
        """Where the data comes from, as shown in the API and the README."""
        if isinstance(self.source, ProviderSource):
            return "provider"
        if isinstance(self.source, Unavailable):
            return "none"
        collection = getattr(self.source, "collection", None)
        if isinstance(self.source, (HeadlineEngagement, MostLikedHeadlines)):
            return "engagements+headlines"
        return collection or "none"

    @property
    def needs_provider(self) -> bool:
        return isinstance(self.source, ProviderSource)
