"""KPI and arrival reads from PostgreSQL (``sql/kpis.sql``), for the API and the page."""

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
from services.router.kpis import KpiRequest, kpi_row


@dataclass(frozen=True, slots=True)
class KpiQueries(NamedQueries):
    """The named statements of ``services/router/sql/kpis.sql``."""

    kpi_periods: str
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


class KpiStore:
    def __init__(self, pool: asyncpg.Pool, queries: KpiQueries, tz: ZoneInfo) -> None:
        self.pool = pool
        self.q = queries
        self.tz = tz

    async def periods(
        self, request: KpiRequest, visible: list[str] | None, now: datetime
    ) -> list[dict[str, Any]]:
        start, end = request.bounds(self.tz)
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                self.q.kpi_periods,
                start,
                end,
                request.period,
                request.by,
                request.queue,
                visible,
                self.tz.key,
                now,
            )
        return [kpi_row(r) for r in rows]

    async def arrivals(
        self, first: date, last: date, queue: str | None, visible: list[str] | None
    ) -> dict[str, dict[date, int]]:
        """Requests per local day and queue, days ``first`` .. ``last`` inclusive."""
        start, end = KpiRequest(first, last).bounds(self.tz)
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(self.q.daily_arrivals, start, end, self.tz.key, queue, visible)
        out: dict[str, dict[date, int]] = defaultdict(dict)
        for row in rows:
            out[row["queue"]][row["day"]] = row["arrivals"]
        return dict(out)
