"""The KPI rollup against the exact SQL on a seeded database (issue 17).

A random history over two months (DST change included): every period and breakdown
read from the rollup equals ``kpi_periods_exact`` (``kpi_exact.sql`` beside this test)
— counts exactly, medians and p90 within the histogram's bound — also after the
items change (claims, completions, corrections, replays) and the refresh recomputes
the days they touched.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.router.db import NamedQueries, load_named
from services.router.kpi_rollup import RELATIVE_ERROR
from services.router.kpi_store import (
    HistoryRow,
    KpiStore,
    insert_history,
    load_kpi_queries,
    refresh_all,
    refresh_rollup,
)
from services.router.kpis import BREAKDOWNS, PERIODS, KpiRequest, kpi_row
from services.router.rules import Routing

pytestmark = pytest.mark.integration

FIRST, LAST = date(2025, 9, 15), date(2025, 11, 14)
NOW = datetime(2025, 11, 10, 12, tzinfo=UTC)
QUEUES = ("energy_aid", "housing", "tax")


def history(n: int, seed: int = 17) -> list[HistoryRow]:
    rng = random.Random(seed)
    span = (LAST - FIRST).days * 86400
    rows = []
    for i in range(n):
        received = datetime(2025, 9, 15, tzinfo=UTC) + timedelta(seconds=rng.uniform(0, span))
        queue, urgency = rng.choice(QUEUES), rng.choice(("critical", "high", "normal", "low"))
        claim = rng.choice([None, rng.uniform(0, 0.9), rng.lognormvariate(9, 2)])
        done = None if claim is None or rng.random() < 0.3 else claim + rng.lognormvariate(10, 1.5)
        rows.append(
            HistoryRow(
                request_id=uuid.UUID(int=10_000 + i),
                received_at=received,
                language=rng.choice(("fr", "nl", "en")),
                type=queue,
                model_type=queue if rng.random() < 0.9 else "other",
                urgency=urgency,
                model_urgency=urgency if rng.random() < 0.8 else "normal",
                needs_review=rng.random() < 0.2,
                queue=queue,
                priority=3,
                due_at=received + timedelta(days=rng.uniform(0.5, 6)),
                first_claimed_at=None if claim is None else received + timedelta(seconds=claim),
                completed_at=None if done is None else received + timedelta(seconds=done),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class ExactQueries(NamedQueries):
    kpi_periods_exact: str


EXACT = load_named(ExactQueries, Path(__file__).with_name("kpi_exact.sql"))


async def exact(conn: asyncpg.Connection, store: KpiStore, ask: KpiRequest,
                visible: list[str] | None) -> list[dict[str, Any]]:  # fmt: skip
    start, end = ask.bounds(store.tz)
    rows = await conn.fetch(
        EXACT.kpi_periods_exact,
        start,
        end,
        ask.period,
        ask.by,
        ask.queue,
        visible,
        store.tz.key,
        NOW,
    )
    return [kpi_row(r) for r in rows]


def assert_same(rollup: list[dict[str, Any]], reference: list[dict[str, Any]]) -> None:
    assert [(r["period"], r["key"]) for r in rollup] == [(r["period"], r["key"]) for r in reference]
    for got, want in zip(rollup, reference, strict=True):
        for name, value in want.items():
            if name.endswith("_s") and value is not None:
                assert got[name] == pytest.approx(value, rel=RELATIVE_ERROR, abs=0.5), name
            elif isinstance(value, float):
                assert got[name] == pytest.approx(value), name
            else:
                assert got[name] == value, (name, got["period"], got["key"])


async def compare_all(pool: asyncpg.Pool, store: KpiStore) -> None:
    async with pool.acquire() as conn:
        for period in PERIODS:
            for by in BREAKDOWNS:
                ask = KpiRequest(FIRST, LAST, period, by)
                reference = await exact(conn, store, ask, None)
                assert_same(await store.periods(ask, None, NOW), reference)
        for period in ("week", "month"):  # whole periods only: their own rows
            ask = KpiRequest(date(2025, 9, 29), date(2025, 11, 2), period, "language")
            assert_same(await store.periods(ask, None, NOW), await exact(conn, store, ask, None))
        ask = KpiRequest(date(2025, 10, 20), date(2025, 11, 2), "day", "urgency", "housing")
        assert_same(
            await store.periods(ask, ["housing", "tax"], NOW),
            await exact(conn, store, ask, ["housing", "tax"]),
        )


@pytest.fixture
async def seeded(pool: asyncpg.Pool, routing: Routing) -> KpiStore:
    queries = load_kpi_queries()
    async with pool.acquire() as conn:
        await insert_history(conn, queries, history(3000), "test", "m1")
        assert await refresh_all(conn, queries, routing.tz) == (LAST - FIRST).days + 1
    return KpiStore(pool, queries, routing.tz)


async def test_rollup_answers_equal_the_exact_sql(pool: asyncpg.Pool, seeded: KpiStore) -> None:
    await compare_all(pool, seeded)


async def test_changes_recompute_their_days_and_replays_count_once(
    pool: asyncpg.Pool, seeded: KpiStore
) -> None:
    async with pool.acquire() as conn:
        assert await refresh_rollup(conn, seeded.q, seeded.tz) == []  # nothing changed
        await conn.execute(  # corrections, first claims, completions of old items
            """UPDATE work_items SET type = 'tax', queue = 'tax', urgency = 'high'
               WHERE request_id = ANY($1::uuid[])""",
            [uuid.UUID(int=10_000 + i) for i in range(0, 300, 7)],
        )
        await conn.execute(
            """UPDATE work_items SET status = 'done', claimed_by = NULL,
                   lease_expires_at = NULL, completed_by = 'agent',
                   first_claimed_at = coalesce(first_claimed_at, received_at + interval '1 h'),
                   completed_at = received_at + interval '3 days'
               WHERE status <> 'done' AND request_id = ANY($1::uuid[])""",
            [uuid.UUID(int=10_000 + i) for i in range(0, 3000, 5)],
        )
        # a lease renewal touches no KPI column: no day to recompute
        marks = await conn.fetchval("SELECT count(*) FROM kpi_dirty")
        await conn.execute("UPDATE work_items SET updated_at = now()")
        assert await conn.fetchval("SELECT count(*) FROM kpi_dirty") == marks
        await insert_history(conn, seeded.q, history(3000), "test", "m1")  # replayed
        assert await refresh_all(conn, seeded.q, seeded.tz) > 0
    await compare_all(pool, seeded)


async def test_the_rollup_holds_counts_only(pool: asyncpg.Pool, seeded: KpiStore) -> None:
    """No id, no text from a request: nothing that erasure or purge would have to remove."""
    async with pool.acquire() as conn:
        columns = await conn.fetch(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_name = 'kpi_rollup' AND data_type IN ('text', 'uuid', 'jsonb')"""
        )
        assert {c["column_name"] for c in columns} == {"grain", "dim", "queue", "key"}
        keys = await conn.fetch("SELECT DISTINCT queue, key FROM kpi_rollup")
    values = {k["key"] for k in keys} | {k["queue"] for k in keys}
    known = {*QUEUES, "other", "fr", "nl", "en", "critical", "high", "normal", "low", "m1"}
    assert values <= {*known, "all", "*"}


