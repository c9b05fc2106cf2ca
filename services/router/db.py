"""The connection pool and the named-query loader.

Every statement lives in a ``.sql`` file as a block introduced by
``-- name: <identifier>``; Python code refers to queries by name only, so the
SQL can be read, reviewed and explained (EXPLAIN) on its own. The names are
attributes of the :class:`Queries` dataclass, checked by mypy at the call sites
and against the file when it is loaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import asyncpg

# The pool and the file format are shared with ingest and the classifier (shared.db);
# re-exported here for the router's modules and tests.
from shared.db import (  # noqa: F401
    QueryFileError,
    create_pool,
    init_connection,
    parse_statements,
)

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).with_name("sql")


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
        expected = {f.name for f in fields(cls)}
        missing, extra = sorted(expected - statements.keys()), sorted(statements.keys() - expected)
        if missing or extra:
            raise QueryFileError(
                f"{origin} and services.router.db.Queries disagree: "
                f"missing from the file {missing}, not in the class {extra}"
            )
        return cls(**statements)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def load_queries(path: Path = SQL_DIR / "queries.sql") -> Queries:
    return Queries.from_statements(
        parse_statements(path.read_text(encoding="utf-8"), path.name), path.name
    )


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
