"""Shapes computed card data into the documents the dashboard reads.

The dashboard's parser is strict: a KPI frame's ``value`` must be a number and
``trend`` a string, and a data point's or ranked row's value a number. A frame without
data is therefore left out of ``timeFrames`` and listed under ``unavailable`` with its
reason; ``previous``, ``change`` and the other extra fields are this service's own and
are ignored by the dashboard.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics_service.catalogue import Card, CardKind, Unit
from analytics_service.sync.data import CardData, DataPoint, FrameUnavailable, KpiFrame, RankedRow
from analytics_service.timeframes import format_timestamp

TREND_NOT_AVAILABLE = "n/a"


def percent_change(value: float, previous: float | None) -> float | None:
    """Return the change in percent, or None when there is nothing to compare with."""
    if previous is None or previous == 0:
        return None
    return (value - previous) / abs(previous) * 100


def point_change(value: float, previous: float | None) -> float | None:
    """Return the change of a rate in percentage points."""
    if previous is None:
        return None
    return value - previous


def format_trend(change: float | None, unit: Unit) -> str:
    """Format a change for display: ``+12.5%``, ``-3.0%``, ``+1.2 pp`` or ``n/a``."""
    if change is None:
        return TREND_NOT_AVAILABLE
    rounded = round(change, 1)
    if rounded == 0:
        rounded = 0.0  # avoids "-0.0%"
    suffix = " pp" if unit is Unit.PERCENT else "%"
    return f"{rounded:+.1f}{suffix}"


def kpi_frame_document(frame: KpiFrame, unit: Unit) -> dict[str, Any]:
    if unit is Unit.PERCENT:
        change = point_change(frame.value, frame.previous)
        change_unit = "percentagePoints"
    else:
        change = percent_change(frame.value, frame.previous)
        change_unit = "percent"
    return {
        "value": frame.value,
        "trend": format_trend(change, unit),
        "previous": frame.previous,
        "change": None if change is None else round(change, 2),
        "changeUnit": change_unit,
    }


def point_document(point: DataPoint) -> dict[str, Any]:
    # The dashboard reads a point as a time point or a category, never both.
    if (point.timestamp is None) == (point.label is None):
        raise ValueError(f"a data point needs exactly one of timestamp and label, got {point}")
    document: dict[str, Any] = {"timestamp": point.timestamp, "label": point.label, "value": point.value}
    if point.key is not None:
        document["key"] = point.key
    return document


def row_document(row: RankedRow) -> dict[str, Any]:
    return {"entityId": row.entity_id, "displayTitle": row.title, "metricValue": row.value}


def card_document(card: Card, data: CardData, run_id: str, computed_at: datetime) -> dict[str, Any]:
    """Build the stored document of one card (without ``_id``, which MongoDB assigns)."""
    frames: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for frame in card.frames:
        value = data.frames.get(frame)
        if value is None:
            raise ValueError(f"card {card.id}: no data for time frame {frame}")
        if isinstance(value, FrameUnavailable):
            unavailable[str(frame)] = value.reason
        elif isinstance(value, KpiFrame):
            frames[str(frame)] = kpi_frame_document(value, card.unit)
        elif card.kind is CardKind.CHART:
            frames[str(frame)] = [point_document(point) for point in value]
        else:
            frames[str(frame)] = [row_document(row) for row in value]

    if not unavailable:
        status = "ok"
    elif frames:
        status = "partial"
    else:
        status = "unavailable"

    document: dict[str, Any] = {
        "cardId": card.id,
        "label": dict(card.label),
        "kind": str(card.kind),
        "unit": str(card.unit),
        "increaseIsBad": card.increase_is_bad,
        "source": card.source_name,
        "timeFrames": frames,
        "unavailable": unavailable,
        "status": status,
        "computedAt": format_timestamp(computed_at),
        "runId": run_id,
        "skippedDocuments": {
            "count": data.skipped_documents,
            "sampleIds": data.skipped_ids,
            "reason": data.skipped_reason,
        },
    }
    if card.chart_type is not None:
        document["type"] = str(card.chart_type)
    if data.asides:
        document["asides"] = {str(frame): [point_document(point) for point in points]
                              for frame, points in data.asides.items()}
    if data.notes:
        document["notes"] = list(data.notes)
    return document
