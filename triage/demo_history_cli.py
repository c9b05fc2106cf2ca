"""``triage demo-history``: fill a local database with a synthetic year of history.

For demos and trying the KPI page and forecasts on a fresh ``make run``. Every
item is labelled synthetic (``source = synthetic-demo``, ``metadata.synthetic``,
request text saying so). Refuses a database that holds any other item — real
requests must never be mixed with invented ones — unless ``--force``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg

from services.router.kpi_store import (
    HistoryRow,
    KpiQueries,
    insert_history,
    load_kpi_queries,
    refresh_all,
)
from services.router.migrate import migrate
from services.router.rules import Routing, load_rules
from services.router.settings import DEFAULT_RULES
from triage.demo_history import SOURCE, SyntheticItem, items

log = logging.getLogger("triage.demo_history")
MODEL_VERSION = "synthetic-demo"
CHUNK = 5000


class RealItemsPresent(RuntimeError):
    pass


def history_rows(generated: Iterable[SyntheticItem], routing: Routing) -> Iterator[HistoryRow]:
    """Synthetic items as work items: request ids derived from the item, due dates by
    the real routing rules (SLA per urgency, Belgian working days)."""
    for n, item in enumerate(generated):
        route = routing.route(item.queue, item.urgency, False, item.received_at)
        waited = item.waited_s
        handled = item.handled_s
        yield HistoryRow(
            request_id=uuid.uuid5(uuid.NAMESPACE_URL, f"triage:{SOURCE}:{n}"),
            received_at=item.received_at,
            language=item.language,
            type=item.queue,
            model_type=item.model_type,
            urgency=item.urgency,
            model_urgency=item.model_urgency,
            needs_review=item.needs_review,
            queue=route.queue,
            priority=route.priority,
            due_at=route.due_at,
            first_claimed_at=None
            if waited is None
            else item.received_at + timedelta(seconds=waited),
            completed_at=None if handled is None else item.received_at + timedelta(seconds=handled),
        )


async def fill(
    conn: asyncpg.Connection,
    routing: Routing,
    days: int,
    now: datetime,
    force: bool = False,
    queries: KpiQueries | None = None,
) -> int:
    """Write ``days`` days of synthetic history ending yesterday; returns the item count."""
    queries = queries or load_kpi_queries()
    real = await conn.fetchval(queries.count_real_items, SOURCE)
    if real and not force:
        raise RealItemsPresent(
            f"the database holds {real} items that are not synthetic: refusing to mix "
            "invented history with them (use --force on a throw-away database only)"
        )
    start = now.astimezone(routing.tz).date() - timedelta(days=days)
    generated = items(start, days, routing.calendar.is_working_day, now, routing.tz)
    count, chunk = 0, []
    for row in history_rows(generated, routing):
        chunk.append(row)
        if len(chunk) == CHUNK:
            await insert_history(conn, queries, chunk, SOURCE, MODEL_VERSION)
            count, chunk = count + len(chunk), []
    if chunk:
        await insert_history(conn, queries, chunk, SOURCE, MODEL_VERSION)
    await refresh_all(conn, queries, routing.tz)  # the KPI page shows it at once
    return count + len(chunk)


async def _run(args: argparse.Namespace) -> int:
    conn = await asyncpg.connect(args.database_url)
    try:
        await migrate(conn)
        routing = load_rules(args.rules)
        count = await fill(conn, routing, args.days, datetime.now(UTC), args.force)
    except RealItemsPresent as exc:
        log.error("%s", exc)
        return 3
    finally:
        await conn.close()
    log.info("wrote %d synthetic items (%d days, source %r)", count, args.days, SOURCE)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="triage demo-history",
        description="Fill a LOCAL database with a clearly labelled synthetic year of history.",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("TRIAGE_DATABASE_URL"), help="default: env"
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rules", default=DEFAULT_RULES, help="routing rules (due dates)")
    parser.add_argument(
        "--force", action="store_true", help="even if the database holds non-synthetic items"
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set TRIAGE_DATABASE_URL or pass --database-url (source .triage/stack.env)")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return asyncio.run(_run(args))
