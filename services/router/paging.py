"""Keyset pagination cursors: opaque to clients, (priority, due_at, request_id) inside."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from shared.errors import Invalid


def encode_cursor(priority: int, due_at: datetime, request_id: uuid.UUID | str) -> str:
    raw = json.dumps([priority, due_at.isoformat(), str(request_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_SMALLINT = range(-(2**15), 2**15)  # work_items.priority
_CURSOR_MAX = 200  # what encode_cursor makes is about 110 characters


def decode_cursor(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    """The key in a cursor; a crafted one is a 422, never a value the query refuses."""
    invalid = Invalid(
        "invalid 'after' cursor: pass the 'next' value of the previous page",
        code="invalid_cursor",
    )
    if len(cursor) > _CURSOR_MAX:
        raise invalid
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        priority, due, rid = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key = _checked_int(priority), datetime.fromisoformat(due), uuid.UUID(rid)
    except (binascii.Error, ValueError, TypeError, UnicodeError, OverflowError) as exc:
        raise invalid from exc
    if key[0] not in _SMALLINT or key[1].tzinfo is None:
        raise invalid
    return key


def _checked_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("priority must be an integer")
    return value


def page(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    """Split ``limit + 1`` fetched rows into the page and the cursor of the next one."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(last["priority"], last["due_at"], last["request_id"])


def parse_item_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
