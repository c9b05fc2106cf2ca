"""``triage export-training``: completed items as a ``triage train`` cases CSV.

Each completed item becomes one case with its final type and urgency — the
model's when an agent completed it unchanged, the human's when it was
corrected — and its text (subject, body, attachment texts) PII-masked. This is
the feedback loop: corrections made at the desk become the next model's data.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import asyncpg

from services.router.db import init_connection, load_queries
from shared.pii import mask

COLUMNS = (
    "id",
    "text",
    "type",
    "urgency",
    "language",
    "corrected",
    "confirmed",
    "model_version",
    "completed_at",
)


def case_text(subject: str | None, body: str | None, attachments: Iterable[Any] | None) -> str:
    """Subject, body and attachment texts, as the classifier read them."""
    texts = [a.get("text", "") for a in attachments or () if isinstance(a, Mapping)]
    return "\n\n".join(part for part in (subject, body, *texts) if part)


def case_row(row: Mapping[str, Any]) -> dict[str, str]:
    return {
        "id": str(row["request_id"]),
        "text": mask(case_text(row["subject"], row["body"], row["attachments"])),
        "type": row["type"],
        "urgency": row["urgency"],
        "language": row["language"],
        "corrected": "true" if row["corrected"] else "false",
        "confirmed": "true" if row.get("confirmed") else "false",
        "model_version": row["model_version"],
        "completed_at": row["completed_at"].isoformat(),
    }


async def export(conn: asyncpg.Connection, since: datetime, out: Path) -> int:
    """Write the CSV atomically (a temporary file renamed at the end); returns the count."""
    query = load_queries().export_completed
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            async with conn.transaction():
                async for row in conn.cursor(query, since, prefetch=500):
                    case = case_row(row)
                    if case["text"]:
                        writer.writerow(case)
                        count += 1
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return count


def _since(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from exc


async def _run(dsn: str, since: datetime, out: Path) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        await init_connection(conn)
        return await export(conn, since, out)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    from shared.logs import setup_logging
    from shared.settings import DatabaseSettings

    parser = argparse.ArgumentParser(
        prog="triage export-training", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--since",
        type=_since,
        required=True,
        help="completed on or after this date (YYYY-MM-DD, UTC)",
    )
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    settings = DatabaseSettings()  # type: ignore[call-arg]
    setup_logging(settings.log_level, settings.log_format, "export-training")
    try:
        count = asyncio.run(_run(settings.database_url.get_secret_value(), args.since, args.out))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"triage export-training: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {count} case(s) completed since {args.since.date()} to {args.out}")
    return 0
