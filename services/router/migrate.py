"""``triage migrate``: apply the numbered SQL migrations, once each, in order.

Idempotent (applied versions are recorded with a checksum in
``schema_migrations``), safe when two migrators start together (a session
advisory lock serialises them: the second finds nothing left to do), and each
migration runs in its own transaction with its bookkeeping row.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.router.db import SQL_DIR

log = logging.getLogger(__name__)

MIGRATIONS_DIR = SQL_DIR / "migrations"
# Arbitrary constant shared by every migrator of this schema (pg_advisory_lock key).
LOCK_KEY = 0x7472696167650001
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files, checked: NNNN_name.sql, numbered 1, 2, 3... without gaps."""
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: expected NNNN_lower_case_name.sql")
        found.append(Migration(int(match[1]), path.stem, path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"{migration.name}.sql: expected version {expected:04d} here")
    return found


async def applied_versions(conn: asyncpg.Connection) -> dict[int, str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


def pending(migrations: list[Migration], applied: dict[int, str]) -> list[Migration]:
    """Migrations still to apply; raises when the database and the files disagree."""
    known = {m.version: m for m in migrations}
    newer = sorted(v for v in applied if v not in known)
    if newer:
        raise MigrationError(
            f"the database has migration(s) {newer} that this code does not know: "
            "it was migrated by a newer release"
        )
    for version, checksum in applied.items():
        if known[version].checksum != checksum:
            raise MigrationError(
                f"{known[version].name}.sql changed after it was applied; "
                "never edit an applied migration, add a new one"
            )
    return [m for m in migrations if m.version not in applied]


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply what is pending; returns the names applied (empty when up to date)."""
    migrations = discover() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(BOOTSTRAP)
        todo = pending(migrations, await applied_versions(conn))
        for migration in todo:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("applied migration %s", migration.name)
        return [m.name for m in todo]
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def check_current(conn: asyncpg.Connection) -> None:
    """Raise unless every migration is applied (the services refuse to run otherwise)."""
    todo = pending(discover(), await applied_versions(conn))
    if todo:
        names = ", ".join(m.name for m in todo)
        raise MigrationError(
            f"database schema is not up to date ({names} pending): run `triage migrate`"
        )


async def _run(dsn: str, check_only: bool) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        if check_only:
            await check_current(conn)
            print("database schema is up to date")
            return 0
        names = await migrate(conn)
        print(f"applied: {', '.join(names)}" if names else "database schema is up to date")
        return 0
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    from shared.logs import setup_logging
    from shared.settings import DatabaseSettings

    parser = argparse.ArgumentParser(prog="triage migrate", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check that every migration is applied (exit 1 otherwise)",
    )
    args = parser.parse_args(argv)
    settings = DatabaseSettings()  # type: ignore[call-arg]
    setup_logging(settings.log_level, settings.log_format, "migrate")
    try:
        return asyncio.run(_run(settings.database_url.get_secret_value(), args.check))
    except MigrationError as exc:
        print(f"triage migrate: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"triage migrate: database error: {exc}", file=sys.stderr)
        return 1
