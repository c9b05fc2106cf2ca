"""``/healthz``, ``/readyz`` and ``/metrics``: the same answers in every service.

A service supplies only its readiness check: an async callable returning why it
is not ready, or None. Kubernetes probes and the local stack rely on these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.errors import ErrorBody, Unavailable
from shared.metrics import metrics_response

Readiness = Callable[[], Awaitable[str | None]]
RETRY_AFTER = {"Retry-After": "5"}  # a probe asks again soon; no need to tune it per service


class Probes:
    def __init__(self, registry: CollectorRegistry, not_ready: Readiness) -> None:
        self.registry = registry
        self.not_ready = not_ready

    async def healthz(self, _: Request) -> Response:
        """Alive: the process answers (nothing else is checked)."""
        return JSONResponse({"status": "ok"})

    async def readyz(self, _: Request) -> Response:
        """Ready to serve; else 503 with the reason and Retry-After."""
        problem = await self.not_ready()
        if problem is None:
            return JSONResponse({"status": "ready"})
        return Unavailable(problem, code="not_ready", headers=RETRY_AFTER).response()

    async def metrics(self, _: Request) -> Response:
        return metrics_response(self.registry)

    def routes(self) -> list[Route]:
        """For a Starlette app (its OpenAPI document lists the probes itself)."""
        return [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"], include_in_schema=False),
        ]

    def install(self, app: FastAPI) -> None:
        """For a FastAPI app: the same handlers, documented under the ``ops`` tag."""
        ready = {503: {"model": ErrorBody, "description": "not ready; the message says why"}}
        app.add_api_route("/healthz", self.healthz, methods=["GET"], tags=["ops"], summary="alive")
        app.add_api_route(
            "/readyz", self.readyz, methods=["GET"], tags=["ops"], summary="ready",
            responses=ready,  # type: ignore[arg-type]
        )  # fmt: skip
        app.add_api_route("/metrics", self.metrics, methods=["GET"], include_in_schema=False)
