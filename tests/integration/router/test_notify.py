"""Live refresh: changes of a queue are announced on triage_queue_changed."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from services.router.notify import CHANNEL
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, auth


async def test_changes_are_notified_with_the_queue_name(
    client: httpx.AsyncClient, store: Store, migrated_url: str
) -> None:
    event = classified("energy_aid")
    await store(event)
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(migrated_url)
    await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[3]))
    try:
        await client.post("/v1/queues/energy_aid/claim", headers=auth("alice"))
        assert await asyncio.wait_for(heard.get(), 5) == "energy_aid"
        await client.post(
            f"/v1/items/{event.request_id}/reassign",
            json={"queue": "review"},
            headers=auth("alice"),
        )
        payloads = {await asyncio.wait_for(heard.get(), 5) for _ in range(2)}
        assert payloads == {"energy_aid", "review"}
    finally:
        await listener.close()