async def test_a_new_time_zone_rebuilds_every_day(pool: asyncpg.Pool, seeded: KpiStore) -> None:
    from zoneinfo import ZoneInfo

    async with pool.acquire() as conn:
        days = await refresh_all(conn, seeded.q, ZoneInfo("America/New_York"))
        assert days >= (LAST - FIRST).days + 1
        assert await conn.fetchval("SELECT zone FROM kpi_rollup_state") == "America/New_York"
        await refresh_all(conn, seeded.q, seeded.tz)
    await compare_all(pool, seeded)


async def test_the_kpi_rollup_command_rolls_history_up(
    migrated_url: str, pool: asyncpg.Pool
) -> None:
    import argparse

    from services.router.settings import DEFAULT_RULES
    from triage.kpi_rollup_cli import _run

    async with pool.acquire() as conn:
        await insert_history(conn, load_kpi_queries(), history(200), "test", "m1")
        assert await conn.fetchval("SELECT count(*) FROM kpi_rollup") == 0
    assert await _run(argparse.Namespace(database_url=migrated_url, rules=DEFAULT_RULES)) == 0
    async with pool.acquire() as conn:
        total = await conn.fetchval(
            "SELECT sum(received) FROM kpi_rollup WHERE grain = 'month' AND dim = 'all'"
            " AND queue = '*'"
        )
        assert total == 200 and await conn.fetchval("SELECT count(*) FROM kpi_dirty") == 0
