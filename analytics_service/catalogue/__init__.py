"""The card catalogue: every card the dashboard can show, as data."""

from __future__ import annotations

from analytics_service.catalogue.charts import CHART_CARDS
from analytics_service.catalogue.kpis import KPI_CARDS
from analytics_service.catalogue.model import Card, CardKind, ChartType, Unit
from analytics_service.catalogue.ranked import RANKED_CARDS

ALL_CARDS: tuple[Card, ...] = KPI_CARDS + CHART_CARDS + RANKED_CARDS
CARDS_BY_ID: dict[str, Card] = {card.id: card for card in ALL_CARDS}

if len(CARDS_BY_ID) != len(ALL_CARDS):
    raise RuntimeError("duplicate card id in the catalogue")


def cards_of_kind(kind: CardKind) -> tuple[Card, ...]:
    return tuple(card for card in ALL_CARDS if card.kind is kind)


__all__ = ["ALL_CARDS", "CARDS_BY_ID", "Card", "CardKind", "ChartType", "Unit", "cards_of_kind"]
