"""``make bench-kpis``: the KPI queries on a year of history (1 million items).

Seeds a fresh database with ``--items`` items spread over a year (eleven queues,
request text of a typical size so that the table is as wide as a real one), runs
VACUUM ANALYZE (what autovacuum does to a year of settled history), rolls the
history up (``refresh_all``: the backfill after migration 0010), then times each
KPI read as the API and the page run it (the rollup's sums plus the live count of
open items past due), and the refresh of one changed day with and without the
index ``work_items_received`` it reads through. Uses ``TRIAGE_DATABASE_URL`` as
the server when set, else starts a private one.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from benchmarks.e2e.report import update_docs
from benchmarks.machine import cpu_name
from services.router.db import load_queries
from services.router.kpi_rollup import assemble
from services.router.kpi_store import KpiQueries, load_kpi_queries, refresh_all, refresh_rollup
from services.router.kpis import KpiRequest, kpi_row
from services.router.migrate import migrate
from services.router.rules import load_rules
from services.router.settings import DEFAULT_RULES

log = logging.getLogger(__name__)
SECTION = "## KPI queries on a year of history"
TZ = "Europe/Brussels"
END = date(2026, 11, 30)
QUEUES = load_rules(DEFAULT_RULES).queues  # the demo rules' eleven queues

SEED = """
INSERT INTO work_items (request_id, source, external_id, channel, received_at, subject, body,
    attachments, metadata, language, type, urgency, needs_review, model_type, model_urgency,
    model_version, classification, classified_at, queue, priority, due_at, status,
    first_claimed_at, claimed_at, claimed_by, lease_expires_at, completed_at, completed_by)
SELECT gen_random_uuid(), 'bench', 'k-' || g, 'web', r.at, 'Demande', $2, '[]', '{}',
    (ARRAY['fr', 'nl', 'en'])[1 + g % 3], q.name, u.urgency, g % 7 = 0,
    CASE WHEN g % 25 = 0 THEN 'housing' ELSE q.name END, u.urgency, 'm' || (g % 3),
    '{}', r.at, q.name, u.priority, r.at + make_interval(days => u.priority * 3),
    s.status, s.claimed, s.claimed, s.holder, s.lease, s.done, s.doer
FROM generate_series(1, $1) AS g
CROSS JOIN LATERAL (SELECT $3::timestamptz - make_interval(secs => 365 * 86400.0 * g / $1)
                    AS at) AS r
CROSS JOIN LATERAL (SELECT ($4::text[])[1 + (g::bigint * 7919) % 11] AS name) AS q
CROSS JOIN LATERAL (SELECT (ARRAY['critical', 'high', 'normal', 'low'])[1 + g % 4] AS urgency,
                           1 + g % 4 AS priority) AS u
CROSS JOIN LATERAL (SELECT
    CASE WHEN r.at > $3 - interval '10 days' AND g % 3 = 0 THEN 'waiting'
         WHEN r.at > $3 - interval '10 days' AND g % 3 = 1 THEN 'claimed' ELSE 'done' END
        AS status) AS st
CROSS JOIN LATERAL (SELECT st.status,
    CASE WHEN st.status <> 'waiting' THEN r.at + make_interval(secs => (g % 172800)) END
        AS claimed,
    CASE WHEN st.status = 'claimed' THEN 'agent' END AS holder,
    CASE WHEN st.status = 'claimed' THEN $3 + interval '1 hour' END AS lease,
    CASE WHEN st.status = 'done' THEN r.at + make_interval(secs => 3600 + (g * 31) % 864000)
        END AS done,
    CASE WHEN st.status = 'done' THEN 'agent' END AS doer) AS s
