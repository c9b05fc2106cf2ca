"""Ingest HTTP API: validate, publish to Kafka, answer 202 after the broker's ack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter

from services.ingest.fastpath import SubmitFastPath
from services.ingest.health import BrokerHealth, broker_problem, watch_broker
from services.ingest.intake import Ingest, accepted_body
from services.ingest.publisher import Publisher
from services.ingest.schemas import Accepted, BatchIn, BatchOut, ErrorOut, IntakeRequest, ItemResult
from services.ingest.settings import IngestSettings
from shared.http import ApiError, install_error_handlers
from shared.kafka import ensure_topics, make_broker
from shared.metrics import HttpMetrics, HttpMetricsMiddleware, metrics_response, new_registry

log = logging.getLogger(__name__)

_ERRORS = {
    400: {"model": ErrorOut, "description": "malformed JSON or invalid UTF-8"},
    401: {"model": ErrorOut, "description": "missing or wrong API key"},
    403: {"model": ErrorOut, "description": "the key belongs to another source"},
    413: {"model": ErrorOut, "description": "text or body too large"},
    422: {"model": ErrorOut, "description": "a field is missing, unknown or invalid"},
    503: {"model": ErrorOut, "description": "broker unavailable; retry after Retry-After"},
}


_COMPONENTS = "#/components/schemas/{model}"


def _json_body(model: type) -> dict[str, object]:
    """The request body of a route that reads its JSON itself (to answer 400/413/422 its way).

    The schema refers to ``components/schemas`` (added by ``_with_body_models``): pydantic's
    default ``#/$defs/...`` references would point at the root of the OpenAPI document,
    where nothing is, and break generated clients and contract testers.
    """
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _COMPONENTS.format(model=model.__name__)}}
            },
        }
    }


def _with_body_models(app: FastAPI, models: tuple[type, ...]) -> None:
    """Publish ``models`` (and the models they use) in the OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate().setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template=_COMPONENTS)  # type: ignore[attr-defined]
                for name, definition in schema.pop("$defs", {}).items():
                    schemas.setdefault(name, definition)
                schemas.setdefault(model.__name__, schema)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


