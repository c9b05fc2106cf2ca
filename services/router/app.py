"""The router's FastAPI app: API + consumer, one lifespan.

Start: pool (retried while PostgreSQL starts), schema version check, gauge
refresher, broker with the request.classified (and request.received)
subscribers. Stop (after uvicorn drained HTTP): stop consuming — FastStream
finishes the batch in hand within the graceful timeout and commits it — then
the background tasks, then the pool.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import Response

from services.router import api, kpi_api
from services.router.auth import Authenticator, load_users
from services.router.consumer import ClassifiedWriter, ReceivedRecorder
from services.router.db import create_pool, load_queries
from services.router.deadletters import DeadLetterRecorder, load_deadletter_queries
from services.router.insights import Insights
from services.router.letters import api as letters_api
from services.router.letters.book import LetterBook
from services.router.metrics import RouterMetrics, refresh_forever, stop_task
from services.router.migrate import check_current
from services.router.related_api import router as related_router
from services.router.related_service import RelatedService
from services.router.rules import Routing, load_rules
from services.router.settings import RouterSettings
from services.router.state import NotStarted, RouterState
from services.router.web.routes import router as web_router
from shared.consumer import BatchConsumer, lag_loop, subscribe
from shared.errors import Unavailable
from shared.events import CLASSIFIED_V1
from shared.http import install_error_handlers
from shared.kafka import ensure_topics, make_broker
from shared.metrics import ConsumerMetrics, HttpMetrics, HttpMetricsMiddleware, new_registry
from shared.probes import RETRY_AFTER, Probes
from shared.ratelimit import RateLimiter

log = logging.getLogger(__name__)


def build_state(settings: RouterSettings, routing: Routing | None = None) -> RouterState:
    """Validate the configuration (rules, users, keys, letter templates); raises with a
    clear message."""
    routing = routing or load_rules(settings.router_rules, settings.router_closed_days)
    users = load_users(settings.router_users, settings.router_users_file)
    auth = Authenticator(
        users,
        ingest_keys=settings.ingest_api_keys,
        trust_proxy_header=settings.router_trust_proxy_header,
        trusted_proxies=settings.router_trusted_proxies,
    )
    registry = new_registry()
    limit = RateLimiter(settings.router_api_per_minute, settings.router_api_burst)
    metrics = RouterMetrics(registry)
    return RouterState(
        settings, routing, auth, load_queries(), registry, metrics,
        deadletters=load_deadletter_queries(), letter_book=LetterBook(routing, settings),
        related=RelatedService(settings, registry), api_limit=limit,
    )  # fmt: skip


async def _start_consumers(state: RouterState) -> None:
    s = state.settings
    broker = make_broker(s, graceful_timeout=s.graceful_timeout_s)
    names = [s.topic_classified, s.topic_deadletter]
    if s.router_track_received:
        names.append(s.topic_received)
    await ensure_topics(s, names)
    consumer_metrics = ConsumerMetrics(state.registry, "router")
    writer = ClassifiedWriter(
        state.pool,
        state.queries,
        state.routing,
        state.metrics,
        state.notifier.changed,
        state.related.recorder,
    )
    consumer = BatchConsumer(
        broker=broker,
        stage="router",
        expected_event_type=CLASSIFIED_V1,
        process=writer,
        deadletter_topic=s.topic_deadletter,
        metrics=consumer_metrics,
    )
    subscriber = subscribe(
        broker,
        s,
        consumer,
        topic=s.topic_classified,
        group_id=s.router_group,
        max_records=s.router_batch_max,
        batch_timeout_ms=s.router_batch_timeout_ms,
    )
    if s.router_track_received:
        subscribe(
            broker,
            s,
            ReceivedRecorder(state.pool, state.queries),
            topic=s.topic_received,
            group_id=f"{s.router_group}-received",
            max_records=s.router_batch_max,
            batch_timeout_ms=s.router_batch_timeout_ms,
        )
    subscribe(
        broker, s, DeadLetterRecorder(state.pool, state.deadletters), topic=s.topic_deadletter,
        group_id=f"{s.router_group}-deadletters", max_records=s.router_batch_max,
        batch_timeout_ms=s.router_batch_timeout_ms,
    )  # fmt: skip
    state.broker = broker
    state.consumer = consumer
    await broker.start()
    state.consuming = True
    state.tasks.append(
        asyncio.create_task(lag_loop(subscriber, consumer_metrics, s.router_group, 15.0))
    )


async def _close_pool(state: RouterState) -> None:
    try:
        await asyncio.wait_for(state.pool.close(), timeout=state.settings.graceful_timeout_s)
    except TimeoutError:
        log.warning("database connections still busy at shutdown; terminating them")
        state.pool.terminate()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: RouterState = app.state.router
    s = state.settings
    pool = await create_pool(
        s.database_url.get_secret_value(),
        min_size=s.database_pool_min,
        max_size=s.database_pool_max,
    )
    state.attach(pool)
    try:
        async with pool.acquire() as conn:
            await check_current(conn)
        state.tasks.append(
            asyncio.create_task(
                refresh_forever(pool, state.queries, state.metrics, s.router_metrics_refresh_s)
            )
        )
        state.tasks.append(asyncio.create_task(state.notifier.run()))
        if s.router_consumer_enabled:
            await _start_consumers(state)
        log.info("router started (consumer %s)", "on" if state.consuming else "off")
        yield
    finally:
        if state.broker is not None:
            state.consuming = False
            await state.broker.stop()  # waits for the batch in hand, within graceful_timeout
            state.broker = None
        for task in state.tasks:
            await stop_task(task)
        state.tasks.clear()
        await _close_pool(state)
        state.detach()
        log.info("router stopped")


async def _not_started(_: Request, exc: Exception) -> Response:
    """A request that came before the pool (or after it closed): not ready, not a 500."""
    return Unavailable(str(exc), code="not_ready", headers=RETRY_AFTER).response()


async def _not_ready(state: RouterState) -> str | None:
    if state.settings.router_consumer_enabled and not state.consuming:
        return "consumer not started"
    if state.consumer is not None and state.consumer.stalled:
        # e.g. credentials rotated or a read-only server: consuming is paused, retrying
        return f"consumer retrying: database unusable ({state.consumer.stalled})"
    try:
        async with state.pool.acquire(timeout=2.0) as conn:
            await conn.fetchval("SELECT 1", timeout=2.0)
    except NotStarted:
        return "not started"
    except Exception as exc:
        return f"database unreachable ({type(exc).__name__})"
    return None


def create_app(settings: RouterSettings, routing: Routing | None = None) -> FastAPI:
    """The router: configuration checked here (``build_state`` raises ``ConfigError``),
    the pool, consumers and broker owned by the lifespan."""
    state = build_state(settings, routing)
    app = FastAPI(
        title="Triage router",
        version="1",
        summary="Work queues for team leads and agents; request status for intake systems",
        lifespan=lifespan,
    )
    app.state.router = state
    install_error_handlers(app)
    app.add_exception_handler(NotStarted, _not_started)
    Probes(state.registry, lambda: _not_ready(state)).install(app)
    app.include_router(api.router)
    app.include_router(letters_api.router)
    app.state.insights = Insights(state)  # KPIs and forecasts (its router refits daily)
    app.include_router(kpi_api.router)
    app.include_router(related_router)  # related cases: close as duplicate
    app.include_router(web_router)  # the team-lead page under /ui
    metrics = HttpMetrics(state.registry, "router")
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics, routes=app.router.routes)
    return app
