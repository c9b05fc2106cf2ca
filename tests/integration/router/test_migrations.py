"""Migrations on a real PostgreSQL: they build exactly schema.sql, once, safely."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from services.router.db import SQL_DIR
from services.router.migrate import Migration, MigrationError, check_current, discover, migrate
from tests.fixtures.factories import classified
from tests.integration.router.catalog import dump
from tests.integration.router.conftest import Store


@pytest.fixture
async def other_database_url(database_url: str) -> AsyncIterator[str]:
    """A second empty database on the same server."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield urlsplit(database_url)._replace(path=f"/{name}").geturl()
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(dsn: str, migrations: list[Migration] | None = None) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn, migrations)
    finally:
        await conn.close()


async def test_migrations_give_exactly_schema_sql(
    database_url: str, other_database_url: str
) -> None:
    await _migrate(database_url)
    await _execute(other_database_url, (SQL_DIR / "schema.sql").read_text())
    migrated, reference = await dump(database_url), await dump(other_database_url)
    for section in migrated:
        assert migrated[section] == reference[section], f"{section} differs from schema.sql"
    assert len(migrated["relations"]) >= 5 and migrated["indexes"] and migrated["triggers"]


async def test_migrate_is_idempotent_and_recorded(database_url: str) -> None:
    assert await _migrate(database_url) == [m.name for m in discover()]
    assert await _migrate(database_url) == []
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [
            (m.version, m.name) for m in discover()
        ]
        await check_current(conn)
    finally:
        await conn.close()


async def test_two_migrators_at_once_apply_each_migration_once(database_url: str) -> None:
    # a slow migration keeps the first migrator inside the advisory lock
    slow = [
        *discover(),
        Migration(
            len(discover()) + 1,
            "9999_slow",
            "SELECT pg_sleep(0.5); CREATE TABLE slow_marker (x int);",
        ),
    ]
    first, second = await asyncio.gather(_migrate(database_url, slow), _migrate(database_url, slow))
    assert sorted([first, second], key=len) == [[], [m.name for m in slow]]


async def test_an_edited_migration_is_refused(database_url: str) -> None:
    await _migrate(database_url)
    first, *later = discover()
    edited = [Migration(1, first.name, first.sql + "\n-- edited"), *later]
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await _migrate(database_url, edited)


async def test_the_service_refuses_an_unmigrated_database(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(MigrationError, match="run `triage migrate`"):
            await check_current(conn)
    finally:
        await conn.close()


async def test_audit_trail_and_corrections_are_append_only(migrated_url: str, store: Store) -> None:
    event = classified()
    await store(event)
    conn = await asyncpg.connect(migrated_url)
    try:
        await conn.execute(
            "INSERT INTO corrections (request_id, actor, model_version, before_type, after_type,"
            " before_urgency, after_urgency, before_queue, after_queue)"
            " VALUES ($1, 'a', 'm', 't', 't', 'low', 'high', 'q', 'q')",
            uuid.UUID(event.request_id),
        )
        for sql in (
            "UPDATE audit_events SET actor = 'x'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
            "DELETE FROM corrections",
        ):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(sql)
    finally:
        await conn.close()


def test_triage_migrate_command(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.router.migrate import main

    monkeypatch.setenv("TRIAGE_DATABASE_URL", migrated_url)
    assert main([]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["--check"]) == 0
