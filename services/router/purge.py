"""``triage purge``: remove the personal data of items older than the retention period.

Items completed before the cutoff, and items still open since before it
(abandoned), go through the same per-table statements as ``triage erase``
(``sql/erase.sql``): request text, intake reference, explanation snippets and
agents' free-text reasons, the item's letters and its related-case data
(identifier hashes, embeddings, duplicate links) are erased; the item keeps its routing and workflow
columns, so statistics stay right, and the audit trail keeps its rows as
tombstones, with a 'purged' event added. Runs in small transactions, so it can
run while the router works; schedule it daily (a Kubernetes CronJob).

Requests ingest accepted before the cutoff that never became a work item (dead-lettered
and never replayed) lose their intake ledger row and stored files the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from services.router.db import init_connection, load_queries
from services.router.erase import erase_requests

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class PurgeResult:
    items: int
    received: int
    unrouted: int = 0  # accepted by ingest, never routed: ledger row and files erased


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=days)


async def purge(conn: asyncpg.Connection, cutoff: datetime, batch: int = BATCH) -> PurgeResult:
    q = load_queries()
    details = {"cutoff": cutoff.isoformat()}

    async def erase_all(batch_sql: str) -> int:
        """Erase batch after batch of what ``batch_sql`` selects; how many requests."""
        done = 0
        while True:
            ids = [r["request_id"] for r in await conn.fetch(batch_sql, cutoff, batch)]
            await erase_requests(conn, ids, event="purged", actor="retention", details=details)
            done += len(ids)
            if len(ids) < batch:
                return done

    items = await erase_all(q.purgeable_batch)
    unrouted = await erase_all(q.unrouted_batch)
    status = await conn.execute(q.purge_received, cutoff)
    received = int(status.split()[-1]) if status.startswith("DELETE") else 0
    log.info(
        "purged %d item(s) completed or queued before %s, %d received record(s),"
        " %d request(s) never routed",
        items,
        cutoff.isoformat(),
        received,
        unrouted,
    )
    return PurgeResult(items, received, unrouted)


async def _run(dsn: str, days: int, dry_run: bool) -> str:
    cutoff = cutoff_for(days)
    conn = await asyncpg.connect(dsn)
    try:
        await init_connection(conn)
        if dry_run:
            items, unrouted = await conn.fetchrow(load_queries().count_purgeable, cutoff)
            return (
                f"would purge {items} item(s) completed or queued before "
                f"{cutoff:%Y-%m-%d %H:%M} UTC and {unrouted} request(s) never routed"
            )
        result = await purge(conn, cutoff)
        return (
            f"purged {result.items} item(s) completed or queued before "
            f"{cutoff:%Y-%m-%d %H:%M} UTC "
            f"and {result.received} received record(s), {result.unrouted} request(s) never routed"
        )
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    from services.router.settings import RouterSettings
    from shared.logs import setup_logging

    settings = RouterSettings()  # type: ignore[call-arg]
    parser = argparse.ArgumentParser(prog="triage purge", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--older-than",
        type=int,
        metavar="DAYS",
        default=settings.router_retention_days,
        help="retention in days (default TRIAGE_ROUTER_RETENTION_DAYS = "
        f"{settings.router_retention_days})",
    )
    parser.add_argument("--dry-run", action="store_true", help="only count what would go")
    args = parser.parse_args(argv)
    if args.older_than < 1:
        parser.error("--older-than must be at least 1 day")
    setup_logging(settings.log_level, settings.log_format, "purge")
    try:
        message = asyncio.run(
            _run(settings.database_url.get_secret_value(), args.older_than, args.dry_run)
        )
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"triage purge: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0
