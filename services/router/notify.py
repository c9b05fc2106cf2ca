"""PostgreSQL NOTIFY ``triage_queue_changed`` (payload: the queue name) for live views.

Why not a trigger: a transaction that issued NOTIFY takes a cluster-wide lock
at commit, so notifying from every claim and completion would serialise all of
them (measured: a third of the claim throughput). Instead the router collects
the queues it changed and sends one notification per queue every
``period_s`` from a background task — listeners (the web page) hear about a
change within that period, from whichever replica made it.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from services.router.db import Queries

log = logging.getLogger(__name__)

CHANNEL = "triage_queue_changed"


class QueueNotifier:
    def __init__(self, pool: asyncpg.Pool, queries: Queries, period_s: float = 0.25) -> None:
        self.pool = pool
        self.q = queries
        self.period_s = period_s
        self._pending: set[str] = set()

    def changed(self, *queues: str) -> None:
        self._pending.update(queues)

    async def flush(self) -> None:
        if not self._pending:
            return
        queues = sorted(self._pending)
        self._pending.clear()
        try:
            async with self.pool.acquire() as conn:
                await conn.execute(self.q.notify_queues, CHANNEL, queues)
        except Exception as exc:  # listeners also poll; try again next period
            self._pending.update(queues)
            log.warning("queue change notification failed: %s", type(exc).__name__)

    async def run(self) -> None:
        """Background task: flush every period until cancelled (then flush once more)."""
        try:
            while True:
                await asyncio.sleep(self.period_s)
                await self.flush()
        finally:
            await asyncio.shield(self.flush())


def ignore(*queues: str) -> None:
    """A notifier for tools that have no listeners (export, purge, benchmarks)."""
