"""PostgreSQL pieces every service that has a database shares: the pool and the
named-query file format.

Every statement lives in a ``.sql`` file as a block introduced by
``-- name: <identifier>``; Python code refers to queries by name only, so the
SQL can be read, reviewed and explained (EXPLAIN) on its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

import asyncpg

log = logging.getLogger(__name__)

_NAME = re.compile(r"^--\s*name:\s*(\S+)\s*$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class QueryFileError(ValueError):
    """A malformed queries file, or one that disagrees with :class:`Queries`."""


def parse_statements(text: str, origin: str = "queries.sql") -> dict[str, str]:
    """Split ``text`` into ``-- name:`` blocks; text before the first block is a header."""
    statements: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    start = 0

    def finish() -> None:
        if name is None:
            return
        body = "\n".join(lines).strip()
        if not _strip_comments(body):
            raise QueryFileError(f"{origin}:{start}: query {name!r} is empty")
        statements[name] = body

    for number, line in enumerate(text.splitlines(), start=1):
        match = _NAME.match(line)
        if not match:
            lines.append(line)
            continue
        finish()
        name, lines, start = match[1], [], number
        if not _IDENT.match(name):
            raise QueryFileError(f"{origin}:{number}: invalid query name {name!r}")
        if name in statements:
            raise QueryFileError(f"{origin}:{number}: query {name!r} defined twice")
    finish()
    return statements


def _strip_comments(sql: str) -> str:
    return "\n".join(ln for ln in sql.splitlines() if not ln.strip().startswith("--")).strip()


async def init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns come back as Python objects and go in from Python objects.
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, connect_timeout_s: float = 30.0
) -> asyncpg.Pool:
    """A pool whose first connection is retried until ``connect_timeout_s`` (DB starting)."""
    deadline = time.monotonic() + connect_timeout_s
    delay = 0.2
    while True:
        try:
            pool: asyncpg.Pool = await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                init=init_connection,
                command_timeout=60,
            )
            return pool
        except (OSError, asyncpg.CannotConnectNowError, asyncpg.PostgresConnectionError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database not reachable yet (%s); retrying", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
