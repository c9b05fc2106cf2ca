"""Status for intake systems: only the source that sent a request may read it."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import asyncpg
import httpx

from services.router.consumer import ReceivedRecorder
from services.router.db import load_queries
from shared.events import encode
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, auth, source_auth


async def test_the_source_follows_its_request_to_done(
    client: httpx.AsyncClient, store: Store
) -> None:
    event = classified("energy_aid", "high", source="demo")
    await store(event)
    url = f"/v1/requests/{event.request_id}"
    queued = (await client.get(url, headers=source_auth("demo"))).json()
    assert (queued["status"], queued["queue"], queued["priority"]) == ("queued", "energy_aid", 2)
    assert queued["due_at"] and queued["received_at"]
    await client.post("/v1/queues/energy_aid/claim", headers=auth("alice"))
    assert (await client.get(url, headers=source_auth("demo"))).json()["status"] == "in_progress"
    await client.post(f"/v1/items/{event.request_id}/complete", headers=auth("alice"))
    done = (await client.get(url, headers=source_auth("demo"))).json()
    assert done["status"] == "done" and done["completed_at"] and "queue" not in done


async def test_another_source_cannot_tell_the_request_exists(
    client: httpx.AsyncClient, store: Store
) -> None:
    event = classified(source="demo")
    await store(event)
    theirs = await client.get(f"/v1/requests/{event.request_id}", headers=source_auth("other"))
    unknown = await client.get(f"/v1/requests/{uuid.uuid4()}", headers=source_auth("other"))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["error"] == unknown.json()["error"] == "not_found"
    assert (
        await client.get("/v1/requests/not-a-uuid", headers=source_auth("demo"))
    ).status_code == 404


async def test_status_needs_an_intake_key(client: httpx.AsyncClient, store: Store) -> None:
    event = classified(source="demo")
    await store(event)
    url = f"/v1/requests/{event.request_id}"
    for headers in ({}, {"Authorization": "Bearer wrong"}, auth("lena")):
        response = await client.get(url, headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "unauthenticated"


async def test_received_before_classification(
    client: httpx.AsyncClient, pool: asyncpg.Pool, store: Store
) -> None:
    event = classified(source="demo")
    recorder = ReceivedRecorder(pool, load_queries())
    record = SimpleNamespace(value=encode(event.request))
    poison = SimpleNamespace(value=b"{not json")
    await recorder.handle([record, poison, record])  # duplicates and poison are harmless
    url = f"/v1/requests/{event.request_id}"
    received = (await client.get(url, headers=source_auth("demo"))).json()
    assert received["status"] == "received"
    assert (await client.get(url, headers=source_auth("other"))).status_code == 404
    await store(event)
    assert (await client.get(url, headers=source_auth("demo"))).json()["status"] == "queued"
