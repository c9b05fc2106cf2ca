"""Key points on a real PostgreSQL: stored once, returned by the item API, purged."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from services.router.purge import cutoff_for, purge
from services.router.workflow import Workflow
from shared.events import KeyPoint, RequestClassified
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, auth, person

POINTS = [
    KeyPoint(text="Sibelga sluit de elektriciteit af op 14 januari.", source="body"),
    KeyPoint(text="Mevrouw is afhankelijk van zuurstof.", source="attest.pdf", page=2),
    KeyPoint(text="Zij vraagt een dringende tussenkomst.", source="body"),
]


def with_points(points: list[KeyPoint]) -> RequestClassified:
    return classified("energy_aid", "high").model_copy(update={"key_points": points})


async def stored_points(pool: asyncpg.Pool, request_id: str) -> object:
    async with pool.acquire() as conn:
        return await conn.fetchval(
            "SELECT key_points FROM work_items WHERE request_id = $1", uuid.UUID(request_id)
        )


async def test_key_points_are_stored_once_and_returned_by_the_api(
    pool: asyncpg.Pool, store: Store, client: httpx.AsyncClient
) -> None:
    event, plain = with_points(POINTS), classified("energy_aid")
    await store(event, plain)
    expected = [p.model_dump() for p in POINTS]
    assert await stored_points(pool, event.request_id) == expected
    # a redelivery (even one whose key points differ) never rewrites the item
    await store(event.model_copy(update={"key_points": POINTS[:1]}))
    assert await stored_points(pool, event.request_id) == expected
    response = await client.get(f"/v1/items/{event.request_id}", headers=auth("alice"))
    assert response.status_code == 200
    assert response.json()["key_points"] == expected
    other = await client.get(f"/v1/items/{plain.request_id}", headers=auth("alice"))
    assert other.json()["key_points"] == []


async def test_an_event_without_key_points_redelivered_with_some_keeps_none(
    pool: asyncpg.Pool, store: Store
) -> None:
    event = classified("energy_aid")
    await store(event)
    await store(event.model_copy(update={"key_points": POINTS}))
    assert await stored_points(pool, event.request_id) is None


async def test_purge_removes_the_key_points(
    pool: asyncpg.Pool, store: Store, workflow: Workflow
) -> None:
    event = with_points(POINTS)
    await store(event)
    lena = person("lena")
    await workflow.claim(lena, "energy_aid")
    await workflow.complete(lena, event.request_id)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE work_items SET completed_at = now() - interval '400 days'"
            " WHERE request_id = $1",
            uuid.UUID(event.request_id),
        )
        assert (await purge(conn, cutoff_for(365))).items == 1
    assert await stored_points(pool, event.request_id) is None
    await store(event)  # a late redelivery does not bring them back
    assert await stored_points(pool, event.request_id) is None