"""
BODY = "Bonjour, je vous écris au sujet de ma demande d'aide pour la facture. " * 5


Case = Callable[[asyncpg.Connection], Awaitable[Any]]
ZONE = ZoneInfo(TZ)
NOW = datetime.combine(END, datetime.min.time(), UTC)


def kpi_case(
    kq: KpiQueries,
    days: int,
    period: str,
    by: str,
    queue: str | None = None,
    visible: list[str] | None = None,
) -> Case:
    """What ``KpiStore.periods`` runs: the rollup's sums, the live open items past due."""
    ask = KpiRequest(END - timedelta(days=days - 1), END, period, by, queue)  # type: ignore[arg-type]
    start, end = ask.bounds(ZONE)

    async def run(conn: asyncpg.Connection) -> Any:
        sums = await conn.fetch(kq.kpi_periods, ask.start, ask.end, period, by, queue, visible)
        live = await conn.fetch(
            kq.kpi_open_past_due, start, end, period, by, queue, visible, TZ, NOW
        )
        past_due = {(r["period"], r["key"]): r["open_past_due"] for r in live}
        return [kpi_row(r) for r in assemble(sums, past_due)]

    return run


def query_case(sql: str, *args: Any) -> Case:
    async def run(conn: asyncpg.Connection) -> Any:
        return await conn.fetch(sql, *args)

    return run


def cases(kq: KpiQueries, q: Any) -> dict[str, Case]:
    """name -> what the API and the page ask."""
    return {
        "12 weeks, by week (page default)": kpi_case(kq, 84, "week", "all"),
        "12 weeks, by week and queue": kpi_case(kq, 84, "week", "queue"),
        "12 weeks, by day, one queue": kpi_case(kq, 84, "day", "all", "housing"),
        "a year, by month and type": kpi_case(kq, 365, "month", "type"),
        "a year, by week and queue": kpi_case(kq, 365, "week", "queue"),
        "a year, by week and urgency": kpi_case(kq, 365, "week", "urgency"),
        # a lead whose identity lists every queue: the per-queue rows, not the '*' sums
        "a year, by week and urgency, a lead of all queues": kpi_case(
            kq, 365, "week", "urgency", visible=list(QUEUES)
        ),
        "daily arrivals, 182 days (forecast)": query_case(
            kq.daily_arrivals, END - timedelta(days=181), END, None, None
        ),
        "backlog (queue_stats)": query_case(q.queue_stats),
    }


async def time_case(conn: asyncpg.Connection, case: Case, runs: int) -> list[float]:
    await case(conn)  # warm: plans (asyncpg caches the prepared statements) and pages
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        await case(conn)
        out.append((time.perf_counter() - began) * 1000)
    return out


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


async def time_day_refresh(conn: asyncpg.Connection, kq: KpiQueries, runs: int) -> list[float]:
    """One changed day recomputed (what the router's task does after a completion)."""
    out = []
    for i in range(runs):
        day = END - timedelta(days=30 + i)
        slot = datetime.combine(day, datetime.min.time(), ZONE) + timedelta(hours=12)
        await conn.execute("INSERT INTO kpi_dirty (slot) VALUES (kpi_slot($1))", slot)
        began = time.perf_counter()
        assert await refresh_rollup(conn, kq, ZONE) == [day]
        out.append((time.perf_counter() - began) * 1000)
    return out


