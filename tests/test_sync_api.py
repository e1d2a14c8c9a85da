"""Manual refresh, run progress, status and freshness over HTTP."""

from __future__ import annotations

import asyncio
import gzip
from datetime import datetime, timedelta, timezone

import pytest
from bson import ObjectId

from analytics_service.api.app import create_app
from analytics_service.api.auth import mint_token
from analytics_service.api.keys import CARD_CACHE, STORAGE, SYNC_SERVICE
from analytics_service.settings import load_settings
from analytics_service.storage.client import Storage
from analytics_service.storage.embedded import EmbeddedMongoClient
from analytics_service.sync.runner import Trigger
from tests.faults import FaultyDatabase

SECRET = "k" * 40
ADMIN_ID = ObjectId("6643b1b7a4a4e6e1a8e7b1a0")
READER_ID = ObjectId("6643b1b7a4a4e6e1a8e7b1a1")
PREFIX = "/api/v1/analytics"


def _token(subject: str, permissions: list[str] | None = None, lifetime=timedelta(hours=1)) -> dict[str, str]:
    token = mint_token(SECRET, subject, datetime.now(timezone.utc), lifetime, permissions)
    return {"Authorization": f"Bearer {token}"}


ADMIN = _token(str(ADMIN_ID))
READER = _token(str(READER_ID))


@pytest.fixture
async def service_app(aiohttp_client):
    engine = EmbeddedMongoClient()
    database = engine["news"]
    await database["users"].insert_many([
        {"_id": ADMIN_ID, "role": "admin", "createdAt": "2026-01-01T00:00:00Z", "isAnonymous": False},
        {"_id": READER_ID, "role": "user", "createdAt": "2026-01-01T00:00:00Z", "isAnonymous": False},
    ])
    blocked = FaultyDatabase(database)
    settings = load_settings(env_file=None, jwt_secret=SECRET, provider="none")
    app = create_app(settings, storage=Storage(engine, blocked, embedded=True), scheduler=False)
    client = await aiohttp_client(app)
    yield client, blocked, app
    await engine.close()


