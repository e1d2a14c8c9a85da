"""Read API of the cards and of the sync runs; every route needs ``analytics.read``."""

from __future__ import annotations

import functools

from aiohttp import web

from analytics_service.api.auth import READ_PERMISSION, require_permission
from analytics_service.api.errors import NotFound
from analytics_service.api.keys import CARD_CACHE, SETTINGS, STORAGE
from analytics_service.api.params import choose_language, parse_limit, parse_time_frame, reject_unknown
from analytics_service.api.render import render_card
from analytics_service.api.responses import cached_json
from analytics_service.catalogue import CARDS_BY_ID, CardKind, cards_of_kind
from analytics_service.clock import utc_now
from analytics_service.storage import runs

PREFIX = "/api/v1/analytics"
KIND_PATHS = {CardKind.KPI: "kpis", CardKind.CHART: "charts", CardKind.RANKED_LIST: "ranked-lists"}
CARD_PARAMETERS = {"timeFrame", "lang"}
# Maximum number of (lang, Accept-Language) pairs whose chosen language is cached.
LANGUAGE_CACHE_SIZE = 256

# The catalogue is fixed at import, so each kind's cards and card ids are listed once
# instead of on every request.
_CARDS_OF_KIND = {kind: cards_of_kind(kind) for kind in CardKind}
_CARD_IDS_OF_KIND = {kind: [card.id for card in cards] for kind, cards in _CARDS_OF_KIND.items()}

routes = web.RouteTableDef()


@functools.lru_cache(maxsize=LANGUAGE_CACHE_SIZE)
def _language(lang: str | None, accept_language: str | None) -> str:
    """Return ``choose_language(lang, accept_language)``. BadRequest is raised again on every call, not cached."""
    return choose_language(lang, accept_language)


async def _list_cards(request: web.Request, kind: CardKind) -> web.Response:
    await require_permission(request, READ_PERMISSION)
    reject_unknown(request.query, CARD_PARAMETERS)
    frame = parse_time_frame(request.query.get("timeFrame"), kind)
    language = _language(request.query.get("lang"), request.headers.get("Accept-Language"))
    snapshot = await request.app[CARD_CACHE].current()
    stored = snapshot.cards[kind]
    now, stale_after = utc_now(), request.app[SETTINGS].stale_threshold_seconds
    cards = _CARDS_OF_KIND[kind]
    key = ("list", kind, frame, language, snapshot.stale_flags(_CARD_IDS_OF_KIND[kind], now, stale_after))

    def build() -> dict:
        return {"kind": str(kind),
                "cards": [render_card(card, stored.get(card.id), language, frame, now, stale_after) for card in cards]}

    return cached_json(request, snapshot, key, build)


async def _one_card(request: web.Request, kind: CardKind) -> web.Response:
    await require_permission(request, READ_PERMISSION)
    card_id = request.match_info["card_id"]
    card = CARDS_BY_ID.get(card_id)
    if card is None:
        raise NotFound(f"unknown card {card_id!r}", code="card_not_found")
    if card.kind is not kind:
        raise NotFound(
            f"card {card_id!r} is a {card.kind} card; request {PREFIX}/{KIND_PATHS[card.kind]}/{card_id}",
            code="card_not_found",
        )
    reject_unknown(request.query, CARD_PARAMETERS)
    frame = parse_time_frame(request.query.get("timeFrame"), kind)
    language = _language(request.query.get("lang"), request.headers.get("Accept-Language"))
    snapshot = await request.app[CARD_CACHE].current()
    document = snapshot.cards[kind].get(card.id)
    now, stale_after = utc_now(), request.app[SETTINGS].stale_threshold_seconds
    key = ("one", card.id, frame, language, snapshot.stale_flags([card.id], now, stale_after))
    return cached_json(request, snapshot, key,
                       lambda: render_card(card, document, language, frame, now, stale_after))


def _register_kind(kind: CardKind) -> None:
    path = f"{PREFIX}/{KIND_PATHS[kind]}"

    async def list_handler(request: web.Request) -> web.Response:
        return await _list_cards(request, kind)

    async def one_handler(request: web.Request) -> web.Response:
        return await _one_card(request, kind)

    routes.get(path, name=f"{kind}-list")(list_handler)
    routes.get(path + "/{card_id}", name=f"{kind}-one")(one_handler)


for _kind in CardKind:
    _register_kind(_kind)


@routes.get(f"{PREFIX}/sync-runs", name="sync-runs")
async def list_sync_runs(request: web.Request) -> web.Response:
    await require_permission(request, READ_PERMISSION)
    reject_unknown(request.query, {"limit"})
    limit = parse_limit(request.query.get("limit"))
    records = await runs.list_runs(request.app[STORAGE].database, limit)
    return web.json_response({"runs": records})
