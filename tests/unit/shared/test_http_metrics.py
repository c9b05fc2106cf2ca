"""The shared HTTP metrics middleware: route templates as labels, never raw paths."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from shared.metrics import HttpMetrics, HttpMetricsMiddleware, bounded_method


def _app() -> tuple[FastAPI, CollectorRegistry]:
    registry = CollectorRegistry()
    app = FastAPI()
    api = APIRouter(prefix="/v1")

    @api.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @api.post("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(api)  # recent FastAPI keeps it as one entry of app.router.routes
    app.add_middleware(
        HttpMetricsMiddleware, metrics=HttpMetrics(registry, "test"), routes=app.router.routes
    )
    return app, registry


def _count(registry: CollectorRegistry, method: str, route: str, status: str) -> float:
    labels = {"service": "test", "method": method, "route": route, "status": status}
    return registry.get_sample_value("triage_http_requests_total", labels) or 0.0


def test_requests_are_labelled_by_route_template() -> None:
    app, registry = _app()
    client = TestClient(app, raise_server_exceptions=False)
    for _ in range(3):
        assert client.get(f"/v1/items/{uuid.uuid4()}").status_code == 200
    client.get("/healthz")
    client.get("/nowhere/at/all")
    client.delete("/healthz")
    client.post("/v1/boom")
    assert _count(registry, "GET", "/v1/items/{item_id}", "200") == 3
    assert _count(registry, "GET", "/healthz", "200") == 1
    assert _count(registry, "GET", "unmatched", "404") == 1
    assert _count(registry, "DELETE", "/healthz", "405") == 1  # the path's route, not a 404
    assert _count(registry, "POST", "/v1/boom", "500") == 1  # raised: counted as a 500
    duration = registry.get_sample_value(
        "triage_http_request_duration_seconds_count",
        {"service": "test", "method": "GET", "route": "/v1/items/{item_id}"},
    )
    assert duration == 3


def test_no_label_or_cache_entry_per_id() -> None:
    app, registry = _app()
    client = TestClient(app)
    for _ in range(50):
        client.get(f"/v1/items/{uuid.uuid4()}")
    routes = {
        s.labels["route"]
        for metric in registry.collect()
        for s in metric.samples
        if "route" in s.labels
    }
    assert routes == {"/v1/items/{item_id}"}
    middleware = app.middleware_stack
    while not isinstance(middleware, HttpMetricsMiddleware):
        middleware = middleware.app  # type: ignore[union-attr]
    assert middleware._templates == {}  # parameterised paths are never cached


def test_methods_outside_http_are_one_label() -> None:
    assert bounded_method("GET") == "GET"
    assert bounded_method("BREW") == "other"
