"""The connection pool and the named-query loader.

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
from pathlib import Path
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).with_name("sql")
_NAME = re.compile(r"^--\s*name:\s*(\S+)\s*$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class QueryFileError(ValueError):
    """A malformed queries file: duplicate, invalid or empty named query."""


class Queries:
    """Named SQL statements, accessed as attributes (``queries.claim_next``)."""

    def __init__(self, statements: dict[str, str]) -> None:
        self._statements = dict(statements)

    def __getattr__(self, name: str) -> str:
        try:
            return self._statements[name]
        except KeyError:
            raise AttributeError(f"no query named {name!r} in the queries file") from None

    def __contains__(self, name: str) -> bool:
        return name in self._statements

    def names(self) -> list[str]:
        return sorted(self._statements)


def parse_queries(text: str, origin: str = "queries.sql") -> Queries:
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
    return Queries(statements)


def _strip_comments(sql: str) -> str:
    return "\n".join(ln for ln in sql.splitlines() if not ln.strip().startswith("--")).strip()


def load_queries(path: Path = SQL_DIR / "queries.sql") -> Queries:
    return parse_queries(path.read_text(encoding="utf-8"), path.name)


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


# SQLSTATE classes that say "try again later", not "this item is bad".
_TRANSIENT_CLASSES = ("08", "53", "57", "58", "40")
_TRANSIENT_STATES = {"42P01", "42703", "55006", "55P03"}  # schema not migrated yet, locks


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is a database/infrastructure failure rather than bad data."""
    if isinstance(exc, OSError | asyncio.TimeoutError | asyncpg.InterfaceError):
        return True
    state = getattr(exc, "sqlstate", None)
    if not isinstance(state, str):
        return False
    return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_STATES


def record(row: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(row) if row is not None else None
