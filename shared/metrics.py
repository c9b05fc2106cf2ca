"""Prometheus helpers shared by the services.

Each service builds its own ``CollectorRegistry`` in its lifespan (so tests can
run several apps in one process) and exposes it on ``GET /metrics``. Names use
base units and the ``triage_`` prefix; labels are bounded (route templates,
never raw paths or ids).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.process_collector import ProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

# Latency buckets for HTTP and pipeline stages: 1 ms .. 30 s.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip


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

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = _route_template(request)
            self.requests.labels(self.service, request.method, route, str(status)).inc()
            self.duration.labels(self.service, request.method, route).observe(
                time.perf_counter() - start
            )


def _route_template(request: Request) -> str:
    for route in request.app.routes:
        match, _ = route.matches(request.scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "other"))
    return "unmatched"


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
        self.deadlettered = Counter(
            "triage_deadlettered_total",
            "Messages sent to the dead-letter topic, by stage and reason",
            ["service", "reason"],
            registry=registry,
        )
