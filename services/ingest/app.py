"""Ingest HTTP API: validate, publish to Kafka, answer 202 after the broker's ack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import Counter
from pydantic import ValidationError

from services.ingest.asgi_metrics import MetricsMiddleware
from services.ingest.publisher import BrokerUnavailable, Publisher
from services.ingest.schemas import Accepted, BatchIn, BatchOut, ErrorOut, IntakeRequest, ItemResult
from services.ingest.settings import IngestSettings
from shared import auth
from shared.events import RequestReceived, request_id_for
from shared.http import ApiError, install_error_handlers, validation_error
from shared.kafka import ensure_topics, make_broker
from shared.metrics import HttpMetrics, metrics_response, new_registry

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


class Ingest:
    """The request-handling logic, independent of routing."""

    def __init__(self, settings: IngestSettings, publisher: Publisher, outcomes: Counter) -> None:
        self.settings = settings
        self.publisher = publisher
        self.outcomes = outcomes

    def authenticate(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise self._refuse(
                401, "unauthorized", "send the source's API key as 'Authorization: Bearer <key>'"
            )
        source = auth.find_owner(key.strip(), self.settings.ingest_api_keys)
        if source is None:
            raise self._refuse(401, "unauthorized", "unknown API key")
        return source

    def _refuse(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> ApiError:
        self.outcomes.labels(code).inc()
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return ApiError(status, code, message, details, headers)

    async def read_json(self, request: Request) -> object:
        length = request.headers.get("content-length")
        limit = self.settings.ingest_max_request_bytes
        if length and length.isdigit() and int(length) > limit:
            raise self._refuse(413, "too_large", f"HTTP body over {limit} bytes")
        raw = await request.body()
        if len(raw) > limit:
            raise self._refuse(413, "too_large", f"HTTP body over {limit} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._refuse(
                400, "invalid_utf8", f"body is not valid UTF-8 (byte {exc.start})"
            ) from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise self._refuse(
                400,
                "malformed_json",
                f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            ) from exc
        except RecursionError as exc:  # e.g. [[[[...]]]] 100,000 deep: a 400, not a 500
            raise self._refuse(400, "malformed_json", "body is nested too deeply") from exc

    def validate(self, data: object, source: str) -> IntakeRequest:
        if not isinstance(data, dict):
            raise self._refuse(422, "validation_failed", "the request must be a JSON object")
        try:
            item = _validate(data)
        except ValidationError as exc:
            self.outcomes.labels("validation_failed").inc()
            raise validation_error(exc) from exc
        limit = self.settings.ingest_max_text_chars
        if item.text_chars() > limit:
            raise self._refuse(
                413,
                "too_large",
                f"subject + body + attachments over {limit} characters",
            )
        if item.source != source:
            raise self._refuse(
                403, "forbidden", f"this API key may not send requests for source {item.source!r}"
            )
        return item

    def to_event(self, item: IntakeRequest) -> RequestReceived:
        now = datetime.now(UTC)
        return RequestReceived(
            request_id=request_id_for(item.source, item.external_id),
            source=item.source,
            external_id=item.external_id,
            channel=item.channel,
            subject=item.subject,
            body=item.body,
            language=item.language,
            received_at=item.received_at or now,
            accepted_at=now,
            attachments=[a.model_dump() for a in item.attachments],  # type: ignore[misc]
            metadata=item.metadata,
        )

    async def accept(self, item: IntakeRequest) -> str:
        event = self.to_event(item)
        try:
            await self.publisher.publish(event)
        except BrokerUnavailable as exc:
            raise self._refuse(
                503,
                "broker_unavailable",
                "the message broker did not acknowledge the request: retry later with the"
                " same external_id (a retry never creates a duplicate, even if this"
                " attempt still gets through)",
            ) from exc
        self.outcomes.labels("accepted").inc()
        return event.request_id

    def unavailable_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.settings.ingest_retry_after_s)}


def _validate(data: dict[str, object]) -> IntakeRequest:
    # JSON mode: strings for date-times and enums are the JSON way of writing them.
    return IntakeRequest.model_validate_json(json.dumps(data))


async def _connect(broker: object, publisher: Publisher, settings: IngestSettings) -> None:
    """Connect in the background so the service starts (not ready) while Kafka is away."""
    delay = 0.5
    while True:
        try:
            await ensure_topics(settings, [settings.topic_received])
            await broker.start()  # type: ignore[attr-defined]
            publisher.connected = True
            log.info("connected to the broker at %s", settings.kafka_bootstrap)
            return
        except Exception as exc:
            log.warning("broker not reachable (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


def create_app(settings: IngestSettings) -> FastAPI:
    registry = new_registry()
    http_metrics = HttpMetrics(registry, "ingest")
    outcomes = Counter(
        "triage_ingest_requests_total",
        "Intake requests by outcome (accepted, validation_failed, unauthorized, ...)",
        ["outcome"],
        registry=registry,
    )
    broker = make_broker(settings, graceful_timeout=settings.graceful_timeout_s)
    publisher = Publisher(
        broker, settings.topic_received, settings.ingest_publish_timeout_s, registry
    )
    ingest = Ingest(settings, publisher, outcomes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        connecting = asyncio.create_task(_connect(broker, publisher, settings))
        yield
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connecting
        publisher.connected = False
        await broker.stop()  # flushes what is in flight
        log.info("ingest stopped")

    app = FastAPI(
        title="Triage ingest API",
        version="1.0.0",
        description="Intake systems hand requests to Triage here. A 202 means the request "
        "is durably on the broker; the same (source, external_id) always gives the same id.",
        lifespan=lifespan,
        # Metrics are Prometheus (MetricsMiddleware); FastAPI's OpenTelemetry hooks would
        # look up the (unconfigured) providers on every request of the hot path.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ingest = ingest
    app.add_middleware(MetricsMiddleware, metrics=http_metrics, routes=app.router.routes)
    install_error_handlers(app)
    _routes(app, ingest, registry, publisher)
    _with_body_models(app, (IntakeRequest, BatchIn))
    return app


def _routes(app: FastAPI, ingest: Ingest, registry: object, publisher: Publisher) -> None:
    @app.post(
        "/v1/requests",
        status_code=202,
        response_model=Accepted,
        responses=_ERRORS,  # type: ignore[arg-type]
        openapi_extra=_json_body(IntakeRequest),
        summary="Submit one request",
    )
    async def submit(request: Request) -> JSONResponse:
        source = ingest.authenticate(request)
        item = ingest.validate(await ingest.read_json(request), source)
        try:
            request_id = await ingest.accept(item)
        except ApiError as exc:
            if exc.status == 503:
                exc.headers = ingest.unavailable_headers()
            raise
        return JSONResponse({"request_id": request_id, "status": "accepted"}, status_code=202)

    async def submit_batch(request: Request) -> JSONResponse:
        source = ingest.authenticate(request)
        data = await ingest.read_json(request)
        items = _batch_items(data, ingest.settings.ingest_max_batch)
        results = await _accept_batch(ingest, items, source)
        accepted = sum(1 for r in results if r.status == 202)
        out = BatchOut(accepted=accepted, rejected=len(results) - accepted, results=results)
        if accepted == 0 and any(r.status == 503 for r in results):
            return JSONResponse(out.model_dump(), 503, headers=ingest.unavailable_headers())
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
        "/readyz", summary="ready: connected to the broker", responses={503: {"model": ErrorOut}}
    )
    async def readyz() -> JSONResponse:
        if publisher.connected:
            return JSONResponse({"status": "ready"})
        return JSONResponse(
            {"error": "not_ready", "message": "not connected to the broker", "details": []}, 503
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response(registry)  # type: ignore[arg-type]


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
