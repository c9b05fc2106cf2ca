"""The named-query loader and the migration file checks (no database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.router.db import (
    SQL_DIR,
    Queries,
    QueryFileError,
    infrastructure_cause,
    is_transient,
    load_queries,
    parse_statements,
)
from services.router.migrate import Migration, MigrationError, discover, pending

REPO = Path(__file__).resolve().parents[3]
# Where queries are used: the router and the queue benchmark (same Queries).
USERS = [*sorted((REPO / "services" / "router").rglob("*.py")), REPO / "benchmarks/queue/run.py"]


def test_parse_named_blocks() -> None:
    statements = parse_statements(
        "-- header comment\n\n-- name: one\n-- what it does\nSELECT 1;\n\n"
        "-- name: two\nSELECT\n  2;\n"
    )
    assert statements == {"one": "-- what it does\nSELECT 1;", "two": "SELECT\n  2;"}


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
        parse_statements(text, "q.sql")


def test_the_router_queries_file_matches_the_registry() -> None:
    queries = load_queries()  # raises QueryFileError when the two disagree
    assert all(getattr(queries, name) for name in Queries.names())


def test_a_file_and_registry_that_disagree_fail_to_load(tmp_path: Path) -> None:
    statements = parse_statements((SQL_DIR / "queries.sql").read_text())
    statements["claim_nxt"] = statements.pop("claim_next")
    path = tmp_path / "queries.sql"
    path.write_text("".join(f"-- name: {n}\n{sql}\n\n" for n, sql in statements.items()))
    with pytest.raises(
        QueryFileError,
        match=r"missing from the file \['claim_next'\], not in the class \['claim_nxt'\]",
    ):
        load_queries(path)


def test_every_query_in_the_registry_is_used() -> None:
    # mypy checks that every name used exists; this checks the converse, so that
    # a query nobody runs any more is deleted rather than kept in the file.
    code = "\n".join(path.read_text(encoding="utf-8") for path in USERS)
    used = re.compile(r"(?:\bq|\bqueries|load_queries\(\))\.([a-z_]+)\b")
    unused = sorted(set(Queries.names()) - set(used.findall(code)))
    assert not unused, f"queries no code uses: {unused}"


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
        (_PgError("28P01"), True),  # password rotated
        (_PgError("28000"), True),  # role may not log in
        (_PgError("25006"), True),  # read-only after a fail-over
        (_PgError("42501"), True),  # grant revoked
        (_PgError("3D000"), True),  # database missing
        (_PgError("22P05"), False),  # \u0000 in jsonb: the data
        (_PgError("22021"), False),  # bad encoding: the data, not the database
        (_PgError("23505"), False),
        (ValueError("x"), False),
    ],
)
def test_transient_errors(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


@pytest.mark.parametrize(
    ("state", "cause"),
    [("28P01", "credentials"), ("25006", "read_only"), ("42501", "permission"),
     ("3D000", "database_missing"), ("08006", "connection")],
)  # fmt: skip
def test_infrastructure_cause_is_bounded(state: str, cause: str) -> None:
    assert infrastructure_cause(_PgError(state)) == cause
