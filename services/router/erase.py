"""``triage erase``: erase one person's data (GDPR art. 17), by request or by identifier.

The requests are found by id, or by an identifier in their text (a national
number, an e-mail address, an IBAN, written in any of the formats the masking
knows): a database search for the identifier with any separators, each candidate
confirmed by ``shared.pii`` so that only that exact identifier matches. Every
statement of ``sql/erase.sql`` (one per table holding personal data) then runs
on those requests in one transaction, and an 'erased' audit event is added; the
audit rows stay as tombstones without free text. ``triage purge`` uses the same
statements for retention.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Iterable
from typing import Any, Literal

import asyncpg

from services.router.db import SQL_DIR, init_connection, load_queries, parse_statements
from shared.pii import find, is_valid_iban, is_valid_niss

Kind = Literal["niss", "email", "iban"]
ERASE_SQL = SQL_DIR / "erase.sql"
_PII_KIND = {"niss": "NISS", "email": "EMAIL", "iban": "IBAN"}
_GAP = "[^[:alnum:]]{0,3}"  # separators as typed: spaces, dots, dashes, a line break


def erasure_statements() -> dict[str, str]:
    """The per-table statements, in file order (the hook new tables plug into)."""
    return parse_statements(ERASE_SQL.read_text(encoding="utf-8"), ERASE_SQL.name)


def normalise(kind: Kind, value: str) -> str:
    """The identifier as compared: digits of a NISS, compact upper-case IBAN, lower-case
    e-mail. ValueError when it is not a valid one (nothing would be found)."""
    if kind == "email":
        email = value.strip().lower()
        if email.count("@") != 1 or not all(email.split("@")):
            raise ValueError("not an e-mail address")
        return email
    compact = "".join(c for c in value if c.isalnum()).upper()
    valid = is_valid_niss(compact) if kind == "niss" else is_valid_iban(compact)
    if not valid:
        raise ValueError(f"not a valid {kind.upper()} (check digits)")
    return compact


def search_pattern(kind: Kind, identifier: str) -> str:
    """A PostgreSQL regular expression finding ``identifier`` with any separators."""
    if kind == "email":  # a backslash before a non-alphanumeric makes it literal
        return "".join(c if c.isalnum() else "\\" + c for c in identifier)
    return _GAP.join(identifier)


def _compact(text: str, kind: Kind) -> str:
    if kind == "email":
        return text.lower()
    return "".join(c for c in text if c.isalnum()).upper()


def mentions(text: str, kind: Kind, identifier: str) -> bool:
    """True when the PII detector finds exactly ``identifier`` in ``text``."""
    wanted = _PII_KIND[kind]
    return any(
        s.kind == wanted and _compact(text[s.start : s.end], kind) == identifier for s in find(text)
    )


async def find_requests(conn: asyncpg.Connection, kind: Kind, identifier: str) -> list[uuid.UUID]:
    rows = await conn.fetch(load_queries().find_mentions, search_pattern(kind, identifier))
    return [r["request_id"] for r in rows if mentions(r["text"], kind, identifier)]


async def erase_requests(
    conn: asyncpg.Connection,
    ids: Iterable[uuid.UUID],
    *,
    event: str = "erased",
    actor: str = "erasure",
    details: dict[str, Any] | None = None,
) -> int:
    """Run every erasure statement on ``ids`` in one transaction; the items found."""
    ids = list(ids)
    if not ids:
        return 0
    async with conn.transaction():
        for sql in erasure_statements().values():
            await conn.execute(sql, ids)
        status = await conn.execute(load_queries().erasure_audit, ids, event, actor, details or {})
    return int(status.split()[-1])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage erase", description="Erase the personal data of one person's requests."
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--request", nargs="+", metavar="ID", help="request id(s)")
    which.add_argument("--niss", help="national (or bis) number, any format")
    which.add_argument("--email", help="e-mail address")
    which.add_argument("--iban", help="IBAN, any format")
    parser.add_argument("--dry-run", action="store_true", help="only list the requests found")
    return parser


def _target(args: argparse.Namespace) -> tuple[Kind, str] | list[uuid.UUID]:
    if args.request:
        return [uuid.UUID(v) for v in args.request]
    kind: Kind = "niss" if args.niss else "email" if args.email else "iban"
    return kind, normalise(kind, args.niss or args.email or args.iban)


async def _run(dsn: str, target: tuple[Kind, str] | list[uuid.UUID], dry_run: bool) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        await init_connection(conn)
        ids = target if isinstance(target, list) else await find_requests(conn, *target)
        listed = ", ".join(str(i) for i in ids) or "none"
        if dry_run:
            return f"would erase {len(ids)} request(s): {listed}"
        by = "request" if isinstance(target, list) else target[0]
        erased = await erase_requests(conn, ids, details={"by": by})
        return f"erased {erased} request(s): {listed}"
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    from services.router.settings import RouterSettings
    from shared.logs import setup_logging

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        target = _target(args)
    except ValueError as exc:
        parser.error(str(exc))
    settings = RouterSettings()  # type: ignore[call-arg]
    setup_logging(settings.log_level, settings.log_format, "erase")
    try:
        message = asyncio.run(_run(settings.database_url.get_secret_value(), target, args.dry_run))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"triage erase: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0
