"""Claims on a real PostgreSQL: exclusive, ordered, leased, and never lost."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.router.workflow import Workflow
from shared.errors import Conflict
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, person


async def test_twenty_concurrent_claimers_never_get_the_same_item(
    workflow: Workflow, store: Store
) -> None:
    events = [
        classified("energy_aid", ("critical", "high", "normal", "low")[i % 4]) for i in range(60)
    ]
    await store(*events)
    lena = person("lena")

    async def claimer() -> list[str]:
        got = []
        while (item := await workflow.claim(lena, "energy_aid")) is not None:
            got.append(str(item["request_id"]))
        return got

    results = await asyncio.gather(*(claimer() for _ in range(20)))
    claimed = [rid for got in results for rid in got]
    assert len(claimed) == len(set(claimed)) == 60
    assert set(claimed) == {e.request_id for e in events}
    assert await workflow.claim(lena, "energy_aid") is None


async def test_claims_come_in_priority_then_due_date_order(
    workflow: Workflow, store: Store
) -> None:
    monday = datetime(2025, 3, 10, 9, tzinfo=UTC)
    low = classified("housing", "low", received_at=monday)
    high_late = classified("housing", "high", received_at=monday + timedelta(days=1))
    high_early = classified("housing", "high", received_at=monday)
    critical = classified("housing", "critical", received_at=monday + timedelta(days=2))
    await store(low, high_late, high_early, critical)
    lena = person("lena")
    order = [str((await workflow.claim(lena, "housing") or {})["request_id"]) for _ in range(4)]
    assert order == [e.request_id for e in (critical, high_early, high_late, low)]


async def _expire(pool: asyncpg.Pool, request_id: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE work_items SET lease_expires_at = now() - interval '1 second'"
            " WHERE request_id = $1",
            uuid.UUID(request_id),
        )


async def test_an_expired_lease_makes_the_item_claimable_again(
    workflow: Workflow, store: Store, pool: asyncpg.Pool
) -> None:
    event = classified("energy_aid", "high")
    await store(event)
    alice, bob = person("alice"), person("bob")
    assert (await workflow.claim(alice, "energy_aid") or {})["claimed_by"] == "alice"
    assert await workflow.claim(bob, "energy_aid") is None  # held: nothing for bob
    await _expire(pool, event.request_id)
    taken = await workflow.claim(bob, "energy_aid")
    assert taken is not None and str(taken["request_id"]) == event.request_id
    assert taken["previous_holder"] == "alice"
    with pytest.raises(Conflict, match="claimed by bob") as err:
        await workflow.complete(alice, event.request_id)
    assert err.value.code == "claimed_by_other"
    async with pool.acquire() as conn:
        events = await conn.fetch(
            "SELECT event, actor, details FROM audit_events WHERE request_id = $1 ORDER BY id",
            uuid.UUID(event.request_id),
        )
    assert [(e["event"], e["actor"]) for e in events] == [
        ("routed", "router"),
        ("claimed", "alice"),
        ("lease_expired", "router"),
        ("claimed", "bob"),
    ]
    assert events[2]["details"]["holder"] == "alice"


async def test_an_expired_item_is_served_in_priority_order(
    workflow: Workflow, store: Store, pool: asyncpg.Pool
) -> None:
    critical, low = classified("energy_aid", "critical"), classified("energy_aid", "low")
    await store(critical, low)
    alice, bob = person("alice"), person("bob")
    await workflow.claim(alice, "energy_aid")  # takes the critical one
    await _expire(pool, critical.request_id)
    assert str((await workflow.claim(bob, "energy_aid") or {})["request_id"]) == (
        critical.request_id
    )


async def test_heartbeat_extends_the_lease_and_the_holder_may_finish_after_expiry(
    workflow: Workflow, store: Store, pool: asyncpg.Pool
) -> None:
    event = classified("energy_aid")
    await store(event)
    alice = person("alice")
    claimed = await workflow.claim(alice, "energy_aid")
    assert claimed is not None
    await _expire(pool, event.request_id)
    lease = await workflow.heartbeat(alice, event.request_id)
    assert lease["lease_expires_at"] > datetime.now(UTC) + timedelta(seconds=50)
    await _expire(pool, event.request_id)  # expired, but nobody took it: still alice's
    done = await workflow.complete(alice, event.request_id)
    assert done["queue"] == "energy_aid" and not done["corrected"]