async def _finish(client, run_id: str, timeout_s: float = 30.0) -> dict:
    """Wait until the run is recorded as finished and the service has released its lease."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    service = client.app[SYNC_SERVICE]
    while True:
        response = await client.get(f"{PREFIX}/sync-runs/{run_id}", headers=ADMIN)
        body = await response.json()
        if response.status == 200 and body["status"] != "running" and not service.running:
            return body
        if loop.time() > deadline:
            raise AssertionError(f"run {run_id} did not finish: {body}")
        await asyncio.sleep(0.05)


async def test_manual_sync_is_accepted_and_finishes(service_app):
    client, _, _ = service_app

    response = await client.post(f"{PREFIX}/sync", headers=ADMIN)

    assert response.status == 202
    body = await response.json()
    assert response.headers["Location"] == f"{PREFIX}/sync-runs/{body['runId']}"
    record = await _finish(client, body["runId"])
    assert record["status"] == "succeeded"
    assert record["trigger"] == "manual"
    assert record["progress"]["phase"] == "finished"


async def test_manual_rebuild_recounts_every_rollup(service_app):
    client, _, _ = service_app
    first = await client.post(f"{PREFIX}/sync", headers=ADMIN)
    await _finish(client, (await first.json())["runId"])

    incremental = await client.post(f"{PREFIX}/sync", headers=ADMIN)
    record = await _finish(client, (await incremental.json())["runId"])
    assert {group["mode"] for group in record["rollups"].values()} == {"incremental"}
    assert record["rebuild"] is False

    response = await client.post(f"{PREFIX}/sync", json={"rebuild": True}, headers=ADMIN)
    body = await response.json()
    assert response.status == 202
    assert body["rebuild"] is True
    record = await _finish(client, body["runId"])
    assert record["rebuild"] is True
    assert {group["mode"] for group in record["rollups"].values()} == {"full"}


async def test_rebuild_asked_while_busy_runs_next(service_app):
    client, blocked, app = service_app
    service = app[SYNC_SERVICE]
    blocked.blocker = asyncio.Event()
    running = await client.post(f"{PREFIX}/sync", headers=ADMIN)

    assert await service.run_unless_busy(Trigger.SCHEDULE, rebuild=True) is None
    assert service.rebuild_pending
    blocked.blocker.set()
    await _finish(client, (await running.json())["runId"])

    result = await service.run_unless_busy(Trigger.SCHEDULE)
    assert {group["mode"] for group in result.rollups.values()} == {"full"}
    assert not service.rebuild_pending


async def test_manual_sync_of_chosen_cards(service_app):
    client, _, _ = service_app

    response = await client.post(f"{PREFIX}/sync", json={"cardIds": ["usersNewRegistrations"]}, headers=ADMIN)

    body = await response.json()
    assert body["cards"] == 1
    record = await _finish(client, body["runId"])
    assert [card["cardId"] for card in record["cards"]] == ["usersNewRegistrations"]


async def test_manual_sync_while_running_is_409(service_app):
    client, blocked, app = service_app
    blocked.blocker = asyncio.Event()
    first = await client.post(f"{PREFIX}/sync", headers=ADMIN)
    assert first.status == 202

    second = await client.post(f"{PREFIX}/sync", headers=ADMIN)

    assert second.status == 409
    assert (await second.json())["error"]["code"] == "sync_running"
    blocked.blocker.set()
    await _finish(client, (await first.json())["runId"])


async def test_running_sync_reports_progress(service_app):
    client, blocked, _ = service_app
    blocked.blocker = asyncio.Event()
    run_id = (await (await client.post(f"{PREFIX}/sync", headers=ADMIN)).json())["runId"]
    await asyncio.sleep(0.1)

    response = await client.get(f"{PREFIX}/sync-runs/{run_id}", headers=ADMIN)

    body = await response.json()
    assert body["status"] == "running"
    assert body["progress"]["phase"] == "extracting"
    assert body["progress"]["cardsTotal"] == 70
    blocked.blocker.set()
    await _finish(client, run_id)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "invalid_body"),
        ("[1, 2]", "invalid_body"),
        ('{"cardIds": "usersNewRegistrations"}', "invalid_body"),
        ('{"cardIds": []}', "invalid_body"),
        ('{"cardIds": [1]}', "invalid_body"),
        ('{"cardIds": ["noSuchCard"]}', "card_not_found"),
        ('{"cardIds": ["usersNewRegistrations"], "force": true}', "invalid_body"),
        ('{"cardIds": {"$ne": null}}', "invalid_body"),
        ('{"rebuild": "yes"}', "invalid_body"),
        ('{"rebuld": true}', "invalid_body"),
        ('{"rebuild": 1}', "invalid_body"),
    ],
)
async def test_manual_sync_bad_body_is_400(service_app, body, code):
    client, _, _ = service_app

    response = await client.post(f"{PREFIX}/sync", data=body, headers={**ADMIN, "Content-Type": "application/json"})

    assert response.status == 400
    assert (await response.json())["error"]["code"] == code


async def test_manual_sync_names_unknown_keys(service_app):
    client, _, _ = service_app

    response = await client.post(f"{PREFIX}/sync", json={"rebuld": True}, headers=ADMIN)

    assert response.status == 400
    assert "'rebuld'" in (await response.json())["error"]["message"]


async def test_oversized_body_is_413(service_app):
    client, _, _ = service_app
    response = await client.post(f"{PREFIX}/sync", data="x" * 70000, headers=ADMIN)
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"


async def test_repeated_query_parameter_is_400(service_app):
    client, _, _ = service_app
    response = await client.get(f"{PREFIX}/kpis?timeFrame=day&timeFrame=week", headers=ADMIN)
    assert response.status == 400


async def test_manual_sync_needs_sync_permission(service_app):
    client, _, _ = service_app

    reader = await client.post(f"{PREFIX}/sync", headers=READER)
    read_only_machine = await client.post(f"{PREFIX}/sync", headers=_token("bot", ["analytics.read"]))
    anonymous = await client.post(f"{PREFIX}/sync")
    machine = await client.post(f"{PREFIX}/sync", headers=_token("bot", ["analytics.sync"]))

    assert reader.status == 403
    assert read_only_machine.status == 403
    assert anonymous.status == 401
    assert machine.status == 202
    await _finish(client, (await machine.json())["runId"])


@pytest.mark.parametrize(("run_id", "status"), [("0" * 32, 404), ("xyz", 400), ("A" * 32, 400), ("0" * 33, 400)])
async def test_sync_run_lookup_errors(service_app, run_id, status):
    client, _, _ = service_app
    response = await client.get(f"{PREFIX}/sync-runs/{run_id}", headers=ADMIN)
    assert response.status == status


async def test_status_sums_up_last_run_and_oldest_card(service_app):
    client, _, _ = service_app
    run_id = (await (await client.post(f"{PREFIX}/sync", headers=ADMIN)).json())["runId"]
    await _finish(client, run_id)

    response = await client.get(f"{PREFIX}/status", headers=ADMIN)

    body = await response.json()
    assert response.status == 200
    assert body["lastRun"]["runId"] == run_id
    assert body["sources"]["database"]["status"] == "ok"
    assert body["sources"]["provider"]["status"] == "off"
    assert body["oldestCard"]["stale"] is False
    assert body["staleCards"] == 0
    assert body["cardsNotComputed"] == 0
    assert body["staleAfterSeconds"] == 1800


async def test_cards_report_age_and_staleness(service_app):
    client, _, app = service_app
    await app[SYNC_SERVICE].run(Trigger.CLI)
    database = app[STORAGE].database
    await database["kpi_card_data"].update_one({"cardId": "usersTotalRegistered"},
                                               {"$set": {"computedAt": "2020-01-01T00:00:00.000000Z"}})
    await app[CARD_CACHE].refresh()

    body = await (await client.get(f"{PREFIX}/kpis", headers=ADMIN)).json()

    cards = {card["cardId"]: card for card in body["cards"]}
    assert cards["usersTotalRegistered"]["stale"] is True
    assert cards["usersTotalRegistered"]["computedAt"] == "2020-01-01T00:00:00.000000Z"
    assert cards["usersNewRegistrations"]["stale"] is False


async def test_etag_revalidation_returns_304(service_app):
    client, _, app = service_app
    await app[SYNC_SERVICE].run(Trigger.CLI)

    first = await client.get(f"{PREFIX}/kpis", headers=ADMIN)
    again = await client.get(f"{PREFIX}/kpis", headers={**ADMIN, "If-None-Match": first.headers["ETag"]})
    other_language = await client.get(f"{PREFIX}/kpis?lang=fr", headers={**ADMIN, "If-None-Match": first.headers["ETag"]})

    assert first.status == 200
    assert again.status == 304
    assert await again.read() == b""
    assert other_language.status == 200
    assert other_language.headers["ETag"] != first.headers["ETag"]


async def test_new_run_changes_etag(service_app):
    client, _, app = service_app
    await app[SYNC_SERVICE].run(Trigger.CLI)
    first = await client.get(f"{PREFIX}/charts", headers=ADMIN)

    await app[SYNC_SERVICE].run(Trigger.CLI)
    second = await client.get(f"{PREFIX}/charts", headers={**ADMIN, "If-None-Match": first.headers["ETag"]})

    assert second.status == 200
    assert second.headers["ETag"] != first.headers["ETag"]


async def test_large_responses_are_gzipped(service_app):
    client, _, app = service_app
    await app[SYNC_SERVICE].run(Trigger.CLI)

    compressed = await client.get(f"{PREFIX}/charts", headers={**ADMIN, "Accept-Encoding": "gzip"},
                                  auto_decompress=False)
    plain = await client.get(f"{PREFIX}/charts", headers={**ADMIN, "Accept-Encoding": "identity"})

    assert compressed.headers["Content-Encoding"] == "gzip"
    assert plain.headers.get("Content-Encoding") is None
    raw = await compressed.read()
    assert len(raw) < len(await plain.read()) / 3
    assert gzip.decompress(raw) == await plain.read()


async def test_token_is_checked_before_cached_response(service_app):
    client, _, app = service_app
    await app[SYNC_SERVICE].run(Trigger.CLI)
    etag = (await client.get(f"{PREFIX}/kpis", headers=ADMIN)).headers["ETag"]

    response = await client.get(f"{PREFIX}/kpis", headers={**READER, "If-None-Match": etag})

    assert response.status == 403


async def test_reader_never_sees_half_written_run(service_app):
    client, blocked, app = service_app
    await app[SYNC_SERVICE].run(Trigger.CLI)
    before = await (await client.get(f"{PREFIX}/kpis", headers=ADMIN)).json()
    old_run = {card["runId"] for card in before["cards"]}
    blocked.write_blocker = asyncio.Event()

    run_id = (await (await client.post(f"{PREFIX}/sync", headers=ADMIN)).json())["runId"]
    await blocked.write_started.wait()
    # The KPI collection is written; the charts are not yet, and the run has not finished.
    await asyncio.sleep(0.1)
    app[CARD_CACHE]._checked_at = 0.0  # force the next read to look for a newer run
    during = await (await client.get(f"{PREFIX}/kpis", headers=ADMIN)).json()
    blocked.write_blocker.set()
    await _finish(client, run_id)
    after = await (await client.get(f"{PREFIX}/kpis", headers=ADMIN)).json()

    assert {card["runId"] for card in during["cards"]} == old_run
    assert {card["runId"] for card in after["cards"]} == {run_id}


async def test_metrics_count_runs_and_requests(service_app):
    client, _, _ = service_app
    run_id = (await (await client.post(f"{PREFIX}/sync", headers=ADMIN)).json())["runId"]
    await _finish(client, run_id)
    await client.get(f"{PREFIX}/kpis")

    response = await client.get("/metrics")

    text = await response.text()
    assert response.status == 200
    assert 'analytics_sync_runs_total{status="succeeded"} 1.0' in text
    assert 'analytics_http_requests_total{method="GET",route="kpi-list",status="401"} 1.0' in text
    assert "analytics_last_success_timestamp_seconds" in text
