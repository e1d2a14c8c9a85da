"""Pieces and window terms: pure functions, checked against tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from analytics_service.rollups.pieces import piece_ceil, piece_floor, piece_start, zone_minute_offsets
from analytics_service.rollups.windows import PieceRange, edge_boundaries, window_terms
from analytics_service.timeframes import TimeFrame, Window, frame_windows

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("zone", "expected"), [
    ("UTC", ()),
    ("Europe/Berlin", ()),
    ("America/New_York", ()),
    ("Asia/Kolkata", (30,)),
    ("Asia/Kathmandu", (15,)),
    ("Pacific/Chatham", (15,)),
    ("America/St_Johns", (30,)),
    ("Australia/Adelaide", (30,)),
    # Lord Howe moves its clocks by 30 minutes: +10:30 in winter, +11:00 in summer.
    ("Australia/Lord_Howe", (30,)),
])
def test_zone_minute_offsets(zone, expected):
    assert zone_minute_offsets(ZoneInfo(zone), at("2025-01-01T00:00:00"), at("2026-12-01T00:00:00")) == expected


def test_zone_minute_offsets_single_instant():
    assert zone_minute_offsets(ZoneInfo("Asia/Kolkata"), at("2026-06-01T00:00:00"), at("2026-06-01T00:00:00")) == (30,)


@pytest.mark.parametrize(("moment", "minutes", "floor", "ceil"), [
    ("2026-03-01T10:00:00", (), "2026-03-01T10:00:00", "2026-03-01T10:00:00"),
    ("2026-03-01T10:00:01", (), "2026-03-01T10:00:00", "2026-03-01T11:00:00"),
    ("2026-03-01T10:59:59", (), "2026-03-01T10:00:00", "2026-03-01T11:00:00"),
    ("2026-03-01T23:30:00", (), "2026-03-01T23:00:00", "2026-03-02T00:00:00"),
    ("2026-03-01T10:29:59", (30,), "2026-03-01T10:00:00", "2026-03-01T10:30:00"),
    ("2026-03-01T10:30:00", (30,), "2026-03-01T10:30:00", "2026-03-01T10:30:00"),
    ("2026-03-01T10:45:00", (30,), "2026-03-01T10:30:00", "2026-03-01T11:00:00"),
    ("2026-03-01T10:50:00", (45,), "2026-03-01T10:45:00", "2026-03-01T11:00:00"),
    ("2026-03-01T10:44:59", (15, 45), "2026-03-01T10:15:00", "2026-03-01T10:45:00"),
    ("2026-03-01T10:10:00", (15, 45), "2026-03-01T10:00:00", "2026-03-01T10:15:00"),
])
def test_piece_floor_and_ceil(moment, minutes, floor, ceil):
    assert piece_floor(at(moment), minutes) == at(floor)
    assert piece_ceil(at(moment), minutes) == at(ceil)


def test_piece_floor_converts_other_offsets_to_utc():
    moment = datetime(2026, 3, 1, 16, 10, tzinfo=ZoneInfo("Asia/Kolkata"))  # 10:40 UTC
    assert piece_floor(moment, (30,)) == at("2026-03-01T10:30:00")


@pytest.mark.parametrize(("hour", "part", "minutes", "expected"), [
    ("2026-03-01T10", 0, (), "2026-03-01T10:00:00"),
    ("2026-03-01T10", 0, (30,), "2026-03-01T10:00:00"),
    ("2026-03-01T10", 1, (30,), "2026-03-01T10:30:00"),
    ("2026-03-01T23", 2, (15, 45), "2026-03-01T23:45:00"),
])
def test_piece_start(hour, part, minutes, expected):
    assert piece_start(hour, part, minutes) == at(expected)


@pytest.mark.parametrize("part", [-1, 2])
def test_piece_start_rejects_parts_out_of_range(part):
    with pytest.raises(ValueError, match="out of range"):
        piece_start("2026-03-01T10", part, (30,))


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe",
                                  "Pacific/Chatham", "Europe/Berlin"])
def test_local_hours_are_piece_boundaries(zone):
    tz = ZoneInfo(zone)
    minutes = zone_minute_offsets(tz, at("2025-12-01T00:00:00"), at("2026-12-01T00:00:00"))
    for month in range(1, 13):
        for hour in (0, 5, 23):
            local_hour = datetime(2026, month, 10, hour, tzinfo=tz)
            assert piece_floor(local_hour, minutes) == local_hour


NOW = at("2026-12-04T15:30:20")


@pytest.mark.parametrize(("window", "pieces", "minus", "plus"), [
    # Open window: every piece from the start's piece on, minus the start's edge.
    (Window(at("2026-11-27T15:30:20"), NOW), PieceRange(at("2026-11-27T15:00:00"), None),
     at("2026-11-27T15:30:20"), None),
    # Closed window: pieces up to the end's piece, plus the end's edge.
    (Window(at("2026-11-20T15:30:20"), at("2026-11-27T15:30:20")),
     PieceRange(at("2026-11-20T15:00:00"), at("2026-11-27T15:00:00")),
     at("2026-11-20T15:30:20"), at("2026-11-27T15:30:20")),
    # Cumulative windows have no start and no minus edge.
    (Window(None, NOW), PieceRange(None, None), None, None),
    (Window(None, at("2026-11-27T15:30:20")), PieceRange(None, at("2026-11-27T15:00:00")),
     None, at("2026-11-27T15:30:20")),
    # Aligned boundaries need no edge.
    (Window(at("2026-11-27T15:00:00"), at("2026-12-01T00:00:00")),
     PieceRange(at("2026-11-27T15:00:00"), at("2026-12-01T00:00:00")), None, None),
])
def test_window_terms(window, pieces, minus, plus):
    terms = window_terms(window, NOW, ())
    assert (terms.pieces, terms.minus, terms.plus) == (pieces, minus, plus)


def test_window_terms_reject_windows_ending_after_now():
    with pytest.raises(ValueError, match="after the run's now"):
        window_terms(Window(None, NOW + timedelta(seconds=1)), NOW, ())


def test_edge_boundaries_of_every_frame():
    tz = ZoneInfo("America/New_York")
    windows = []
    for frame in TimeFrame:
        framed = frame_windows(frame, NOW, tz)
        windows += [framed.current, framed.previous]
    edges = edge_boundaries(windows, NOW, ())
    # Each frame adds its current start and its previous start; all keep now's minute.
    assert len(edges) == 8
    assert all(edge.minute == 30 and edge.second == 20 for edge in edges)
    assert edges == sorted(edges)


def test_piece_range_contains():
    piece_range = PieceRange(at("2026-11-27T15:00:00"), at("2026-11-27T16:00:00"))
    assert piece_range.contains(at("2026-11-27T15:00:00"))
    assert not piece_range.contains(at("2026-11-27T16:00:00"))
    assert PieceRange(None, None).contains(at("1970-01-01T00:00:00"))
