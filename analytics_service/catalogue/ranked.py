"""Ranked-list card records (time frames day, week, month, year; top 10)."""

from __future__ import annotations

from analytics_service.catalogue.model import Card, CardKind
from analytics_service.catalogue.sources import MostFollowed, MostLikedHeadlines, ProviderMostViewed

RANKED_LIST_SIZE = 10


def _ranked(card_id: str, en: str, es: str, fr: str, ar: str, source) -> Card:
    return Card(card_id, CardKind.RANKED_LIST, {"en": en, "es": es, "fr": fr, "ar": ar}, source)


RANKED_CARDS: tuple[Card, ...] = (
    _ranked(
        "overviewHeadlinesMostViewed", "Most viewed headlines", "Titulares más vistos", "Titres les plus vus",
        "العناوين الأكثر مشاهدة", ProviderMostViewed(),
    ),
    _ranked(
        "overviewHeadlinesMostLiked", "Most liked headlines", "Titulares con más me gusta",
        "Titres les plus aimés", "العناوين الأكثر إعجابًا", MostLikedHeadlines(),
    ),
    _ranked(
        "overviewSourcesMostFollowed", "Most followed sources", "Fuentes más seguidas", "Sources les plus suivies",
        "المصادر الأكثر متابعة", MostFollowed("followedSources", "sources"),
    ),
    _ranked(
        "overviewTopicsMostFollowed", "Most followed topics", "Temas más seguidos", "Sujets les plus suivis",
        "المواضيع الأكثر متابعة", MostFollowed("followedTopics", "topics"),
    ),
)
