"""HTTP RED metrics for ingest as a plain ASGI middleware.

``app.middleware("http")`` (Starlette's BaseHTTPMiddleware) runs every request
in an extra task with memory streams and wraps each ``receive`` in a task group;
on ingest's hot path that was the largest single cost in a profile of the
benchmark. This records the same ``triage_http_*`` series (``HttpMetrics``)
without any of it.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics import HttpMetrics


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics, routes: list[Any]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes  # the app's own (live) list of routes
        self._templates: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method, route = scope["method"], self._template(scope)
            self.metrics.requests.labels(self.metrics.service, method, route, str(status)).inc()
            self.metrics.duration.labels(self.metrics.service, method, route).observe(
                time.perf_counter() - start
            )

    def _template(self, scope: Scope) -> str:
        """The route template (bounded label), cached per (method, path) of known routes."""
        key = (scope["method"], scope["path"])
        cached = self._templates.get(key)
        if cached is not None:
            return cached
        template = "unmatched"
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                template = str(getattr(route, "path", "other"))
                break
        if template != "unmatched" and "{" not in template:
            self._templates[key] = template  # only fixed paths: the cache stays bounded
        return template
