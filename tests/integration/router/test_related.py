"""Related cases on a real PostgreSQL: the same person's items, duplicates, close as one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from services.router.purge import purge
from services.router.rules import Routing
from shared.events import RequestClassified
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, auth, source_auth
from tests.integration.router.related_support import H1, H2, H3, related, related_store, vector


@pytest.fixture
def store_related(pool: asyncpg.Pool, routing: Routing, migrated_url: str) -> Store:
    return related_store(pool, routing, migrated_url)


async def _related(client: httpx.AsyncClient, event: RequestClassified) -> dict[str, Any]:
    response = await client.get(f"/v1/items/{event.request_id}", headers=auth("lena"))
    assert response.status_code == 200, response.text
    related: dict[str, Any] = response.json()["related"]
    return related


async def _complete(client: httpx.AsyncClient, event: RequestClassified) -> None:
    """Claim items of energy_aid until ``event`` is held, then complete it."""
    for _ in range(3):
        claimed = await client.post("/v1/queues/energy_aid/claim", headers=auth("lena"))
        if claimed.json()["request_id"] == event.request_id:
            break
    done = await client.post(f"/v1/items/{event.request_id}/complete", headers=auth("lena"))
    assert done.status_code == 200, done.text


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["request_id"] for r in rows]


async def test_the_same_persons_second_request_shows_the_first(
    client: httpx.AsyncClient, store_related: Store
) -> None:
    first = related(classified("energy_aid"), [H1])
    second = related(classified("housing"), [H2, H1])
    stranger = related(classified("energy_aid"), [H3])
    await store_related(first)
    await store_related(second, stranger)
    await store_related(second)  # a redelivery records nothing twice

    seen = await _related(client, second)
    assert _ids(seen["same_person"]) == [first.request_id]
    assert seen["same_person"][0]["shared"] == 1 and seen["same_person"][0]["queue"] == "energy_aid"
    assert _ids((await _related(client, first))["same_person"]) == [second.request_id]
    assert (await _related(client, stranger))["same_person"] == []

    # a done item is no longer an open case of the person
    await _complete(client, first)
    assert (await _related(client, second))["same_person"] == []


async def test_a_duplicate_is_found_and_closed_as_such(
    client: httpx.AsyncClient, store_related: Store, pool: asyncpg.Pool
) -> None:
    original = related(classified("energy_aid", "high"), [], vector(1))
    resent = related(classified("energy_aid", "normal"), [], vector(2, noise_of=1, noise=0.05))
    other = related(classified("energy_aid", "low"), [], vector(3))
    await store_related(original)
    await store_related(resent, other)

    found = (await _related(client, resent))["duplicates"]
    assert _ids(found) == [original.request_id] and found[0]["similarity"] > 0.99
    assert _ids((await _related(client, original))["duplicates"]) == [resent.request_id]
    assert (await _related(client, other))["duplicates"] == []

    # the agent holding the resent copy closes it as a duplicate of the original
    claimed = await client.post("/v1/queues/energy_aid/claim", headers=auth("alice"))
    assert claimed.json()["request_id"] == original.request_id  # high urgency first
    claimed = await client.post("/v1/queues/energy_aid/claim", headers=auth("bob"))
    assert claimed.json()["request_id"] == resent.request_id
    url = f"/v1/items/{resent.request_id}/close-duplicate"
    body = {"duplicate_of": original.request_id}
    assert (await client.post(url, json=body, headers=auth("alice"))).status_code == 409
    closed = await client.post(url, json=body, headers=auth("bob"))
    assert closed.status_code == 200, closed.text
    assert closed.json()["duplicate_of"] == original.request_id

    status = await client.get(f"/v1/requests/{resent.request_id}", headers=source_auth("demo"))
    assert status.json()["status"] == "done"
    assert status.json()["duplicate_of"] == original.request_id
    item = (await client.get(f"/v1/items/{resent.request_id}", headers=auth("lena"))).json()
    assert item["related"]["duplicate_of"] == original.request_id
    last = item["history"][-1]
    assert (last["event"], last["actor"]) == ("completed", "bob")
    assert last["details"]["duplicate_of"] == original.request_id
    assert (await _related(client, original))["duplicates"] == []  # closed: no longer open
    assert (await client.post(url, json=body, headers=auth("bob"))).status_code == 409


@pytest.mark.parametrize("target", ["self", "not-an-id", "00000000-0000-0000-0000-000000000001"])
async def test_closing_as_duplicate_of_nothing_is_refused(
    client: httpx.AsyncClient, store: Store, target: str
) -> None:
    event = classified("energy_aid")
    await store(event)
    await client.post("/v1/queues/energy_aid/claim", headers=auth("alice"))
    original = event.request_id if target == "self" else target
    response = await client.post(
        f"/v1/items/{event.request_id}/close-duplicate",
        json={"duplicate_of": original},
        headers=auth("alice"),
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "duplicate_of"


async def test_purge_removes_hashes_and_vectors_of_old_items(
    client: httpx.AsyncClient, store_related: Store, pool: asyncpg.Pool
) -> None:
    old = related(classified("energy_aid"), [H1], vector(5))
    await store_related(old)
    await _complete(client, old)
    async with pool.acquire() as conn:
        await purge(conn, datetime.now(UTC))
        for table in ("item_identities", "item_embeddings"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
