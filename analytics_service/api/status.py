"""``GET /status``: the last run, each source's health and the oldest card, for operators."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from analytics_service.api.auth import READ_PERMISSION, require_permission
from analytics_service.api.cards import PREFIX
from analytics_service.api.keys import SETTINGS, STORAGE
from analytics_service.api.render import freshness
from analytics_service.catalogue import ALL_CARDS, CardKind
from analytics_service.clock import utc_now
from analytics_service.storage.indexes import SYNC_RUNS
from analytics_service.storage.lease import LEASES, SYNC_LEASE

PING_TIMEOUT_SECONDS = 2.0
RUN_SUMMARY = {"_id": 0, "runId": 1, "trigger": 1, "status": 1, "startedAt": 1, "finishedAt": 1, "provider": 1}

routes = web.RouteTableDef()


def _provider_health(run: dict[str, Any] | None) -> dict[str, Any]:
    if run is None:
        return {"status": "unknown", "detail": "no finished sync run yet"}
    report = run.get("provider") or {}
    selected = report.get("selected")
    if selected is None:
        return {"status": "off", "detail": report.get("reason") or "no analytics provider selected"}
    failures = report.get("failures") or []
    if failures:
        return {"name": selected, "status": "failing", "detail": failures[0].get("error")}
    return {"name": selected, "status": "ok", "quota": report.get("quota") or {}}


@routes.get(f"{PREFIX}/status", name="status")
async def status(request: web.Request) -> web.Response:
    await require_permission(request, READ_PERMISSION)
    database = request.app[STORAGE].database
    now = utc_now()
    stale_after = request.app[SETTINGS].stale_threshold_seconds

    sources: dict[str, Any] = {}
    try:
        await asyncio.wait_for(request.app[STORAGE].ping(), PING_TIMEOUT_SECONDS)
        sources["database"] = {"status": "ok"}
    except Exception as error:  # reported, not raised: the status page must respond while the database is down
        detail = f"{type(error).__name__}: {error}"[:300] if str(error) else "no answer to a ping within 2 s"
        sources["database"] = {"status": "failing", "detail": detail}
        return web.json_response({
            "error": {"code": "database_unavailable", "message": f"the database is not answering: {detail}"},
            "sources": sources,
        }, status=503)

    last_run = await database[SYNC_RUNS].find({}, RUN_SUMMARY).sort("startedAt", -1).limit(1).to_list(None)
    finished = await database[SYNC_RUNS].find({"finishedAt": {"$ne": None}}, RUN_SUMMARY).sort(
        "startedAt", -1).limit(1).to_list(None)
    sources["provider"] = _provider_health(finished[0] if finished else None)

    ages = []
    for kind in CardKind:
        async for document in database[kind.collection].find({}, {"_id": 0, "cardId": 1, "computedAt": 1}):
            ages.append({"cardId": document.get("cardId"), "computedAt": document.get("computedAt"),
                         **freshness(document.get("computedAt"), now, stale_after)})
    # A card without a readable computedAt counts as the oldest.
    oldest = max(ages, key=lambda item: float("inf") if item["ageSeconds"] is None else item["ageSeconds"],
                 default=None)
    stale_cards = sum(item["stale"] for item in ages)
    missing = max(len(ALL_CARDS) - len(ages), 0)

    lease = await database[LEASES].find_one({"_id": SYNC_LEASE}, {"_id": 0, "owner": 1, "expiresAt": 1, "token": 1})
    body = {
        "lastRun": (last_run[0] if last_run else None),
        "sources": sources,
        "oldestCard": oldest,
        "staleCards": stale_cards,
        "cardsNotComputed": missing,
        "staleAfterSeconds": stale_after,
        "lease": {**lease, "expiresAt": lease["expiresAt"].isoformat()} if lease else None,
    }
    if body["lastRun"]:
        body["lastRun"].pop("provider", None)
    return web.json_response(body)
