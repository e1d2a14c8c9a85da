"""JSON responses rendered once per snapshot, with ETag revalidation and gzip.

A dashboard polls the same cards again and again between runs. Each distinct response
(route, language, frame, staleness) is serialised and compressed once per snapshot of
the cards; a client that sends the ETag back with ``If-None-Match`` gets 304 and no body.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from analytics_service.api.card_cache import MAX_RENDERED, Snapshot

# Bodies below this size gain too little from compression to pay for the header.
GZIP_MIN_BYTES = 1024
# The responses are per user (bearer tokens), so shared caches must not store them, and
# clients revalidate with the ETag each time.
CACHE_CONTROL = "private, no-cache"
VARY = "Accept-Encoding, Accept-Language, Authorization"
# Maximum number of Accept-Encoding values whose gzip decision is cached.
ACCEPT_ENCODING_CACHE_SIZE = 64


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _gzip_etag(etag: str) -> str:
    return etag[:-1] + '-gzip"'


def _matches(if_none_match: str | None, etags: tuple[str, ...]) -> bool:
    if not if_none_match:
        return False
    candidates = {item.strip().removeprefix("W/") for item in if_none_match.split(",")}
    return "*" in candidates or any(etag in candidates for etag in etags)


@functools.lru_cache(maxsize=ACCEPT_ENCODING_CACHE_SIZE)
def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        coding, _, parameters = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return parameters.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def cached_json(request: web.Request, snapshot: Snapshot, key: tuple, build: Callable[[], Any]) -> web.Response:
    """Return a response with the JSON that ``build`` returns, rendered once per snapshot and key while the cache has room."""
    entry = snapshot.rendered.get(key)
    if entry is None:
        body = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
        compressed = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
        entry = (body, _etag(body), compressed)
        if len(snapshot.rendered) < MAX_RENDERED:
            snapshot.rendered[key] = entry
    body, etag, compressed = entry

    use_gzip = compressed is not None and _accepts_gzip(request.headers.get("Accept-Encoding", ""))
    gzip_etag = _gzip_etag(etag)
    headers = {"Cache-Control": CACHE_CONTROL, "Vary": VARY, "ETag": gzip_etag if use_gzip else etag}
    if _matches(request.headers.get("If-None-Match"), (etag, gzip_etag)):
        return web.Response(status=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=compressed, content_type="application/json", headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)
