"""The Prometheus endpoint and the middleware that measures every HTTP request.

Middleware order: ``metrics_middleware`` must come before (outside) ``error_middleware``,
i.e. ``web.Application(middlewares=[metrics_middleware, error_middleware])``. Then it receives
the JSON error response that ``error_middleware`` builds from an ``ApiError``, an
``HTTPException`` or an unhandled exception, and counts it with its final status.
"""

from __future__ import annotations

import time

from aiohttp import web

from analytics_service.observability.metrics import ServiceMetrics

METRICS = web.AppKey("metrics", ServiceMetrics)

# Route label of requests that matched no resource (404, and 405 from the router).
UNMATCHED_ROUTE = "unmatched"
# Method label of request methods outside the standard set, so clients cannot create
# unbounded label values by sending arbitrary method tokens.
OTHER_METHOD = "other"
_STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

routes = web.RouteTableDef()


def route_label(request: web.Request) -> str:
    """Return the route name, else the canonical resource path, else ``unmatched``, but never the raw path."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED_ROUTE
    return resource.name or resource.canonical


def method_label(request: web.Request) -> str:
    method = request.method.upper()
    return method if method in _STANDARD_METHODS else OTHER_METHOD


@web.middleware
async def metrics_middleware(request: web.Request, handler):
    """Count and time each request by route, method and response status.

    An ``HTTPException`` that reaches this middleware (redirects, which ``error_middleware``
    re-raises) is counted with its own status, and any other exception as 500. A request
    cancelled by shutdown or by a client disconnect is not counted.
    """
    metrics = request.app[METRICS]
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _observe(metrics, request, error.status, started)
        raise
    except Exception:
        _observe(metrics, request, 500, started)
        raise
    _observe(metrics, request, response.status, started)
    return response


def _observe(metrics: ServiceMetrics, request: web.Request, status: int, started: float) -> None:
    metrics.observe_http_request(route_label(request), method_label(request), status, time.perf_counter() - started)


@routes.get("/metrics", name="metrics")
async def serve_metrics(request: web.Request) -> web.Response:
    """Serve the metrics in the Prometheus text format, without authentication like the probes."""
    body, content_type = request.app[METRICS].render()
    # web.Response rejects a charset inside content_type, so the full header is set as is.
    return web.Response(body=body, headers={"Content-Type": content_type})
