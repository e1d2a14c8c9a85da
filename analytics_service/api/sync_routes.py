"""Manual refresh and run progress: ``POST /sync`` and ``GET /sync-runs/{runId}``."""

from __future__ import annotations

import json
import re

from aiohttp import web

from analytics_service.api.auth import READ_PERMISSION, SYNC_PERMISSION, require_permission
from analytics_service.api.cards import PREFIX
from analytics_service.api.errors import ApiError, BadRequest, Conflict, NotFound
from analytics_service.api.keys import STORAGE, SYNC_SERVICE
from analytics_service.catalogue import ALL_CARDS, CARDS_BY_ID
from analytics_service.storage.indexes import SYNC_RUNS
from analytics_service.sync.runner import Trigger
from analytics_service.sync.service import SyncBusy

RUN_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_BODY_BYTES = 64 * 1024

routes = web.RouteTableDef()


async def _requested_run(request: web.Request) -> tuple[list, bool]:
    """Read the optional ``{"cardIds": [...], "rebuild": bool}`` body; every id must be in the catalogue."""
    if not request.can_read_body:
        return list(ALL_CARDS), False
    too_large = ApiError(413, "payload_too_large", f"request body is larger than {MAX_BODY_BYTES} bytes")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise too_large
    if not raw.strip():
        return list(ALL_CARDS), False
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequest(f"request body is not valid JSON: {error}", code="invalid_body") from None
    if not isinstance(body, dict):
        raise BadRequest('expected a JSON object with an optional "cardIds" list and "rebuild" flag',
                         code="invalid_body")
    unknown_keys = sorted(set(body) - {"cardIds", "rebuild"})
    if unknown_keys:
        names = ", ".join(repr(key[:40]) for key in unknown_keys[:5])
        raise BadRequest(f'unknown keys {names}; expected only "cardIds" and "rebuild"', code="invalid_body")
    rebuild = body.get("rebuild", False)
    if not isinstance(rebuild, bool):
        raise BadRequest('"rebuild" must be true or false', code="invalid_body")
    card_ids = body.get("cardIds")
    if card_ids is None:
        return list(ALL_CARDS), rebuild
    if not isinstance(card_ids, list) or not card_ids or not all(isinstance(item, str) for item in card_ids):
        raise BadRequest('"cardIds" must be a non-empty list of card ids', code="invalid_body")
    unknown = [item for item in card_ids if item not in CARDS_BY_ID]
    if unknown:
        raise BadRequest(f"unknown card ids: {', '.join(repr(item[:80]) for item in unknown[:10])}",
                         code="card_not_found")
    requested = set(card_ids)
    return [card for card in ALL_CARDS if card.id in requested], rebuild


@routes.post(f"{PREFIX}/sync", name="sync-start")
async def start_sync(request: web.Request) -> web.Response:
    await require_permission(request, SYNC_PERMISSION)
    cards, rebuild = await _requested_run(request)
    try:
        run_id = await request.app[SYNC_SERVICE].start(Trigger.MANUAL, cards, rebuild=rebuild)
    except SyncBusy as busy:
        raise Conflict(str(busy), code="sync_running") from None
    location = f"{PREFIX}/sync-runs/{run_id}"
    return web.json_response({"runId": run_id, "status": "running", "cards": len(cards), "rebuild": rebuild,
                              "href": location},
                             status=202, headers={"Location": location})


@routes.get(f"{PREFIX}/sync-runs/{{run_id}}", name="sync-run")
async def get_sync_run(request: web.Request) -> web.Response:
    await require_permission(request, READ_PERMISSION)
    run_id = request.match_info["run_id"]
    if not RUN_ID.match(run_id):
        raise BadRequest(f"invalid run id {run_id[:80]!r}; expected 32 lowercase hexadecimal characters")
    # The id was checked against a strict pattern above before it reaches the query.
    record = await request.app[STORAGE].database[SYNC_RUNS].find_one({"runId": run_id}, {"_id": 0})
    if record is None:
        raise NotFound(f"unknown sync run {run_id!r}", code="run_not_found")
    return web.json_response(record)
