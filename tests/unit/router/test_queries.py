"""The named-query loader and the migration file checks (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.router.db import QueryFileError, is_transient, load_queries, parse_queries
from services.router.migrate import Migration, MigrationError, discover, pending

# Every query name the code refers to.
USED = {
    "insert_routed",
    "insert_received",
    "claim_next",
    "heartbeat",
    "complete",
    "release",
    "reassign",
    "item_state",
    "lock_item",
    "apply_correction",
    "insert_correction",
    "insert_audit",
    "get_item",
    "item_history",
    "item_corrections",
    "list_items",
    "queue_has_open_items",
    "queue_stats",
    "request_status",
    "received_status",
    "export_completed",
    "purge_completed",
    "purge_received",
    "count_purgeable",
    "notify_queues",
}


def test_parse_named_blocks() -> None:
    queries = parse_queries(
        "-- header comment\n\n-- name: one\n-- what it does\nSELECT 1;\n\n"
        "-- name: two\nSELECT\n  2;\n"
    )
    assert queries.names() == ["one", "two"]
    assert queries.one == "-- what it does\nSELECT 1;"
    assert queries.two == "SELECT\n  2;"
    assert "one" in queries and "three" not in queries


def test_unknown_query_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no query named 'three'"):
        _ = parse_queries("-- name: one\nSELECT 1;").three


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;", "q.sql:3: query 'a' defined twice"),
        ("-- name: a\n-- only a comment\n-- name: b\nSELECT 1;", "q.sql:1: query 'a' is empty"),
        ("-- name: Bad-Name\nSELECT 1;", "q.sql:1: invalid query name 'Bad-Name'"),
    ],
)
def test_malformed_query_files(text: str, message: str) -> None:
    with pytest.raises(QueryFileError, match=message):
        parse_queries(text, "q.sql")


def test_the_router_queries_file_has_every_query_the_code_uses() -> None:
    names = set(load_queries().names())
    assert names >= USED, f"missing: {sorted(USED - names)}"
    assert names <= USED, f"unused queries: {sorted(names - USED)}"


def test_migration_files_are_numbered_without_gaps(tmp_path: Path) -> None:
    assert [m.version for m in discover()] == list(range(1, len(discover()) + 1))
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"0003_c\.sql: expected version 0002"):
        discover(tmp_path)
    (tmp_path / "0003_c.sql").unlink()
    (tmp_path / "2_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"expected NNNN_lower_case_name\.sql"):
        discover(tmp_path)


def test_pending_detects_edited_and_unknown_migrations() -> None:
    one, two = Migration(1, "0001_a", "SELECT 1;"), Migration(2, "0002_b", "SELECT 2;")
    assert pending([one, two], {1: one.checksum}) == [two]
    assert pending([one, two], {1: one.checksum, 2: two.checksum}) == []
    with pytest.raises(MigrationError, match=r"0001_a\.sql changed after it was applied"):
        pending([one, two], {1: "0" * 64})
    with pytest.raises(MigrationError, match=r"migration\(s\) \[3\]"):
        pending([one, two], {1: one.checksum, 2: two.checksum, 3: "x"})


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (_PgError("08006"), True),  # connection failure
        (_PgError("57P01"), True),  # admin shutdown
        (_PgError("40P01"), True),  # deadlock
        (_PgError("42P01"), True),  # table missing: not migrated yet
        (_PgError("22021"), False),  # bad encoding: the data, not the database
        (_PgError("23505"), False),
        (ValueError("x"), False),
    ],
)
def test_transient_errors(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient
