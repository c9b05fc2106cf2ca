"""`triage demo-history` on the real PostgreSQL: labelled synthetic items, never mixed
with real ones unless forced."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from services.router.rules import Routing
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store
from triage.demo_history import SOURCE
from triage.demo_history_cli import RealItemsPresent, fill

pytestmark = pytest.mark.integration
NOW = datetime(2025, 12, 1, 12, tzinfo=UTC)


async def test_fills_labelled_history_once(pool: asyncpg.Pool, routing: Routing) -> None:
    async with pool.acquire() as conn:
        written = await fill(conn, routing, 21, NOW)
        assert written > 1000
        assert await fill(conn, routing, 21, NOW) == written  # same ids: nothing doubled
        rows = await conn.fetch(
            "SELECT source, metadata, status, count(*) AS n FROM work_items "
            "GROUP BY 1, 2, 3 ORDER BY 3"
        )
    assert {r["source"] for r in rows} == {SOURCE}
    assert all(r["metadata"] == {"synthetic": True} for r in rows)
    assert sum(r["n"] for r in rows) == written
    assert {r["status"] for r in rows} == {"done", "claimed", "waiting"}


async def test_refuses_a_database_with_real_items(
    pool: asyncpg.Pool, routing: Routing, store: Store
) -> None:
    await store(classified())
    async with pool.acquire() as conn:
        with pytest.raises(RealItemsPresent, match="1 items that are not synthetic"):
            await fill(conn, routing, 7, NOW)
        assert await fill(conn, routing, 7, NOW, force=True) > 100
