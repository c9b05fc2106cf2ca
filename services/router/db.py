"""The connection pool and the named-query loader.

Every statement lives in a ``.sql`` file as a block introduced by
``-- name: <identifier>``; Python code refers to queries by name only, so the
SQL can be read, reviewed and explained (EXPLAIN) on its own. The names are
attributes of the :class:`Queries` dataclass, checked by mypy at the call sites
and against the file when it is loaded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

log = logging.getLogger(__name__)

T = TypeVar("T")

SQL_DIR = Path(__file__).with_name("sql")
_NAME = re.compile(r"^--\s*name:\s*(\S+)\s*$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class QueryFileError(ValueError):
    """A malformed queries file, or one that disagrees with :class:`Queries`."""


# One annotated attribute per ``-- name:`` block, so that mypy rejects a misspelt
# name (``queries.claim_nxt``) before anything runs, and the loader rejects a file
# that has a block more or less than this class. Plain ``str`` slots: reading one
# costs what reading any attribute costs, nothing per call (the claim path is hot).
@dataclass(frozen=True, slots=True)
class Queries:
    """The router's named SQL statements (``services/router/sql/queries.sql``)."""

    insert_routed: str
    insert_received: str
    claim_next: str
    heartbeat: str
    complete: str
    release: str
    reassign: str
    item_state: str
    lock_item: str
    apply_correction: str
    insert_correction: str
    insert_audit: str
    get_item: str
    item_history: str
    item_corrections: str
    list_items: str
    queue_has_open_items: str
    queue_stats: str
    request_status: str
    received_status: str
    export_completed: str
    purge_completed: str
    purge_received: str
    notify_queues: str
    count_purgeable: str

    @classmethod
    def from_statements(cls, statements: Mapping[str, str], origin: str = "queries.sql") -> Queries:
        """The registry of ``statements``, which must name exactly this class's attributes."""
        return named_queries(cls, statements, origin)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def named_queries(cls: type[T], statements: Mapping[str, str], origin: str) -> T:
    """``cls`` (a dataclass of ``str`` fields) from ``statements``, which must name its fields."""
    expected = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    missing, extra = sorted(expected - statements.keys()), sorted(statements.keys() - expected)
    if missing or extra:
        raise QueryFileError(
            f"{origin} and {cls.__module__}.{cls.__name__} disagree: "
            f"missing from the file {missing}, not in the class {extra}"
        )
    return cls(**statements)


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


def load_queries(path: Path = SQL_DIR / "queries.sql") -> Queries:
    return Queries.from_statements(
        parse_statements(path.read_text(encoding="utf-8"), path.name), path.name
    )


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
