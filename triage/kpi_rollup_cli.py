"""``triage kpi-rollup``: bring the daily KPI rollup up to date now.

The router does this by itself every ``router_kpi_refresh_s``; run it after
migration 0010 on a database with history (it rolls up every past day in
transactions of a month each) or after loading history by hand. Safe while the
router runs: refreshes take turns (an advisory lock) and recompute whole days.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time

import asyncpg

from services.router.kpi_store import load_kpi_queries, refresh_all
from services.router.migrate import check_current
from services.router.rules import load_rules
from services.router.settings import DEFAULT_RULES

log = logging.getLogger(__name__)


async def _run(args: argparse.Namespace) -> int:
    tz = load_rules(args.rules).tz  # the router's zone: the rollup's days are local days
    conn = await asyncpg.connect(args.database_url)
    try:
        await check_current(conn)
        began = time.perf_counter()
        days = await refresh_all(conn, load_kpi_queries(), tz)
    finally:
        await conn.close()
    took = time.perf_counter() - began
    log.info("KPI rollup current: %d day(s) recomputed in %.1f s", days, took)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="triage kpi-rollup", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("TRIAGE_DATABASE_URL"), help="default: env"
    )
    parser.add_argument("--rules", default=DEFAULT_RULES, help="routing rules (time zone)")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set TRIAGE_DATABASE_URL or pass --database-url (source .triage/stack.env)")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return asyncio.run(_run(args))
