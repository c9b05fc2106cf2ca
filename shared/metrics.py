"""Prometheus helpers shared by the services.

Each service builds its own ``CollectorRegistry`` in its lifespan (so tests can
run several apps in one process) and exposes it on ``GET /metrics``. Names use
base units and the ``triage_`` prefix; labels are bounded (route templates,
never raw paths or ids).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.process_collector import ProcessCollector
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Latency buckets for HTTP and pipeline stages: 1 ms .. 30 s.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def new_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return registry


def metrics_response(registry: CollectorRegistry) -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """RED metrics for every HTTP endpoint, labelled by route template."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.requests = Counter(
            "triage_http_requests_total",
            "HTTP requests handled, by route template and status code",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "triage_http_request_duration_seconds",
            "HTTP request duration, by route template",
            ["service", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        # (method, route, status) -> the two labelled children: ``labels()`` costs more
        # than the increment itself on a hot path. Bounded like the labels are.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request; ``method`` already a ``bounded_method`` (the middleware's job)."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(self.service, method, route, str(status)),
                self.duration.labels(self.service, method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


def bounded_method(method: str) -> str:
    """The method as a label: h11 accepts any token as a method, so the rest is "other"."""
    return method if method in _METHODS else "other"


def flat_routes(routes: Sequence[BaseRoute]) -> list[Any]:
    """Every route of an app with its full path.

    Recent FastAPI keeps an included ``APIRouter`` as one entry of the app's routes
    (with no ``path``): its routes, with their full paths, come from
    ``iter_route_contexts``. Older versions copied them into the app's list.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI before included routers stayed whole
        return list(routes)
    return list(iter_route_contexts(routes))


def route_template(routes: Sequence[Any], scope: Scope) -> str:
    """The template of the route ``scope`` goes to: a bounded label, never the raw path.

    A path that matches a route but not its method (405) keeps that route's template.
    """
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "other"))
        if match == Match.PARTIAL and partial is None:
            partial = str(getattr(route, "path", "other"))
    return partial or "unmatched"


class HttpMetricsMiddleware:
    """Records ``HttpMetrics`` for every HTTP request, as a plain ASGI middleware.

    Not ``app.middleware("http")``: Starlette's BaseHTTPMiddleware runs each request
    in an extra task with memory streams and wraps every ``receive`` in a task group,
    which was the largest single cost of ingest's hot path in a profile.

    ``routes`` is the app's route list (``app.router.routes``); Starlette builds its
    middleware at the first request, when every route is declared, and that is when
    they are read. Templates of fixed paths are cached per (method, path); a path with
    parameters is matched again each time, so the cache only holds the fixed routes.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = flat_routes(routes)
        self._templates: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = bounded_method(scope["method"])
            route = self._template(method, scope)
            self.metrics.observe(method, route, status, time.perf_counter() - start)

    def _template(self, method: str, scope: Scope) -> str:
        key = (method, scope["path"])
        template = self._templates.get(key)
        if template is None:
            template = route_template(self.routes, scope)
            if template == scope["path"]:  # a fixed route: bounded, safe to keep
                self._templates[key] = template
        return template


class ConsumerMetrics:
    """RED metrics and lag for one consumer group."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.messages = Counter(
            "triage_consumer_messages_total",
            "Messages consumed, by outcome (ok, duplicate, deadletter, error)",
            ["service", "topic", "outcome"],
            registry=registry,
        )
        self.batch_duration = Histogram(
            "triage_consumer_batch_duration_seconds",
            "Time to process one consumed batch, commit included",
            ["service", "topic"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "triage_consumer_batch_size",
            "Messages per consumed batch",
            ["service", "topic"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=registry,
        )
        self.lag = Gauge(
            "triage_consumer_lag_messages",
            "Fetch highwater minus committed offset, per partition",
            ["service", "group", "topic", "partition"],
            registry=registry,
        )
        self.transient = Counter(
            "triage_consumer_infrastructure_failures_total",
            "Batches retried because the broker or database was unusable, by cause",
            ["service", "cause"],
            registry=registry,
        )
        self.deadlettered = Counter(
            "triage_deadlettered_total",
            "Messages sent to the dead-letter topic, by stage and reason",
            ["service", "reason"],
            registry=registry,
        )
