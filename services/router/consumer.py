"""Consumers of the router.

``request.classified`` → work items: one transaction per batch (items inserted
with ``ON CONFLICT (request_id) DO NOTHING`` plus a 'routed' audit event each);
the shared BatchConsumer commits the offsets only after this returns, so a
crash before the commit means a redelivery, which inserts nothing new.

``request.received`` → a tiny row per request, so that an intake system asking
for a request not classified yet hears "received" rather than "not found".
Malformed events there are the classifier's to dead-letter, so they are skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection, Sequence
from typing import Any

import asyncpg

from services.router.db import Queries, infrastructure_cause
from services.router.metrics import RouterMetrics
from services.router.notify import ignore
from services.router.paging import parse_item_id
from services.router.related import RelatedRecorder
from services.router.rules import Routing
from shared.consumer import Consumed, TransientError, decode_record
from shared.events import RECEIVED_V1, PoisonMessage, RequestClassified

log = logging.getLogger(__name__)


def _clean(text: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL; JSON can. Ingest refuses it, but an
    # outside producer or a hand replay may not: keep the item, replace the NUL.
    return text.replace("\x00", "\ufffd")


def _scrub(value: Any) -> Any:
    """``value`` with NUL replaced in every string, keys included (pure)."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _json(value: Any) -> str:
    # Scrubbed before dumping: json.dumps writes NUL as the escape \u0000, which jsonb
    # refuses (22P05) just the same, so cleaning the dumped text would miss it.
    return json.dumps(_scrub(value), ensure_ascii=False, default=str)


def routed_details(event: RequestClassified, queue: str, priority: int, due: Any) -> str:
    """The 'routed' audit event: model version and scores, never request text."""
    c = event.classification
    return _json(
        {
            "model_version": c.model_version,
            "type": c.type,
            "type_confidence": c.type_confidence,
            "urgency": c.urgency.value,
            "urgency_confidence": c.urgency_confidence,
            "needs_review": c.needs_review,
            "review_reasons": c.review_reasons,
            "top_types": [s.model_dump() for s in c.explanation.top_types],
            "top_urgencies": [s.model_dump() for s in c.explanation.top_urgencies],
            "queue": queue,
            "priority": priority,
            "due_at": due.isoformat(),
        }
    )


def batch_columns(events: Sequence[RequestClassified], routing: Routing) -> list[list[Any]]:
    """Column arrays for ``insert_routed`` (pure); one entry per distinct request id."""
    columns: list[list[Any]] = [[] for _ in range(21)]
    seen: set[str] = set()
    for ev in events:
        if ev.request_id in seen:  # a duplicate inside the batch: first one wins
            continue
        seen.add(ev.request_id)
        r, c = ev.request, ev.classification
        route = routing.route(c.type, c.urgency.value, c.needs_review, r.received_at)
        classification = c.model_dump(mode="json")
        values = [
            ev.request_id,
            r.source,
            _clean(r.external_id),
            r.channel.value,
            r.received_at,
            r.accepted_at,
            _clean(r.subject),
            _clean(r.body),
            _json([a.model_dump() for a in r.attachments]),
            _json(r.metadata),
            c.language,
            c.type,
            c.urgency.value,
            c.needs_review,
            c.model_version,
            _json(classification),
            ev.classified_at,
            route.queue,
            route.priority,
            route.due_at,
            routed_details(ev, route.queue, route.priority, route.due_at),
        ]
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns


def key_point_columns(
    events: Sequence[RequestClassified], created: Collection[Any]
) -> tuple[list[Any], list[str]]:
    """``set_key_points`` arrays for the items just created that have key points (pure)."""
    ids: list[Any] = []
    points: list[str] = []
    wanted = set(created)  # uuid.UUID, as PostgreSQL returns them
    for ev in events:
        request_id = parse_item_id(ev.request_id)
        if ev.key_points and request_id in wanted:
            wanted.discard(request_id)  # a duplicate inside the batch: first one wins
            ids.append(request_id)
            points.append(_json([p.model_dump() for p in ev.key_points]))
    return ids, points


class ClassifiedWriter:
    """The ``process`` callable of the BatchConsumer for request.classified."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        queries: Queries,
        routing: Routing,
        metrics: RouterMetrics,
        on_change: Callable[..., None] = ignore,
        related: RelatedRecorder | None = None,
    ) -> None:
        self.pool = pool
        self.q = queries
        self.routing = routing
        self.metrics = metrics
        self.on_change = on_change
        self.related = related

    async def __call__(self, items: list[Consumed[Any]]) -> None:
        events: list[RequestClassified] = [i.event for i in items]
        columns = batch_columns(events, self.routing)
        try:
            async with self.pool.acquire() as conn:
                if self.related is not None:
                    await self.related.finder.sync(conn)
                async with conn.transaction():
                    created = await conn.fetch(self.q.insert_routed, *columns)
                    new = [row["request_id"] for row in created]
                    ids, points = key_point_columns(events, new)
                    if ids:
                        await conn.execute(self.q.set_key_points, ids, points)
                    if self.related is not None:
                        await self.related.record(conn, events, set(new))
        except Exception as exc:
            cause = infrastructure_cause(exc)
            if cause is not None:
                raise TransientError(f"database: {type(exc).__name__}", cause) from exc
            raise
        self.metrics.record_created(created)
        self.on_change(*{row["queue"] for row in created})
        duplicates = len(events) - len(created)
        if duplicates:
            self.metrics.duplicates.inc(duplicates)
            log.info("ignored %d already-routed event(s)", duplicates)


class ReceivedRecorder:
    """Handler of the request.received subscription (explicit ack after the insert)."""

    def __init__(self, pool: asyncpg.Pool, queries: Queries, retry_backoff_s: float = 1.0) -> None:
        self.pool = pool
        self.q = queries
        self.retry_backoff_s = retry_backoff_s

    async def handle(self, records: Sequence[Any]) -> None:
        ids, sources, times = [], [], []
        for record in records:
            try:
                event = decode_record(record.value, RECEIVED_V1)
            except PoisonMessage:
                continue
            request_id = parse_item_id(event.request_id)
            if request_id is None:
                continue
            ids.append(request_id)
            sources.append(_clean(event.source))
            times.append(event.received_at)
        if not ids:
            return
        try:
            async with self.pool.acquire() as conn:
                await conn.execute(self.q.insert_received, ids, sources, times)
        except Exception:
            log.warning("received requests not recorded; retrying the batch", exc_info=True)
            await asyncio.sleep(self.retry_backoff_s)  # the nack re-fetches the batch
            raise
