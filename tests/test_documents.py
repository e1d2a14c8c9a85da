"""Tests for trends, changes and the card documents the dashboard reads."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from analytics_service.catalogue import Card, CardKind, ChartType, Unit
from analytics_service.catalogue.sources import (
    DailyCount,
    GroupCount,
    MostLikedHeadlines,
    ProviderEngagementRate,
    WindowCount,
)
from analytics_service.sync.data import CardData, DataPoint, FrameUnavailable, KpiFrame, RankedRow
from analytics_service.sync.documents import (
    card_document,
    format_trend,
    kpi_frame_document,
    percent_change,
    point_change,
    point_document,
)
from analytics_service.timeframes import ISO_TIMESTAMP_PATTERN, TimeFrame, parse_timestamp

DAY, WEEK, MONTH, YEAR = TimeFrame.DAY, TimeFrame.WEEK, TimeFrame.MONTH, TimeFrame.YEAR

COUNT_KPI = Card("testCountKpi", CardKind.KPI, {"en": "Count", "es": "Cuenta"}, WindowCount("users"))
RATE_KPI = Card(
    "testRateKpi", CardKind.KPI, {"en": "Rate"}, ProviderEngagementRate(), unit=Unit.PERCENT
)
LINE_CHART = Card(
    "testLineChart", CardKind.CHART, {"en": "Per day"}, DailyCount("users"), chart_type=ChartType.LINE
)
BAR_CHART = Card(
    "testBarChart",
    CardKind.CHART,
    {"en": "By tier"},
    GroupCount("users", "tier", ("guest", "standard")),
    chart_type=ChartType.BAR,
)
RANKED_LIST = Card("testRankedList", CardKind.RANKED_LIST, {"en": "Most liked"}, MostLikedHeadlines())

COMPUTED_AT = datetime(2026, 12, 4, 15, 30, 0, tzinfo=timezone.utc)
RUN_ID = "run-1"


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- format_trend ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "unit", "expected"),
    [
        pytest.param(12.5, Unit.COUNT, "+12.5%", id="positive"),
        pytest.param(-3.0, Unit.COUNT, "-3.0%", id="negative"),
        pytest.param(-3, Unit.COUNT, "-3.0%", id="negative-int"),
        pytest.param(0, Unit.COUNT, "+0.0%", id="zero-int"),
        pytest.param(0.0, Unit.COUNT, "+0.0%", id="zero"),
        pytest.param(-0.0, Unit.COUNT, "+0.0%", id="negative-zero"),
        pytest.param(-0.04, Unit.COUNT, "+0.0%", id="negative-rounds-to-zero"),
        pytest.param(0.04, Unit.COUNT, "+0.0%", id="positive-rounds-to-zero"),
        pytest.param(12.345, Unit.COUNT, "+12.3%", id="rounds-down"),
        pytest.param(12.36, Unit.COUNT, "+12.4%", id="rounds-up"),
        pytest.param(-12.36, Unit.COUNT, "-12.4%", id="negative-rounds-away"),
        pytest.param(1234.56, Unit.COUNT, "+1234.6%", id="large"),
        pytest.param(-100.0, Unit.COUNT, "-100.0%", id="drop-to-zero"),
        pytest.param(12.5, Unit.SECONDS, "+12.5%", id="seconds-in-percent"),
        pytest.param(None, Unit.COUNT, "n/a", id="none"),
        pytest.param(None, Unit.PERCENT, "n/a", id="none-rate"),
        pytest.param(1.2, Unit.PERCENT, "+1.2 pp", id="rate-positive"),
        pytest.param(-0.5, Unit.PERCENT, "-0.5 pp", id="rate-negative"),
        pytest.param(-0.01, Unit.PERCENT, "+0.0 pp", id="rate-negative-rounds-to-zero"),
        pytest.param(0, Unit.PERCENT, "+0.0 pp", id="rate-zero"),
    ],
)
def test_format_trend_table(change, unit, expected):
    assert format_trend(change, unit) == expected


# --- percent_change and point_change ---------------------------------------------------

@pytest.mark.parametrize(
    ("value", "previous", "expected"),
    [
        pytest.param(150, 100, 50.0, id="increase"),
        pytest.param(50, 100, -50.0, id="decrease"),
        pytest.param(100, 100, 0.0, id="unchanged"),
        pytest.param(0, 100, -100.0, id="drop-to-zero"),
        pytest.param(1, 3, -66.666666, id="repeating-fraction"),
        # With a negative previous value, the sign follows the direction of the change.
        pytest.param(-5, -10, 50.0, id="negative-previous-rises"),
        pytest.param(-15, -10, -50.0, id="negative-previous-falls"),
        pytest.param(5, -10, 150.0, id="negative-previous-to-positive"),
        pytest.param(10, 0, None, id="previous-zero"),
        pytest.param(0, 0, None, id="both-zero"),
        pytest.param(10, 0.0, None, id="previous-float-zero"),
        pytest.param(10, None, None, id="previous-none"),
    ],
)
def test_percent_change_table(value, previous, expected):
    change = percent_change(value, previous)

    if expected is None:
        assert change is None
    else:
        assert change == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "previous", "expected"),
    [
        pytest.param(12.5, 10.0, 2.5, id="increase"),
        pytest.param(10.0, 12.5, -2.5, id="decrease"),
        # A rate may rise from 0 %, and its change in points is defined.
        pytest.param(5.0, 0.0, 5.0, id="previous-zero"),
        pytest.param(0.0, 0.0, 0.0, id="both-zero"),
        pytest.param(5.0, None, None, id="previous-none"),
    ],
)
def test_point_change_table(value, previous, expected):
    change = point_change(value, previous)

    if expected is None:
        assert change is None
    else:
        assert change == pytest.approx(expected)


# --- kpi_frame_document ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("frame", "unit", "expected"),
    [
        pytest.param(
            KpiFrame(150, 100), Unit.COUNT,
            {"value": 150, "trend": "+50.0%", "previous": 100, "change": 50.0, "changeUnit": "percent"},
            id="count-increase",
        ),
        pytest.param(
            KpiFrame(1, 3), Unit.COUNT,
            {"value": 1, "trend": "-66.7%", "previous": 3, "change": -66.67, "changeUnit": "percent"},
            id="count-change-rounded",
        ),
        pytest.param(
            KpiFrame(7, 0), Unit.COUNT,
            {"value": 7, "trend": "n/a", "previous": 0, "change": None, "changeUnit": "percent"},
            id="count-previous-zero",
        ),
        pytest.param(
            KpiFrame(42, None), Unit.COUNT,
            {"value": 42, "trend": "n/a", "previous": None, "change": None, "changeUnit": "percent"},
            id="count-snapshot",
        ),
        pytest.param(
            KpiFrame(90.0, 120.0), Unit.SECONDS,
            {"value": 90.0, "trend": "-25.0%", "previous": 120.0, "change": -25.0, "changeUnit": "percent"},
            id="seconds-decrease",
        ),
        pytest.param(
            KpiFrame(12.5, 10.0), Unit.PERCENT,
            {"value": 12.5, "trend": "+2.5 pp", "previous": 10.0, "change": 2.5, "changeUnit": "percentagePoints"},
            id="rate-increase",
        ),
        pytest.param(
            KpiFrame(5.0, 0.0), Unit.PERCENT,
            {"value": 5.0, "trend": "+5.0 pp", "previous": 0.0, "change": 5.0, "changeUnit": "percentagePoints"},
            id="rate-previous-zero",
        ),
        pytest.param(
            KpiFrame(5.0, None), Unit.PERCENT,
            {"value": 5.0, "trend": "n/a", "previous": None, "change": None, "changeUnit": "percentagePoints"},
            id="rate-snapshot",
        ),
    ],
)
def test_kpi_frame_document_table(frame, unit, expected):
    assert kpi_frame_document(frame, unit) == expected


# --- card_document ---------------------------------------------------------------------

def kpi_data(**frames) -> CardData:
    """Return KPI data with a default frame for every KPI frame not given by name."""
    defaults = {DAY: KpiFrame(10, 8), WEEK: KpiFrame(70, 70), MONTH: KpiFrame(300, 0), YEAR: KpiFrame(3650, None)}
    defaults.update({TimeFrame(name): value for name, value in frames.items()})
    return CardData(frames=defaults)


def test_card_document_kpi_all_available():
    document = card_document(COUNT_KPI, kpi_data(), RUN_ID, COMPUTED_AT)

    assert document["cardId"] == "testCountKpi"
    assert document["label"] == {"en": "Count", "es": "Cuenta"}
    assert document["kind"] == "kpi"
    assert document["unit"] == "count"
    assert document["runId"] == RUN_ID
    assert document["status"] == "ok"
    assert document["unavailable"] == {}
    assert set(document["timeFrames"]) == {"day", "week", "month", "year"}
    assert document["timeFrames"]["day"]["trend"] == "+25.0%"
    assert document["timeFrames"]["month"]["trend"] == "n/a"
    assert document["timeFrames"]["month"]["change"] is None
    assert "type" not in document


def test_card_document_kpi_values_are_numbers():
    data = kpi_data(day=KpiFrame(0, 0), week=KpiFrame(0.0, None), month=KpiFrame(2.5, 1), year=KpiFrame(7, 7))

    document = card_document(COUNT_KPI, data, RUN_ID, COMPUTED_AT)

    for name, frame in document["timeFrames"].items():
        assert is_number(frame["value"]), f"{name}: value {frame['value']!r}"
        assert isinstance(frame["trend"], str), f"{name}: trend {frame['trend']!r}"


def test_card_document_partial():
    reason = "no analytics provider is configured"
    data = kpi_data(day=FrameUnavailable(reason))

    document = card_document(COUNT_KPI, data, RUN_ID, COMPUTED_AT)

    assert document["status"] == "partial"
    assert "day" not in document["timeFrames"]
    assert set(document["timeFrames"]) == {"week", "month", "year"}
    assert document["unavailable"] == {"day": reason}


def test_card_document_all_unavailable():
    reason = "no analytics provider is configured"
    data = CardData(frames={frame: FrameUnavailable(reason) for frame in TimeFrame})

    document = card_document(RATE_KPI, data, RUN_ID, COMPUTED_AT)

    assert document["status"] == "unavailable"
    assert document["timeFrames"] == {}
    assert document["unavailable"] == {"day": reason, "week": reason, "month": reason, "year": reason}
    assert document["source"] == "provider"


def test_card_document_rate_change_unit():
    data = CardData(frames={frame: KpiFrame(12.5, 10.0) for frame in TimeFrame})

    document = card_document(RATE_KPI, data, RUN_ID, COMPUTED_AT)

    assert document["unit"] == "percent"
    for name, frame in document["timeFrames"].items():
        assert frame["changeUnit"] == "percentagePoints", name
        assert frame["trend"] == "+2.5 pp", name


def test_card_document_line_chart_points():
    points = [
        DataPoint(value=3, timestamp="2026-11-28T00:00:00+01:00"),
        DataPoint(value=0, timestamp="2026-11-29T00:00:00+01:00"),
        DataPoint(value=5.5, timestamp="2026-11-30T00:00:00+01:00"),
    ]
    data = CardData(frames={WEEK: points, MONTH: points[:1], YEAR: []})

    document = card_document(LINE_CHART, data, RUN_ID, COMPUTED_AT)

    assert document["type"] == "line"
    assert document["kind"] == "chart"
    assert document["status"] == "ok"
    assert set(document["timeFrames"]) == {"week", "month", "year"}
    week = document["timeFrames"]["week"]
    assert [point["timestamp"] for point in week] == [point.timestamp for point in points]
    for point in week:
        assert point["label"] is None
        assert is_number(point["value"])
        assert "key" not in point
    assert document["timeFrames"]["year"] == []


def test_card_document_bar_chart_points():
    points = [
        DataPoint(value=4, label={"en": "Guest", "es": "Invitado"}, key="guest"),
        DataPoint(value=9, label={"en": "Standard"}, key="standard"),
    ]
    data = CardData(frames={WEEK: points, MONTH: points, YEAR: points})

    document = card_document(BAR_CHART, data, RUN_ID, COMPUTED_AT)

    assert document["type"] == "bar"
    assert document["timeFrames"]["week"] == [
        {"timestamp": None, "label": {"en": "Guest", "es": "Invitado"}, "value": 4, "key": "guest"},
        {"timestamp": None, "label": {"en": "Standard"}, "value": 9, "key": "standard"},
    ]


@pytest.mark.parametrize("card", [LINE_CHART, BAR_CHART], ids=["line", "bar"])
def test_card_document_point_timestamp_or_label(card):
    if card is LINE_CHART:
        points = [DataPoint(value=1, timestamp="2026-12-04T00:00:00+01:00")]
    else:
        points = [DataPoint(value=1, label={"en": "Guest"}, key="guest")]
    data = CardData(frames={WEEK: points, MONTH: points, YEAR: points})

    document = card_document(card, data, RUN_ID, COMPUTED_AT)

    for name, frame_points in document["timeFrames"].items():
        for point in frame_points:
            present = [field for field in ("timestamp", "label") if point[field] is not None]
            assert len(present) == 1, f"{name}: {point}"


def test_card_document_chart_leaves_out_day():
    points = [DataPoint(value=1, timestamp="2026-12-04T00:00:00+01:00")]
    data = CardData(frames={DAY: points, WEEK: points, MONTH: points, YEAR: points})

    document = card_document(LINE_CHART, data, RUN_ID, COMPUTED_AT)

    assert set(document["timeFrames"]) == {"week", "month", "year"}


def test_card_document_ranked_rows():
    rows = [
        RankedRow(entity_id="65a1b2c3d4e5f60718293a4b", title={"en": "First", "fr": "Premier"}, value=12),
        RankedRow(entity_id="65a1b2c3d4e5f60718293a4c", title={"en": "Second"}, value=7.5),
    ]
    data = CardData(frames={DAY: rows, WEEK: rows, MONTH: rows[:1], YEAR: FrameUnavailable("no likes stored")})

    document = card_document(RANKED_LIST, data, RUN_ID, COMPUTED_AT)

    assert document["kind"] == "rankedList"
    assert document["status"] == "partial"
    assert document["unavailable"] == {"year": "no likes stored"}
    assert document["timeFrames"]["day"] == [
        {"entityId": "65a1b2c3d4e5f60718293a4b", "displayTitle": {"en": "First", "fr": "Premier"}, "metricValue": 12},
        {"entityId": "65a1b2c3d4e5f60718293a4c", "displayTitle": {"en": "Second"}, "metricValue": 7.5},
    ]
    assert len(document["timeFrames"]["month"]) == 1


@pytest.mark.parametrize(
    ("computed_at", "expected"),
    [
        pytest.param(COMPUTED_AT, "2026-12-04T15:30:00.000000Z", id="utc"),
        pytest.param(
            datetime(2026, 12, 4, 16, 30, 0, 250000, tzinfo=timezone(timedelta(hours=1))),
            "2026-12-04T15:30:00.250000Z",
            id="offset-converted",
        ),
    ],
)
def test_card_document_computed_at(computed_at, expected):
    document = card_document(COUNT_KPI, kpi_data(), RUN_ID, computed_at)

    assert document["computedAt"] == expected
    assert re.match(ISO_TIMESTAMP_PATTERN, document["computedAt"])
    assert parse_timestamp(document["computedAt"]) == computed_at


def test_card_document_naive_computed_at_raises():
    with pytest.raises(ValueError, match="aware"):
        card_document(COUNT_KPI, kpi_data(), RUN_ID, datetime(2026, 12, 4, 15, 30))


@pytest.mark.parametrize(
    ("card", "frames"),
    [
        pytest.param(COUNT_KPI, {DAY: KpiFrame(1, 1), MONTH: KpiFrame(1, 1), YEAR: KpiFrame(1, 1)}, id="kpi-week"),
        pytest.param(LINE_CHART, {WEEK: [], YEAR: []}, id="chart-month"),
        pytest.param(RANKED_LIST, {}, id="ranked-all"),
    ],
)
def test_card_document_missing_frame_raises(card, frames):
    with pytest.raises(ValueError, match=f"card {card.id}: no data for time frame"):
        card_document(card, CardData(frames=frames), RUN_ID, COMPUTED_AT)


def test_card_document_skipped_documents():
    data = kpi_data()
    data.skipped_documents = 2
    data.skipped_ids = ["a1", "b2"]
    data.skipped_reason = "createdAt is not an ISO-8601 string or a date"

    document = card_document(COUNT_KPI, data, RUN_ID, COMPUTED_AT)

    assert document["skippedDocuments"] == {
        "count": 2,
        "sampleIds": ["a1", "b2"],
        "reason": "createdAt is not an ISO-8601 string or a date",
    }


@pytest.mark.parametrize(
    "point",
    [
        DataPoint(value=1, timestamp="2026-03-01T00:00:00+00:00", label={"en": "Like"}),
        DataPoint(value=1),
    ],
    ids=["both", "neither"],
)
def test_point_needs_exactly_one_of_timestamp_and_label(point):
    with pytest.raises(ValueError):
        point_document(point)
