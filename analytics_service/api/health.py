"""Probe endpoints; no authentication, so load balancers and orchestrators can call them."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from analytics_service.api.keys import INDEXES_READY, REBUILD_SCHEDULER, SCHEDULER, STORAGE

logger = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 2.0

routes = web.RouteTableDef()


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz", name="readyz")
async def readyz(request: web.Request) -> web.Response:
    checks = {"database": "ok", "indexes": "ok", "scheduler": "ok"}
    try:
        await asyncio.wait_for(request.app[STORAGE].ping(), PING_TIMEOUT_SECONDS)
    except TimeoutError:
        checks["database"] = f"failed: the database did not answer a ping within {PING_TIMEOUT_SECONDS:g} s"
    except Exception as error:  # any failure means "not ready", reported with its cause
        checks["database"] = f"failed: {type(error).__name__}: {error}"[:300]
    indexes_ready = request.app.get(INDEXES_READY)
    if indexes_ready is None or not indexes_ready.is_set():
        checks["indexes"] = "failed: the service's indexes are not created yet"
    schedulers = [request.app.get(SCHEDULER), request.app.get(REBUILD_SCHEDULER)]
    if any(scheduler is None or not scheduler.running for scheduler in schedulers):
        checks["scheduler"] = "failed: the scheduler is not running"
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        failed = ", ".join(name for name, value in checks.items() if value != "ok")
        return web.json_response({"status": "unavailable", "failed": failed, "checks": checks}, status=503)
    return web.json_response({"status": "ready", "checks": checks})
