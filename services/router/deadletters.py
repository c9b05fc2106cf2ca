"""The router's record of dead letters: the ``failed`` status of a request.

The router reads ``request.deadletter`` in a consumer group of its own and keeps,
per letter, codes only (stage, reason, where the record was): never the payload nor
the error text, which stay on the topic for its retention (``triage deadletter``).
A request whose letter is recorded and that has no work item reports ``failed``
with the reason code; replayed and routed, it reports its work item's status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from services.router.db import SQL_DIR, NamedQueries, load_named
from shared.consumer import decode_record
from shared.events import DEADLETTER_V1, DeadLetter, PoisonMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeadLetterQueries(NamedQueries):
    """``services/router/sql/deadletters.sql``."""

    insert_deadletters: str
    deadletter_status: str


def load_deadletter_queries(path: Path = SQL_DIR / "deadletters.sql") -> DeadLetterQueries:
    return load_named(DeadLetterQueries, path)


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def request_of(letter: DeadLetter) -> tuple[uuid.UUID | None, str | None]:
    """The request id and source a letter is about, when its payload says (pure).

    The payload is the original event when it decodes as JSON; else the record key,
    which the pipeline sets to the request id."""
    try:
        data = json.loads(letter.original_bytes())
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return _uuid(letter.original_key), None
    request = data.get("request")
    source = (request if isinstance(request, dict) else data).get("source")
    request_id = _uuid(data.get("request_id")) or _uuid(letter.original_key)
    return request_id, source if isinstance(source, str) else None


def letter_columns(letters: Sequence[DeadLetter]) -> list[list[Any]]:
    """Column arrays for ``insert_deadletters`` (pure)."""
    columns: list[list[Any]] = [[] for _ in range(9)]
    for letter in letters:
        request_id, source = request_of(letter)
        row = [uuid.UUID(letter.event_id), request_id, source, letter.stage, letter.reason,
               letter.original_topic, letter.original_partition, letter.original_offset,
               letter.failed_at]  # fmt: skip
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


class DeadLetterRecorder:
    """Handler of the request.deadletter subscription (explicit ack after the insert)."""

    def __init__(
        self, pool: asyncpg.Pool, queries: DeadLetterQueries, retry_backoff_s: float = 1.0
    ) -> None:
        self.pool = pool
        self.q = queries
        self.retry_backoff_s = retry_backoff_s

    async def handle(self, records: Sequence[Any]) -> None:
        letters = []
        for record in records:
            try:
                letter = decode_record(record.value, DEADLETTER_V1)
            except PoisonMessage:  # not a letter of ours: nothing to record
                continue
            if _uuid(letter.event_id) is not None:
                letters.append(letter)
        if not letters:
            return
        try:
            async with self.pool.acquire() as conn:
                await conn.execute(self.q.insert_deadletters, *letter_columns(letters))
        except Exception:
            log.warning("dead letters not recorded; retrying the batch", exc_info=True)
            await asyncio.sleep(self.retry_backoff_s)  # the nack re-fetches the batch
            raise
