"""Tests of the card, sync-run and probe routes, over HTTP on the embedded engine.

Each test seeds a small hand-made dataset and runs three syncs at one-minute steps:
the first refreshes every catalogue card except NEVER_COMPUTED_ID, and the other two
refresh only usersTotalRegistered, so the run list has a known newest-first order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from analytics_service.api.app import create_app
from analytics_service.api.auth import mint_token
from analytics_service.catalogue import ALL_CARDS, CARDS_BY_ID, CardKind, cards_of_kind
from analytics_service.demo.generator import DEMO_ADMIN_ID
from analytics_service.settings import load_settings
from analytics_service.storage.client import Storage
from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.sync.runner import Trigger, run_sync
from analytics_service.timeframes import format_timestamp
from tests.conftest import SEED_NOW, insert_dataset

SECRET = "x" * 40
PREFIX = "/api/v1/analytics"
KIND_PATHS = {
    CardKind.KPI: f"{PREFIX}/kpis",
    CardKind.CHART: f"{PREFIX}/charts",
    CardKind.RANKED_LIST: f"{PREFIX}/ranked-lists",
}

# A KPI that the first sync leaves out, so no sync has computed it.
NEVER_COMPUTED_ID = "contentSourcesNewSources"
# A KPI whose every frame needs an analytics provider, which the tests do not configure.
PROVIDER_ONLY_ID = "usersActiveUsers"
REFRESHED_ID = "usersTotalRegistered"
CHART_ID = "usersRegistrationsOverTime"

# Registered users created before SEED_NOW: the admin and three readers. The anonymous
# user and the older-shape guest do not count as registered.
REGISTERED_USER_COUNT = 4


def iso(moment: datetime) -> str:
    return format_timestamp(moment)


DATASET = {
    "users": [
        {
            "_id": ObjectId(DEMO_ADMIN_ID),
            "role": "admin",
            "isAnonymous": False,
            "createdAt": iso(SEED_NOW - timedelta(days=40)),
        },
        {"role": "user", "isAnonymous": False, "createdAt": iso(SEED_NOW - timedelta(days=3))},
        {"role": "user", "isAnonymous": False, "createdAt": iso(SEED_NOW - timedelta(days=2))},
        {"role": "user", "isAnonymous": False, "createdAt": iso(SEED_NOW - timedelta(hours=5))},
        {"role": "user", "isAnonymous": True, "createdAt": iso(SEED_NOW - timedelta(hours=4))},
        {"appRole": "guestUser", "dashboardRole": "none", "createdAt": iso(SEED_NOW - timedelta(hours=3))},
    ],
    "headlines": [
        {"status": "active", "title": {"en": "Rates hold"}, "createdAt": iso(SEED_NOW - timedelta(days=1))},
        {"status": "draft", "title": {"en": "Draft story"}, "createdAt": iso(SEED_NOW - timedelta(days=1))},
    ],
}


@dataclass
class SeededStorage:
    """The seeded store and the ids of its sync runs, oldest first."""

    storage: Storage
    run_ids: list[str]


class UnreachableStorage(Storage):
    """Storage whose ping fails, as when the database server cannot be reached."""

    async def ping(self) -> None:
        raise ConnectionError("connection refused by 127.0.0.1:27017")


@pytest.fixture
async def seeded():
    mongo = EmbeddedMongoClient()
    database = mongo["news"]
    await insert_dataset(database, DATASET)

    run_ids = []
    first_cards = [card for card in ALL_CARDS if card.id != NEVER_COMPUTED_ID]
    card_sets = [first_cards, [CARDS_BY_ID[REFRESHED_ID]], [CARDS_BY_ID[REFRESHED_ID]]]
    for minutes, cards in enumerate(card_sets):
        started_at = SEED_NOW + timedelta(minutes=minutes)
        result = await run_sync(
            database, now=SEED_NOW, tz=UTC, trigger=Trigger.CLI, clock=lambda moment=started_at: moment, cards=cards
        )
        run_ids.append(result.run_id)

    yield SeededStorage(Storage(mongo, database, embedded=True), run_ids)
    await mongo.close()


def build_app(storage: Storage):
    settings = load_settings(env_file=None, jwt_secret=SECRET)
    return create_app(settings, storage=storage, scheduler=False)


@pytest.fixture
async def client(aiohttp_client, seeded):
    """A test client whose requests carry a valid admin token."""
    token = mint_token(SECRET, DEMO_ADMIN_ID, datetime.now(UTC), timedelta(minutes=10))
    return await aiohttp_client(build_app(seeded.storage), headers={"Authorization": f"Bearer {token}"})


async def assert_error(response, status: int, code: str) -> str:
    """Check the status and the exact error body, and return the error message."""
    assert response.status == status
    assert response.content_type == "application/json"
    body = await response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str)
    assert message
    return message


@pytest.mark.parametrize("kind", list(CardKind), ids=str)
async def test_list_has_every_catalogue_card(client, kind):
    response = await client.get(KIND_PATHS[kind])

    assert response.status == 200
    body = await response.json()
    assert body["kind"] == str(kind)
    assert [card["cardId"] for card in body["cards"]] == [card.id for card in cards_of_kind(kind)]


@pytest.mark.parametrize("kind", list(CardKind), ids=str)
async def test_one_card_route_returns_card(client, kind):
    card = cards_of_kind(kind)[0]

    response = await client.get(f"{KIND_PATHS[kind]}/{card.id}")

    assert response.status == 200
    body = await response.json()
    assert body["cardId"] == card.id
    assert body["kind"] == str(kind)
    assert list(body["timeFrames"]) == [str(frame) for frame in kind.frames]


async def test_week_frame_narrows_to_one_frame(client):
    response = await client.get(KIND_PATHS[CardKind.KPI], params={"timeFrame": "week"})

    assert response.status == 200
    cards = {card["cardId"]: card for card in (await response.json())["cards"]}
    for card in cards.values():
        assert list(card["timeFrames"]) == ["week"], card["cardId"]
    assert cards[REFRESHED_ID]["timeFrames"]["week"]["value"] == REGISTERED_USER_COUNT


async def test_week_frame_on_one_card(client):
    response = await client.get(f"{KIND_PATHS[CardKind.CHART]}/{CHART_ID}", params={"timeFrame": "week"})

    assert response.status == 200
    frames = (await response.json())["timeFrames"]
    assert list(frames) == ["week"]
    assert len(frames["week"]["points"]) == 7


async def test_day_frame_on_charts_is_400(client):
    response = await client.get(KIND_PATHS[CardKind.CHART], params={"timeFrame": "day"})

    message = await assert_error(response, 400, "invalid_parameter")
    assert "week" in message


async def test_unknown_time_frame_is_400(client):
    response = await client.get(KIND_PATHS[CardKind.KPI], params={"timeFrame": "decade"})

    message = await assert_error(response, 400, "invalid_parameter")
    assert "decade" in message


async def test_unknown_query_parameter_is_400(client):
    response = await client.get(KIND_PATHS[CardKind.KPI], params={"frame": "week"})

    message = await assert_error(response, 400, "invalid_parameter")
    assert "frame" in message


async def test_lang_es_gives_spanish_labels(client):
    response = await client.get(KIND_PATHS[CardKind.KPI], params={"lang": "es"})

    assert response.status == 200
    cards = (await response.json())["cards"]
    expected = [card.label.get("es", card.label["en"]) for card in cards_of_kind(CardKind.KPI)]
    assert [card["label"] for card in cards] == expected
    assert {card["language"] for card in cards} == {"es"}


async def test_unknown_lang_is_400(client):
    response = await client.get(KIND_PATHS[CardKind.KPI], params={"lang": "xx"})

    message = await assert_error(response, 400, "invalid_parameter")
    assert "xx" in message


async def test_accept_language_picks_french(client):
    headers = {"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"}

    response = await client.get(f"{KIND_PATHS[CardKind.KPI]}/{REFRESHED_ID}", headers=headers)

    assert response.status == 200
    body = await response.json()
    assert body["language"] == "fr"
    assert body["label"] == CARDS_BY_ID[REFRESHED_ID].label["fr"]


async def test_unknown_accept_language_uses_english(client):
    response = await client.get(f"{KIND_PATHS[CardKind.KPI]}/{REFRESHED_ID}", headers={"Accept-Language": "xx"})

    assert response.status == 200
    body = await response.json()
    assert body["language"] == "en"
    assert body["label"] == CARDS_BY_ID[REFRESHED_ID].label["en"]


async def test_unknown_card_is_404(client):
    response = await client.get(f"{KIND_PATHS[CardKind.KPI]}/noSuchCard")

    message = await assert_error(response, 404, "card_not_found")
    assert "noSuchCard" in message


async def test_chart_on_kpi_route_is_404(client):
    response = await client.get(f"{KIND_PATHS[CardKind.KPI]}/{CHART_ID}")

    message = await assert_error(response, 404, "card_not_found")
    assert f"{KIND_PATHS[CardKind.CHART]}/{CHART_ID}" in message


@pytest.mark.parametrize(
    "card_id", ["%24where", "..%2F", "%00", "a" * 2000], ids=["dollar", "dot-dot-slash", "nul", "long"]
)
async def test_odd_card_id_is_404(client, caplog, card_id):
    caplog.set_level(logging.ERROR)

    response = await client.get(f"{KIND_PATHS[CardKind.KPI]}/{card_id}")

    await assert_error(response, 404, "card_not_found")
    assert not caplog.records


async def test_never_computed_card_is_not_computed(client):
    response = await client.get(f"{KIND_PATHS[CardKind.KPI]}/{NEVER_COMPUTED_ID}")

    assert response.status == 200
    body = await response.json()
    assert body["status"] == "notComputed"
    assert body["computedAt"] is None
    assert body["runId"] is None
    assert list(body["timeFrames"]) == [str(frame) for frame in CardKind.KPI.frames]
    for frame in body["timeFrames"].values():
        assert frame["status"] == "notComputed"
        assert frame["value"] is None


async def test_unavailable_frame_has_reason(client, seeded):
    response = await client.get(f"{KIND_PATHS[CardKind.KPI]}/{PROVIDER_ONLY_ID}")

    assert response.status == 200
    body = await response.json()
    assert body["status"] == "unavailable"
    assert body["runId"] == seeded.run_ids[0]
    assert list(body["timeFrames"]) == [str(frame) for frame in CardKind.KPI.frames]
    for frame in body["timeFrames"].values():
        assert frame["status"] == "unavailable"
        assert frame["value"] is None
        assert "provider" in frame["reason"]


async def test_sync_runs_limit_returns_newest(client, seeded):
    response = await client.get(f"{PREFIX}/sync-runs", params={"limit": "2"})

    assert response.status == 200
    runs = (await response.json())["runs"]
    assert [run["runId"] for run in runs] == [seeded.run_ids[2], seeded.run_ids[1]]
    assert runs[0]["startedAt"] > runs[1]["startedAt"]
    assert {run["status"] for run in runs} == {"succeeded"}


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", ""])
async def test_invalid_limit_is_400(client, limit):
    response = await client.get(f"{PREFIX}/sync-runs", params={"limit": limit})

    await assert_error(response, 400, "invalid_parameter")


@pytest.mark.parametrize("limit", ["²", "١"])
async def test_non_ascii_digit_limit_is_400(client, limit):
    response = await client.get(f"{PREFIX}/sync-runs", params={"limit": limit})

    await assert_error(response, 400, "invalid_parameter")


async def test_unknown_route_is_404_json(client):
    response = await client.get(f"{PREFIX}/no-such-route")

    message = await assert_error(response, 404, "not_found")
    assert f"{PREFIX}/no-such-route" in message


async def test_post_to_get_route_is_405_json(client):
    response = await client.post(KIND_PATHS[CardKind.KPI])

    await assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


async def test_healthz_needs_no_token(aiohttp_client, seeded):
    anonymous = await aiohttp_client(build_app(seeded.storage))

    response = await anonymous.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_without_scheduler_is_503(client):
    response = await client.get("/readyz")

    assert response.status == 503
    body = await response.json()
    assert body["failed"] == "scheduler"
    assert body["checks"]["database"] == "ok"


async def test_readyz_with_failing_ping_is_503(aiohttp_client, seeded):
    storage = UnreachableStorage(seeded.storage.client, seeded.storage.database, embedded=True)
    anonymous = await aiohttp_client(build_app(storage))

    response = await anonymous.get("/readyz")

    assert response.status == 503
    body = await response.json()
    assert "database" in body["failed"].split(", ")
    assert body["checks"]["database"].startswith("failed: ConnectionError")
