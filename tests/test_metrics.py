"""Tests of the Prometheus metrics: the HTTP middleware, the /metrics route and observe_run."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from analytics_service.api.errors import NotFound, error_middleware
from analytics_service.api.metrics import METRICS, metrics_middleware, routes
from analytics_service.observability import ServiceMetrics
from analytics_service.sync.runner import CardOutcome, RunStatus, SyncResult

KPI_CARD = "usersTotalRegistered"
CHART_CARD = "usersRegistrationsOverTime"
RANKED_CARD = "overviewHeadlinesMostViewed"


async def hello(request: web.Request) -> web.Response:
    return web.json_response({"hello": "world"})


async def item(request: web.Request) -> web.Response:
    item_id = request.match_info["item_id"]
    if item_id == "missing":
        raise NotFound(f"item {item_id} not found")
    if item_id == "gone":
        raise web.HTTPGone()
    if item_id == "moved":
        raise web.HTTPFound("/hello")
    return web.json_response({"id": item_id})


async def broken(request: web.Request) -> web.Response:
    raise RuntimeError("handler bug")


def build_app(metrics: ServiceMetrics) -> web.Application:
    app = web.Application(middlewares=[metrics_middleware, error_middleware])
    app[METRICS] = metrics
    app.router.add_get("/hello", hello, name="hello")
    app.router.add_get("/items/{item_id}", item)
    app.router.add_get("/broken", broken)
    app.add_routes(routes)
    return app


@pytest.fixture
def metrics() -> ServiceMetrics:
    return ServiceMetrics()


@pytest.fixture
async def client(aiohttp_client, metrics):
    return await aiohttp_client(build_app(metrics))


def http_count(metrics: ServiceMetrics, route: str, method: str, status: int) -> float | None:
    labels = {"route": route, "method": method, "status": str(status)}
    return metrics.registry.get_sample_value("analytics_http_requests_total", labels)


def http_duration_count(metrics: ServiceMetrics, route: str) -> float | None:
    return metrics.registry.get_sample_value("analytics_http_request_duration_seconds_count", {"route": route})


async def test_metrics_route_serves_text_format(client):
    response = await client.get("/metrics")

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    body = await response.text()
    assert "# TYPE analytics_sync_runs_total counter" in body
    assert "# TYPE analytics_http_request_duration_seconds histogram" in body


async def test_named_route_counts_200(client, metrics):
    for _ in range(2):
        response = await client.get("/hello")
        assert response.status == 200

    assert http_count(metrics, "hello", "GET", 200) == 2
    assert http_duration_count(metrics, "hello") == 2


async def test_unnamed_route_uses_canonical_path(client, metrics):
    await client.get("/items/1")
    await client.get("/items/2")

    assert http_count(metrics, "/items/{item_id}", "GET", 200) == 2
    assert http_count(metrics, "/items/1", "GET", 200) is None


async def test_unknown_path_is_unmatched_404(client, metrics):
    response = await client.get("/no/such/path")

    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    assert http_count(metrics, "unmatched", "GET", 404) == 1
    assert http_duration_count(metrics, "unmatched") == 1


async def test_wrong_method_is_unmatched_405(client, metrics):
    response = await client.post("/hello")

    assert response.status == 405
    assert http_count(metrics, "unmatched", "POST", 405) == 1


async def test_api_error_counted_with_status(client, metrics):
    response = await client.get("/items/missing")

    assert response.status == 404
    assert http_count(metrics, "/items/{item_id}", "GET", 404) == 1


async def test_http_exception_counted_with_status(client, metrics):
    response = await client.get("/items/gone")

    assert response.status == 410
    assert http_count(metrics, "/items/{item_id}", "GET", 410) == 1


async def test_redirect_counted_with_status(client, metrics):
    response = await client.get("/items/moved", allow_redirects=False)

    assert response.status == 302
    assert http_count(metrics, "/items/{item_id}", "GET", 302) == 1


async def test_handler_exception_counted_as_500(client, metrics):
    response = await client.get("/broken")

    assert response.status == 500
    assert (await response.json())["error"]["code"] == "internal_error"
    assert http_count(metrics, "/broken", "GET", 500) == 1


async def test_unknown_method_label_is_other(client, metrics):
    response = await client.request("PURGE", "/hello")

    assert response.status == 405
    assert http_count(metrics, "unmatched", "other", 405) == 1


async def test_metrics_route_shows_http_samples(client):
    await client.get("/hello")

    body = await (await client.get("/metrics")).text()

    assert 'analytics_http_requests_total{method="GET",route="hello",status="200"} 1.0' in body


def provider_report(requests: int, retries: int, failures: int, remaining: int) -> dict:
    return {
        "selected": "ga4",
        "requests": requests,
        "retries": retries,
        "quota": {"tokensPerHour": {"consumed": 60, "remaining": remaining}},
        "failures": [{"question": f"question {index}", "error": "timed out"} for index in range(failures)],
    }


def succeeded_result() -> SyncResult:
    outcomes = [
        CardOutcome(KPI_CARD, "refreshed", card_status="ok", duration_ms=12.0),
        CardOutcome(CHART_CARD, "refreshed", card_status="ok", duration_ms=30.0),
    ]
    return SyncResult("run-1", RunStatus.SUCCEEDED, outcomes, {"roundTrips": 3}, provider_report(5, 1, 0, 39940))


def partial_result() -> SyncResult:
    outcomes = [
        CardOutcome(KPI_CARD, "refreshed", card_status="ok", duration_ms=8.0),
        CardOutcome(CHART_CARD, "failed", error="ValueError: bad data", duration_ms=4.0),
        # Failed while planning, so never timed.
        CardOutcome(RANKED_CARD, "failed", error="KeyError: 'x'"),
    ]
    return SyncResult("run-2", RunStatus.PARTIAL, outcomes, {"roundTrips": 3}, provider_report(3, 2, 2, 39000))


def sample(metrics: ServiceMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_observe_succeeded_run(metrics):
    metrics.observe_run(succeeded_result(), duration_s=2.5, finished_at_unix=1_800_000_000.0)

    assert sample(metrics, "analytics_sync_runs_total", status="succeeded") == 1
    assert sample(metrics, "analytics_sync_runs_total", status="partial") == 0
    assert sample(metrics, "analytics_sync_run_duration_seconds_count") == 1
    assert sample(metrics, "analytics_sync_run_duration_seconds_sum") == 2.5
    assert sample(metrics, "analytics_card_duration_seconds_count", kind="kpi") == 1
    assert sample(metrics, "analytics_card_duration_seconds_sum", kind="kpi") == pytest.approx(0.012)
    assert sample(metrics, "analytics_card_duration_seconds_sum", kind="chart") == pytest.approx(0.030)
    assert sample(metrics, "analytics_card_failures_total", kind="kpi") == 0
    assert sample(metrics, "analytics_last_success_timestamp_seconds", kind="kpi") == 1_800_000_000.0
    assert sample(metrics, "analytics_last_success_timestamp_seconds", kind="chart") == 1_800_000_000.0
    assert sample(metrics, "analytics_last_success_timestamp_seconds", kind="rankedList") is None
    assert sample(metrics, "analytics_provider_requests_total", provider="ga4") == 5
    assert sample(metrics, "analytics_provider_retries_total", provider="ga4") == 1
    assert sample(metrics, "analytics_provider_errors_total", provider="ga4") == 0
    assert sample(metrics, "analytics_provider_quota_remaining", provider="ga4", quota="tokensPerHour") == 39940


def test_observe_partial_after_succeeded(metrics):
    metrics.observe_run(succeeded_result(), duration_s=2.5, finished_at_unix=1_800_000_000.0)
    metrics.observe_run(partial_result(), duration_s=1.5, finished_at_unix=1_800_000_900.0)

    assert sample(metrics, "analytics_sync_runs_total", status="succeeded") == 1
    assert sample(metrics, "analytics_sync_runs_total", status="partial") == 1
    assert sample(metrics, "analytics_sync_run_duration_seconds_count") == 2
    assert sample(metrics, "analytics_card_failures_total", kind="kpi") == 0
    assert sample(metrics, "analytics_card_failures_total", kind="chart") == 1
    assert sample(metrics, "analytics_card_failures_total", kind="rankedList") == 1
    # The untimed ranked-list failure adds no observation.
    assert sample(metrics, "analytics_card_duration_seconds_count", kind="rankedList") is None
    assert sample(metrics, "analytics_card_duration_seconds_count", kind="chart") == 2
    assert sample(metrics, "analytics_last_success_timestamp_seconds", kind="kpi") == 1_800_000_900.0
    # The chart card failed, so its kind keeps the time of the first run.
    assert sample(metrics, "analytics_last_success_timestamp_seconds", kind="chart") == 1_800_000_000.0
    assert sample(metrics, "analytics_provider_requests_total", provider="ga4") == 8
    assert sample(metrics, "analytics_provider_retries_total", provider="ga4") == 3
    assert sample(metrics, "analytics_provider_errors_total", provider="ga4") == 2
    assert sample(metrics, "analytics_provider_quota_remaining", provider="ga4", quota="tokensPerHour") == 39000


def test_observe_run_without_provider(metrics):
    result = SyncResult("run-3", RunStatus.SUCCEEDED, [CardOutcome(KPI_CARD, "refreshed", duration_ms=1.0)],
                        {}, {"selected": None, "reason": "no provider configured"})

    metrics.observe_run(result, duration_s=0.5, finished_at_unix=1_800_000_000.0)

    body, _ = metrics.render()
    assert b"analytics_provider_requests_total{" not in body
    assert b"analytics_provider_quota_remaining{" not in body


def test_card_outside_catalogue_is_unknown_kind(metrics):
    result = SyncResult("run-4", RunStatus.FAILED, [CardOutcome("notACard", "failed", duration_ms=2.0)])

    metrics.observe_run(result, duration_s=0.1, finished_at_unix=1_800_000_000.0)

    assert sample(metrics, "analytics_card_failures_total", kind="unknown") == 1


def test_observe_cancelled_run(metrics):
    metrics.observe_cancelled_run()

    assert sample(metrics, "analytics_sync_runs_total", status="cancelled") == 1
    assert sample(metrics, "analytics_sync_run_duration_seconds_count") == 0


async def test_track_run_records_result(metrics):
    async def run() -> SyncResult:
        return succeeded_result()

    result = await metrics.track_run(run())

    assert result.run_id == "run-1"
    assert sample(metrics, "analytics_sync_runs_total", status="succeeded") == 1
    assert sample(metrics, "analytics_sync_run_duration_seconds_count") == 1
    assert sample(metrics, "analytics_last_success_timestamp_seconds", kind="kpi") > 0


async def test_track_run_records_cancellation(metrics):
    started = asyncio.Event()

    async def run() -> SyncResult:
        started.set()
        await asyncio.sleep(60)
        return succeeded_result()

    task = asyncio.create_task(metrics.track_run(run()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert sample(metrics, "analytics_sync_runs_total", status="cancelled") == 1
    assert sample(metrics, "analytics_sync_runs_total", status="failed") == 0


async def test_track_run_records_exception_as_failed(metrics):
    async def run() -> SyncResult:
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        await metrics.track_run(run())

    assert sample(metrics, "analytics_sync_runs_total", status="failed") == 1
    assert sample(metrics, "analytics_sync_run_duration_seconds_count") == 1


def test_two_instances_do_not_collide():
    first = ServiceMetrics()
    second = ServiceMetrics()

    first.observe_cancelled_run()

    assert sample(first, "analytics_sync_runs_total", status="cancelled") == 1
    assert sample(second, "analytics_sync_runs_total", status="cancelled") == 0


async def test_two_apps_count_separately(aiohttp_client):
    first_metrics, second_metrics = ServiceMetrics(), ServiceMetrics()
    first = await aiohttp_client(build_app(first_metrics))
    await aiohttp_client(build_app(second_metrics))

    await first.get("/hello")

    assert http_count(first_metrics, "hello", "GET", 200) == 1
    assert http_count(second_metrics, "hello", "GET", 200) is None
