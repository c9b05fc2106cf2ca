"""Ingest HTTP API: validate, publish to Kafka, answer 202 after the broker's ack.

A Starlette app: each route has exactly one handler (``routes.py``), the probes
come from ``shared.probes``, and the OpenAPI document from ``openapi.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi.openapi.docs import get_swagger_ui_html
from faststream.kafka import KafkaBroker
from prometheus_client import Counter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from services.ingest import openapi
from services.ingest.health import BrokerHealth, broker_problem, watch_broker
from services.ingest.intake import Ingest
from services.ingest.publisher import Publisher
from services.ingest.routes import AsgiEndpoint, Intake, Shortcut
from services.ingest.settings import IngestSettings
from shared.db import create_pool
from shared.documents.store import DocumentStore
from shared.events import CLASSIFIED_OVERHEAD_BYTES
from shared.http import error_handlers
from shared.kafka import ensure_topics, make_broker
from shared.metrics import HttpMetrics, HttpMetricsMiddleware, new_registry
from shared.probes import Probes

log = logging.getLogger(__name__)


async def _connect(broker: KafkaBroker, health: BrokerHealth, settings: IngestSettings) -> None:
    """Connect in the background so the service starts (not ready) while Kafka is away,
    then watch the broker for readiness."""
    delay = 0.5
    while True:
        try:
            await ensure_topics(settings, [settings.topic_received, settings.topic_documents])
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


async def _open_store(ingest: Ingest, settings: IngestSettings) -> asyncpg.Pool:
    """The pool of the document store and ledger, retried while PostgreSQL starts."""
    while True:
        try:
            pool = await create_pool(
                settings.database_url.get_secret_value(),
                min_size=settings.database_pool_min,
                max_size=settings.database_pool_max,
            )
            break
        except Exception as exc:
            log.warning("database not reachable (%s); retrying", type(exc).__name__)
            await asyncio.sleep(2.0)
    ingest.ledger = DocumentStore(pool)
    log.info("connected to the database")
    return pool


def _docs_routes() -> list[BaseRoute]:
    document = openapi.document()  # built once: the models do not change while serving

    async def spec(_: Request) -> Response:
        return JSONResponse(document)

    async def docs(_: Request) -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{openapi.TITLE} - docs")

    return [
        Route("/openapi.json", spec, methods=["GET"], include_in_schema=False),
        Route("/docs", docs, methods=["GET"], include_in_schema=False),
    ]


def create_app(settings: IngestSettings) -> Starlette:
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
        broker, settings.topic_received, settings.ingest_publish_timeout_s, registry, health,
        # room left for the classification: the classified event must fit too
        max_bytes=settings.kafka_max_message_bytes - CLASSIFIED_OVERHEAD_BYTES,
    )  # fmt: skip
    ingest = Ingest(settings, publisher, outcomes)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        connecting = asyncio.create_task(_connect(broker, health, settings))
        opening = asyncio.create_task(_open_store(ingest, settings))
        yield
        for task in (connecting, opening):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        health.connected = False
        await broker.stop()  # flushes what is in flight
        if opening.done() and not opening.cancelled() and opening.exception() is None:
            ingest.ledger = None
            await opening.result().close()
        log.info("ingest stopped")

    async def not_ready() -> str | None:
        if ingest.ledger is None:
            return "not connected to the database"
        return broker_problem(health, time.monotonic())

    intake = Intake(ingest)
    batch = AsgiEndpoint(intake.submit_batch)
    routes: list[BaseRoute] = [
        Route("/v1/requests", AsgiEndpoint(intake.submit), methods=["POST"]),  # first: the hot one
        Route("/v1/requests:batch", batch, methods=["POST"]),
        Route("/v1/requests/batch", batch, methods=["POST"], include_in_schema=False),
        Route("/v1/messages", AsgiEndpoint(intake.submit_message), methods=["POST"]),
        *Probes(registry, not_ready).routes(),
        *_docs_routes(),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=error_handlers())
    app.state.ingest = ingest
    # The last added runs first: metrics see every request, the shortcut's included.
    app.add_middleware(Shortcut, method="POST", path="/v1/requests", handle=intake.submit)
    app.add_middleware(
        HttpMetricsMiddleware, metrics=HttpMetrics(registry, "ingest"), routes=app.router.routes
    )
    return app
