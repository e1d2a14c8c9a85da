"""Shapes stored card documents into API responses in the requested language.

The API is the service's own contract, so unlike the stored documents it shows every
frame of a card: an unavailable frame has ``value: null`` and its ``reason``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics_service.catalogue import Card, CardKind
from analytics_service.catalogue.labels import pick_label, sanitize_language_map
from analytics_service.timeframes import TimeFrame, parse_timestamp


def _localise(labels: Any, language: str) -> str | None:
    clean = sanitize_language_map(labels)
    return None if clean is None else pick_label(clean, language)


def _points(stored: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    points = []
    for point in stored:
        rendered = {"timestamp": point.get("timestamp"), "label": _localise(point.get("label"), language),
                    "value": point.get("value")}
        if "key" in point:
            rendered["key"] = point["key"]
        points.append(rendered)
    return points


def _frame(card: Card, stored: Any, language: str, asides: Any) -> Any:
    if card.kind is CardKind.KPI:
        return {**stored, "status": "ok"}
    if card.kind is CardKind.CHART:
        rendered = {"status": "ok", "points": _points(stored, language)}
        if asides is not None:
            rendered["asides"] = _points(asides, language)
        return rendered
    rows = [{"entityId": row.get("entityId"), "displayTitle": _localise(row.get("displayTitle"), language),
             "metricValue": row.get("metricValue")} for row in stored]
    return {"status": "ok", "rows": rows}


def freshness(computed_at: Any, now: datetime, stale_after_s: float) -> dict[str, Any]:
    """Return a card's age and whether it is older than ``stale_after_s``; unknown ages are stale."""
    moment = parse_timestamp(computed_at)
    if moment is None:
        return {"ageSeconds": None, "stale": True}
    age = (now - moment).total_seconds()
    return {"ageSeconds": round(age, 1), "stale": age > stale_after_s}


def render_card(
    card: Card,
    document: dict[str, Any] | None,
    language: str,
    frame: TimeFrame | None,
    now: datetime,
    stale_after_s: float,
) -> dict[str, Any]:
    frames = [frame] if frame is not None else list(card.frames)
    body: dict[str, Any] = {
        "cardId": card.id,
        "kind": str(card.kind),
        "label": pick_label(card.label, language),
        "language": language,
        "unit": str(card.unit),
        "increaseIsBad": card.increase_is_bad,
        "source": card.source_name,
    }
    if card.chart_type is not None:
        body["type"] = str(card.chart_type)
    if document is None:
        body.update(status="notComputed", computedAt=None, runId=None, stale=True,
                    timeFrames={str(item): {"status": "notComputed", "value": None,
                                            "reason": "no sync has computed this card yet"} for item in frames})
        return body

    stored_frames = document.get("timeFrames") or {}
    unavailable = document.get("unavailable") or {}
    asides = document.get("asides") or {}
    rendered = {}
    for item in frames:
        key = str(item)
        if key in stored_frames:
            rendered[key] = _frame(card, stored_frames[key], language, asides.get(key))
        else:
            reason = unavailable.get(key, "the last sync stored no data for this time frame")
            rendered[key] = {"status": "unavailable", "value": None, "reason": reason}
    body.update(
        status=document.get("status"),
        computedAt=document.get("computedAt"),
        runId=document.get("runId"),
        # The age in seconds is left out: it changes every second, and responses are cached
        # and revalidated by ETag. /status reports ages.
        stale=freshness(document.get("computedAt"), now, stale_after_s)["stale"],
        skippedDocuments=document.get("skippedDocuments"),
        notes=document.get("notes", []),
        timeFrames=rendered,
    )
    return body