async def _connect(broker: KafkaBroker, health: BrokerHealth, settings: IngestSettings) -> None:
    """Connect in the background so the service starts (not ready) while Kafka is away,
    then watch the broker for readiness."""
    delay = 0.5
    while True:
        try:
            await ensure_topics(settings, [settings.topic_received])
            await broker.start()
            break
        except Exception as exc:
            log.warning("broker not reachable (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
    log.info("connected to the broker at %s", settings.kafka_bootstrap)
    health.answered(time.monotonic())
    health.connected = True
    await watch_broker(broker.ping, health)


def create_app(settings: IngestSettings) -> FastAPI:
    registry = new_registry()
    outcomes = Counter(
        "triage_ingest_requests_total",
        "Intake requests by outcome (accepted, validation_failed, unauthorized, ...)",
        ["outcome"],
        registry=registry,
    )
    broker = make_broker(settings, graceful_timeout=settings.graceful_timeout_s)
    health = BrokerHealth()
    publisher = Publisher(
        broker, settings.topic_received, settings.ingest_publish_timeout_s, registry, health
    )
    ingest = Ingest(settings, publisher, outcomes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        connecting = asyncio.create_task(_connect(broker, health, settings))
        yield
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting
        health.connected = False
        await broker.stop()  # flushes what is in flight
        log.info("ingest stopped")

    app = FastAPI(
        title="Triage ingest API",
        version="1.0.0",
        description="Intake systems hand requests to Triage here. A 202 means the request "
        "is durably on the broker; the same (source, external_id) always gives the same id.",
        lifespan=lifespan,
        # Metrics are Prometheus (HttpMetricsMiddleware); FastAPI's OpenTelemetry hooks
        # would look up the (unconfigured) providers on every request of the hot path.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ingest = ingest
    # The last added runs first: metrics see every request, the fast path included.
    app.add_middleware(SubmitFastPath, ingest=ingest)
    app.add_middleware(
        HttpMetricsMiddleware, metrics=HttpMetrics(registry, "ingest"), routes=app.router.routes
    )
    install_error_handlers(app)
    _routes(app, ingest, registry, health)
    _with_body_models(app, (IntakeRequest, BatchIn))
    return app


def _routes(
    app: FastAPI, ingest: Ingest, registry: CollectorRegistry, health: BrokerHealth
) -> None:
    @app.post(
        "/v1/requests",
        status_code=202,
        response_model=Accepted,
        responses=_ERRORS,  # type: ignore[arg-type]
        openapi_extra=_json_body(IntakeRequest),
        summary="Submit one request",
    )
    async def submit(request: Request) -> Response:
        # Served by SubmitFastPath in the service; the same steps, for the OpenAPI
        # document and for the app mounted without that middleware.
        source, raw = await _caller_and_body(ingest, request)
        request_id = await ingest.accept(ingest.parse_one(raw, source))
        return Response(accepted_body(request_id), 202, media_type="application/json")

    async def submit_batch(request: Request) -> JSONResponse:
        source, raw = await _caller_and_body(ingest, request)
        items = _batch_items(ingest.parse_json(raw), ingest.settings.ingest_max_batch)
        results = await _accept_batch(ingest, items, source)
        accepted = sum(1 for r in results if r.status == 202)
        out = BatchOut(accepted=accepted, rejected=len(results) - accepted, results=results)
        if accepted == 0 and any(r.status == 503 for r in results):
            return JSONResponse(out.model_dump(), 503, headers=ingest.retry_after)
        return JSONResponse(out.model_dump(exclude_none=True), 200)

    batch_doc = {
        "response_model": BatchOut,
        "responses": _ERRORS,
        "openapi_extra": _json_body(BatchIn),
        "summary": "Submit up to max_batch requests; one result per item",
    }
    app.post("/v1/requests:batch", **batch_doc)(submit_batch)  # type: ignore[arg-type]
    app.post("/v1/requests/batch", include_in_schema=False)(submit_batch)

    @app.get("/healthz", summary="alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="ready: the broker answers",
        responses={503: {"model": ErrorOut, "description": "the broker does not answer"}},
    )
    async def readyz() -> JSONResponse:
        problem = broker_problem(health, time.monotonic())
        if problem is None:
            return JSONResponse({"status": "ready"})
        body = {"error": "not_ready", "message": problem, "details": []}
        return JSONResponse(body, 503, headers={"Retry-After": "5"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response(registry)


async def _caller_and_body(ingest: Ingest, request: Request) -> tuple[str, bytes]:
    """The calling source, then its body within the size limit."""
    source = ingest.authenticate(request.headers.get("authorization"))
    ingest.check_declared_length(request.headers.get("content-length"))
    raw = await request.body()
    ingest.check_size(raw)
    return source, raw


def _batch_items(data: object, max_batch: int) -> list[object]:
    if (
        not isinstance(data, dict)
        or set(data) != {"requests"}
        or not isinstance(data["requests"], list)
    ):
        raise ApiError(
            422,
            "validation_failed",
            'expected an object {"requests": [ ... ]}',
            [{"field": "requests", "problem": "required list of requests"}],
        )
    items: list[object] = data["requests"]
    if not items:
        raise ApiError(
            422,
            "validation_failed",
            "requests is empty",
            [{"field": "requests", "problem": "must hold at least one request"}],
        )
    if len(items) > max_batch:
        raise ApiError(
            413, "too_large", f"at most {max_batch} requests per batch ({len(items)} sent)"
        )
    return items


async def _accept_batch(ingest: Ingest, items: list[object], source: str) -> list[ItemResult]:
    results: list[ItemResult | None] = [None] * len(items)
    valid: list[tuple[int, IntakeRequest]] = []
    for i, data in enumerate(items):
        try:
            valid.append((i, ingest.validate(data, source)))
        except ApiError as exc:
            results[i] = ItemResult(index=i, status=exc.status, error=ErrorOut(**exc.body()))
    outcomes = await asyncio.gather(
        *(ingest.accept(item) for _, item in valid), return_exceptions=True
    )
    for (i, _), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, ApiError):
            results[i] = ItemResult(
                index=i, status=outcome.status, error=ErrorOut(**outcome.body())
            )
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            results[i] = ItemResult(index=i, status=202, request_id=outcome)
    return [r for r in results if r is not None]
