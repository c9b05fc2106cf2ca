"""The classified-event writer on a real PostgreSQL: idempotent, one transaction, audited."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from services.router.consumer import ClassifiedWriter
from services.router.db import load_queries
from services.router.metrics import RouterMetrics
from services.router.rules import Routing
from shared.consumer import Consumed, TransientError
from shared.metrics import new_registry
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store


async def count(pool: asyncpg.Pool, sql: str, *args: object) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval(sql, *args))


async def test_a_redelivered_event_creates_no_duplicate(
    pool: asyncpg.Pool, routing: Routing
) -> None:
    registry = new_registry()
    writer = ClassifiedWriter(pool, load_queries(), routing, RouterMetrics(registry))
    event, other = classified("food_aid", "high"), classified("housing")
    await writer([Consumed(event, "t", 0, 1, None), Consumed(event, "t", 0, 2, None)])
    await writer([Consumed(event, "t", 0, 1, None), Consumed(other, "t", 0, 3, None)])
    assert await count(pool, "SELECT count(*) FROM work_items") == 2
    assert await count(pool, "SELECT count(*) FROM audit_events WHERE event = 'routed'") == 2
    assert (
        registry.get_sample_value(
            "triage_router_work_items_created_total", {"queue": "food_aid", "priority": "2"}
        )
        == 1
    )
    assert registry.get_sample_value("triage_router_duplicate_events_total") == 2
    latency = registry.get_sample_value(
        "triage_router_queue_latency_seconds_count", {"priority": "2"}
    )
    assert latency == 1


async def test_the_item_keeps_content_and_classification(pool: asyncpg.Pool, store: Store) -> None:
    event = classified(
        "urgent_medical_aid",
        "critical",
        body="Tekst met NUL \x00 erin",
        metadata={"form": "web-1", "page": 2},
    )
    await store(event)
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT * FROM work_items WHERE request_id = $1", uuid.UUID(event.request_id)
        )
        audit = await conn.fetchrow(
            "SELECT * FROM audit_events WHERE request_id = $1", uuid.UUID(event.request_id)
        )
    assert row["body"] == "Tekst met NUL \ufffd erin" and row["metadata"] == {
        "form": "web-1",
        "page": 2,
    }
    assert (row["queue"], row["priority"], row["status"]) == ("urgent_medical_aid", 1, "waiting")
    assert row["classification"]["explanation"]["cues"][0]["cue"] == "energy_cutoff"
    assert (audit["event"], audit["actor"]) == ("routed", "router")
    assert audit["details"]["model_version"] == "test-1"
    assert audit["details"]["type_confidence"] == 0.91


async def test_database_down_is_a_transient_error(routing: Routing, migrated_url: str) -> None:
    from services.router.db import create_pool

    pool = await create_pool(migrated_url)
    writer = ClassifiedWriter(pool, load_queries(), routing, RouterMetrics(new_registry()))
    await pool.close()  # as good as unreachable: the batch must be retried, not dead-lettered
    with pytest.raises(TransientError):
        await writer([Consumed(classified(), "t", 0, 1, None)])


async def test_bad_data_is_not_transient(pool: asyncpg.Pool, routing: Routing) -> None:
    writer = ClassifiedWriter(pool, load_queries(), routing, RouterMetrics(new_registry()))
    bad = classified().model_copy(update={"request_id": "not-a-uuid"})
    with pytest.raises(Exception) as err:
        await writer([Consumed(bad, "t", 0, 1, None)])
    assert not isinstance(err.value, TransientError)


async def test_nul_anywhere_in_an_outside_event_is_stored_not_dead_lettered(
    pool: asyncpg.Pool, routing: Routing
) -> None:
    """Ingest refuses NUL (422); an outside producer or a hand replay may still send it."""
    writer = ClassifiedWriter(pool, load_queries(), routing, RouterMetrics(new_registry()))
    event = classified(
        body="a\x00b",
        attachments=[{"name": "n\x00.txt", "text": "t\x00"}],
        metadata={"k\x00": "v\x00"},
    )
    await writer([Consumed(event, "t", 0, 1, None)])
    row = await pool.fetchrow(
        "SELECT body, attachments::text AS a, metadata::text AS m FROM work_items"
        " WHERE request_id = $1",
        event.request_id,
    )
    assert row["body"] == "a\ufffdb"
    assert "\ufffd" in row["a"] and "\ufffd" in row["m"] and "\x00" not in row["a"] + row["m"]
