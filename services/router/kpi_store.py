"""KPI and arrival reads from PostgreSQL (``sql/kpis.sql``), for the API and the page,
and the refresh of the rollup they read."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.router.db import SQL_DIR, NamedQueries, load_named
from services.router.kpi_rollup import assemble, day_bounds
from services.router.kpis import KpiRequest, kpi_row

# Arbitrary constant: one rollup refresh at a time (pg_advisory_xact_lock key).
REFRESH_LOCK = 0x7472696167650017
# Days recomputed per transaction: a backfill of a year is a series of short ones.
REFRESH_DAYS = 31


@dataclass(frozen=True, slots=True)
class KpiQueries(NamedQueries):
    """The named statements of ``services/router/sql/kpis.sql``."""

    kpi_periods: str
    kpi_open_past_due: str
    kpi_rollup_zone: str
    kpi_rollup_rezone: str
    kpi_dirty_days: str
    kpi_dirty_take: str
    kpi_rollup_clear: str
    kpi_rollup_fill: str
    kpi_rollup_fill_periods: str
    daily_arrivals: str
    insert_history: str
    count_real_items: str


def load_kpi_queries(path: Path = SQL_DIR / "kpis.sql") -> KpiQueries:
    return load_named(KpiQueries, path)


@dataclass(frozen=True)
class HistoryRow:
    """One item with a past, for ``insert_history`` (demo history, tests)."""

    request_id: uuid.UUID
    received_at: datetime
    language: str
    type: str
    model_type: str
    urgency: str
    model_urgency: str
    needs_review: bool
    queue: str
    priority: int
    due_at: datetime
    first_claimed_at: datetime | None = None
    completed_at: datetime | None = None


async def insert_history(
    conn: asyncpg.Connection,
    queries: KpiQueries,
    rows: list[HistoryRow],
    source: str,
    model_version: str,
) -> None:
    columns = [f.name for f in fields(HistoryRow)]
    arrays = [[getattr(r, c) for r in rows] for c in columns]
    await conn.execute(queries.insert_history, source, model_version, *arrays)


async def refresh_rollup(
    conn: asyncpg.Connection, queries: KpiQueries, tz: ZoneInfo, max_days: int = REFRESH_DAYS
) -> list[date]:
    """Recompute the rollup rows of (at most ``max_days``) days whose items changed;
    returns those days (empty: the rollup is current). One transaction: the marks
    taken and the rows rewritten commit together, so a failure leaves both as they
    were, and a replay of the same change merely recomputes the same day again."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", REFRESH_LOCK)
        if await conn.fetchval(queries.kpi_rollup_zone) != tz.key:
            await conn.execute(queries.kpi_rollup_rezone, tz.key)
        days = [r["day"] for r in await conn.fetch(queries.kpi_dirty_days, tz.key, max_days)]
        if days:
            await conn.execute(queries.kpi_dirty_take, tz.key, days)
            await conn.execute(queries.kpi_rollup_clear, days)
            await conn.execute(queries.kpi_rollup_fill, *day_bounds(days, tz), tz.key)
            await conn.execute(queries.kpi_rollup_fill_periods, days)
    return days


async def refresh_all(conn: asyncpg.Connection, queries: KpiQueries, tz: ZoneInfo) -> int:
    """Refresh batch after batch until one is not full (a backfill); returns the days
    recomputed. Stopping there, not at "nothing dirty", ends the loop under steady
    writes too: today is marked again all the time, the next round takes it."""
    total = 0
    while True:
        days = await refresh_rollup(conn, queries, tz)
        total += len(days)
        if len(days) < REFRESH_DAYS:
            return total


class KpiStore:
    def __init__(self, pool: asyncpg.Pool, queries: KpiQueries, tz: ZoneInfo) -> None:
        self.pool = pool
        self.q = queries
        self.tz = tz

    async def periods(
        self, request: KpiRequest, visible: list[str] | None, now: datetime
    ) -> list[dict[str, Any]]:
        """The KPI rows: sums of the rollup (as of its last refresh) and, live, the open
        items past due at ``now`` (the one figure that changes with the clock alone)."""
        start, end = request.bounds(self.tz)
        async with self.pool.acquire() as conn:
            sums = await conn.fetch(
                self.q.kpi_periods,
                request.start,
                request.end,
                request.period,
                request.by,
                request.queue,
                visible,
            )
            live = await conn.fetch(
                self.q.kpi_open_past_due,
                start,
                end,
                request.period,
                request.by,
                request.queue,
                visible,
                self.tz.key,
                now,
            )
        past_due = {(r["period"], r["key"]): r["open_past_due"] for r in live}
        return [kpi_row(r) for r in assemble(sums, past_due)]

    async def arrivals(
        self, first: date, last: date, queue: str | None, visible: list[str] | None
    ) -> dict[str, dict[date, int]]:
        """Requests per local day and queue, days ``first`` .. ``last`` inclusive."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(self.q.daily_arrivals, first, last, queue, visible)
        out: dict[str, dict[date, int]] = defaultdict(dict)
        for row in rows:
            out[row["queue"]][row["day"]] = row["arrivals"]
        return dict(out)

    async def refresh(self) -> int:
        async with self.pool.acquire() as conn:
            return await refresh_all(conn, self.q, self.tz)