async def measure(conn: asyncpg.Connection, args: argparse.Namespace) -> dict[str, Any]:
    kq = load_kpi_queries()
    began = time.perf_counter()
    days = await refresh_all(conn, kq, ZONE)
    backfill = time.perf_counter() - began
    await conn.execute("ANALYZE kpi_rollup")
    log.info("rolled up %d days in %.0f s", days, backfill)
    sizes = await conn.fetchrow(
        """SELECT pg_size_pretty(pg_total_relation_size('work_items')) AS items,
                  pg_size_pretty(pg_total_relation_size('kpi_rollup')) AS rollup,
                  (SELECT count(*) FROM kpi_rollup) AS rows,
                  pg_size_pretty(pg_relation_size('work_items_received')) AS received,
                  pg_size_pretty(pg_relation_size('work_items_open')) AS open"""
    )
    queries = cases(kq, load_queries())
    load = [os.getloadavg()[0]]
    timed = {n: await time_case(conn, case, args.runs) for n, case in queries.items()}
    load.append(os.getloadavg()[0])
    refresh = await time_day_refresh(conn, kq, args.runs)
    await conn.execute("DROP INDEX work_items_received")
    without = await time_day_refresh(conn, kq, max(args.runs // 4, 3))
    return {
        "sizes": dict(sizes),
        "days": days,
        "backfill_s": backfill,
        "with": timed,
        "refresh": refresh,
        "refresh_without": without,
        "load": load,
    }


async def run(admin: str, args: argparse.Namespace) -> dict[str, Any]:
    name = f"triage_bench_kpis_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    from urllib.parse import urlsplit

    dsn = urlsplit(admin)._replace(path=f"/{name}").geturl()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        began = time.perf_counter()
        await conn.execute(SEED, args.items, BODY, NOW, QUEUES)
        await conn.execute("VACUUM ANALYZE work_items")
        log.info("seeded %d items in %.0f s", args.items, time.perf_counter() - began)
        return await measure(conn, args)
    finally:
        await conn.close()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def _ms(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):.0f} ms, p95 {p95(samples):.0f} ms"


def markdown(result: dict[str, Any], args: argparse.Namespace, server: str) -> str:
    rows = ["| query | p50 ms | p95 ms |", "|---|---:|---:|"]
    for name, samples in result["with"].items():
        rows.append(f"| {name} | {statistics.median(samples):.0f} | {p95(samples):.0f} |")
    worst = max(p95(samples) for samples in result["with"].values())
    verdict = "met" if worst < 500 else "NOT met"
    sizes, load = result["sizes"], result["load"]
    return "\n".join(
        [
            SECTION,
            "",
            f"`make bench-kpis` (`benchmarks/kpis/queries.py`), {platform.node()}: "
            f"{cpu_name(platform.machine())}, {os.cpu_count()} cores shared with other "
            f"engineers' builds and tests while it ran (1-minute load average "
            f"{load[0]:.1f} before the timed reads, {load[1]:.1f} after); "
            f"PostgreSQL {server}.",
            "",
            f"{args.items:,} items over a year, eleven queues (`work_items` with indexes: "
            f"{sizes['items']}), VACUUM ANALYZE after loading, then rolled up "
            f"(`refresh_all`, the backfill after migration 0010): {result['days']} days in "
            f"{result['backfill_s']:.0f} s, `kpi_rollup` {sizes['rows']:,} rows, "
            f"{sizes['rollup']}. Each read {args.runs} times after one warm-up, as the API "
            "runs it (the rollup rows, the live open items past due, the rows assembled "
            "in Python). Goal: p95 < 500 ms.",
            "",
            *rows,
            "",
            f"**Result: the goal is {verdict}** (slowest p95 {worst:.0f} ms). "
            "Before the rollup, the same reads straight from `work_items` with exact "
            "percentiles took p95 1–26 s on this machine under load (previous run).",
            "",
            "How: `kpi_rollup` (migration 0010) holds per local day, ISO week and month "
            "of reception, queue (and `*`, every queue) and breakdown key the counts and "
            "log-bucketed histograms (8 buckets per doubling) of handling and waiting "
            "time; a year by week reads one row per week and key. Medians and p90 are "
            "read from the merged histograms: within 4.4 % of `percentile_cont` "
            "(`services/router/kpi_rollup.py`; `tests/integration/router/test_kpi_rollup.py` "
            "compares every period and breakdown with the exact SQL).",
            "",
            "Indexes: no KPI read touches `work_items` except its open items, so the "
            "covering index `work_items_kpi` of 0007 is dropped. The refresh recomputes "
            "whole days of items (the router's task after completions or corrections, "
            "with their week and month): one changed day "
            f"{_ms(result['refresh'])} through `work_items_received` ({sizes['received']}), "
            f"{_ms(result['refresh_without'])} without it (a scan of every item). "
            f"`work_items_open` (open items only, {sizes['open']}) serves the live part.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-kpis", description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--docs", type=Path, default=None, help="update this markdown section")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench-kpis: %(message)s")
    dsn, server = os.environ.get("TRIAGE_DATABASE_URL"), None
    if not dsn:
        from stack.postgres import PostgresServer

        server = PostgresServer(Path(tempfile.mkdtemp(prefix="triage-bench-")), fast=True)
        server.start()
        dsn = server.dsn
    try:
        result = asyncio.run(run(dsn, args))
    finally:
        if server is not None:
            server.remove()
    text = markdown(result, args, "TRIAGE_DATABASE_URL" if server is None else "private")
    print(text)
    if args.docs is not None:
        update_docs(args.docs, text, SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
