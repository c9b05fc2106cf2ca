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
from typing import Any, ClassVar, Self, TypeVar

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

T = TypeVar("T")

SQL_DIR = Path(__file__).with_name("sql")


class NamedQueries:
    """A registry of named statements: one ``str`` attribute per ``-- name:`` block."""

    __slots__ = ()
    # Subclasses are dataclasses; this annotation tells type checkers so (for ``fields``).
    __dataclass_fields__: ClassVar[dict[str, Any]]

    @classmethod
    def from_statements(cls, statements: Mapping[str, str], origin: str = "queries.sql") -> Self:
        """The registry of ``statements``, which must name exactly this class's attributes."""
        expected = {f.name for f in fields(cls)}
        missing, extra = sorted(expected - statements.keys()), sorted(statements.keys() - expected)
        if missing or extra:
            raise QueryFileError(
                f"{origin} and {cls.__module__}.{cls.__name__} disagree: "
                f"missing from the file {missing}, not in the class {extra}"
            )
        return cls(**statements)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


# One annotated attribute per ``-- name:`` block, so that mypy rejects a misspelt
# name (``queries.claim_nxt``) before anything runs, and the loader rejects a file
# that has a block more or less than this class. Plain ``str`` slots: reading one
# costs what reading any attribute costs, nothing per call (the claim path is hot).
@dataclass(frozen=True, slots=True)
class Queries(NamedQueries):
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
    purge_received: str
    notify_queues: str
    count_purgeable: str
    revoke_session: str
    session_revoked: str
    purgeable_batch: str
    unrouted_batch: str
    erasure_audit: str
    find_mentions: str
    insert_confirmation: str
    model_agreement: str
    set_key_points: str


def load_queries(path: Path = SQL_DIR / "queries.sql") -> Queries:
    return load_named(Queries, path)


Q = TypeVar("Q", bound=NamedQueries)


def load_named(cls: type[Q], path: Path) -> Q:
    """The statements of ``path`` as a ``cls`` registry (checked against its attributes)."""
    return cls.from_statements(
        parse_statements(path.read_text(encoding="utf-8"), path.name), path.name
    )


# What an infrastructure failure is, by SQLSTATE, with a bounded cause for metrics and
# the readiness probe. Everything here says "the database is not usable right now"
# (credentials rotated, fail-over to a read-only server, a revoked grant, the database
# missing, the schema not migrated yet...), never "this item is bad": retrying the same
# batch later succeeds once an operator or the fail-over has fixed it, so none of these
# may dead-letter anything.
_CAUSE_BY_CLASS = {
    "08": "connection", "53": "resources", "57": "server", "58": "server",
    "40": "conflict", "28": "credentials", "3D": "database_missing",
}  # fmt: skip
_CAUSE_BY_STATE = {
    "25006": "read_only",  # read_only_sql_transaction: a standby or default_transaction_read_only
    "42501": "permission",  # insufficient_privilege: a grant revoked
    "42P01": "schema",  # undefined_table: not migrated yet
    "42703": "schema",  # undefined_column: not migrated yet
    "55006": "lock",  # object_in_use
    "55P03": "lock",  # lock_not_available
}


def infrastructure_cause(exc: BaseException) -> str | None:
    """A bounded name for why the database is unusable, or None when ``exc`` is bad data."""
    if isinstance(exc, OSError | asyncio.TimeoutError):
        return "connection"
    if isinstance(exc, asyncpg.InterfaceError):
        return "connection"
    state = getattr(exc, "sqlstate", None)
    if not isinstance(state, str):
        return None
    return _CAUSE_BY_STATE.get(state) or _CAUSE_BY_CLASS.get(state[:2])


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is a database/infrastructure failure rather than bad data."""
    return infrastructure_cause(exc) is not None


def record(row: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(row) if row is not None else None
