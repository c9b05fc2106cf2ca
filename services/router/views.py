"""Read side: queue overview, queue listing, one item, status for intake systems.

Shared by the JSON API and (later) the web page; returns plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.router.accuracy import agreement
from services.router.auth import Principal
from services.router.db import Queries
from services.router.deadletters import DeadLetterQueries
from services.router.paging import decode_cursor, page, parse_item_id
from services.router.related_service import RelatedService
from services.router.workflow import Workflow
from shared.documents.store import DocumentStore
from shared.errors import Forbidden, NotFound

REQUEST_FIELDS = (
    "source",
    "external_id",
    "channel",
    "received_at",
    "accepted_at",
    "subject",
    "body",
    "attachments",
    "metadata",
)
ITEM_FIELDS = (
    "request_id",
    "queue",
    "status",
    "priority",
    "urgency",
    "type",
    "language",
    "needs_review",
    "due_at",
    "queued_at",
    "updated_at",
    "claimed_by",
    "claimed_at",
    "lease_expires_at",
    "completed_by",
    "completed_at",
    "corrected",
    "confirmed",
    "model_type",
    "model_urgency",
    "model_version",
    "classified_at",
    "purged_at",
)


@dataclass(frozen=True)
class ItemFilter:
    status: str | None = None
    urgency: str | None = None
    language: str | None = None
    needs_review: bool | None = None


def summarise_queues(
    stats: list[Any], names: list[str], now: datetime | None = None
) -> list[dict[str, Any]]:
    """One summary per queue name from ``queue_stats`` rows (pure)."""
    now = now or datetime.now(UTC)
    out: dict[str, dict[str, Any]] = {
        name: {
            "queue": name,
            "waiting": 0,
            "claimed": 0,
            "past_due": 0,
            "oldest_waiting_age_s": None,
            "by_priority": {},
        }
        for name in names
    }
    for row in stats:
        summary = out.get(row["queue"])
        if summary is None:
            continue
        summary[row["status"]] += row["items"]
        summary["past_due"] += row["past_due"]
        counts = summary["by_priority"].setdefault(
            str(row["priority"]), {"waiting": 0, "claimed": 0}
        )
        counts[row["status"]] += row["items"]
        if row["oldest_received_at"] is not None:
            age = max((now - row["oldest_received_at"]).total_seconds(), 0.0)
            summary["oldest_waiting_age_s"] = max(summary["oldest_waiting_age_s"] or 0.0, age)
    return [out[name] for name in names]


class Views:
    def __init__(
        self,
        pool: asyncpg.Pool,
        queries: Queries,
        workflow: Workflow,
        deadletters: DeadLetterQueries,
        related: RelatedService | None = None,
    ) -> None:
        self.pool = pool
        self.q = queries
        self.workflow = workflow
        self.deadletters = deadletters
        self.related = related

    async def agreement(self, who: Principal, weeks: int) -> dict[str, Any]:
        """Accuracy over time against the human labels (leads only: every queue's items)."""
        if not who.is_lead:
            raise Forbidden("model accuracy is for team leads")
        since = datetime.now(UTC) - timedelta(weeks=weeks)
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(self.q.model_agreement, since)
        return {"since": since, **agreement(rows)}

    async def queues(self, who: Principal) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            stats = await conn.fetch(self.q.queue_stats)
        names = sorted({*self.workflow.routing.queues, *(r["queue"] for r in stats)})
        return summarise_queues(stats, [n for n in names if who.may_see(n)])

    async def items(
        self, who: Principal, queue: str, filters: ItemFilter, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        await self.workflow.require_queue(who, queue)
        key: tuple[Any, ...] = decode_cursor(after) if after else (None, None, None)
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                self.q.list_items,
                queue,
                filters.status,
                filters.urgency,
                filters.language,
                filters.needs_review,
                *key,
                limit + 1,
            )
        items, cursor = page(rows, limit)
        return [dict(r) for r in items], cursor

    async def item(self, who: Principal, value: str) -> dict[str, Any]:
        item_id = Workflow.item_id(value)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(self.q.get_item, item_id)
            if row is None:
                raise NotFound(f"item {value} not found")
            who.require_item(row["queue"], value)
            history = await conn.fetch(self.q.item_history, item_id)
            corrections = await conn.fetch(self.q.item_corrections, item_id)
            related = await self.related.for_item(conn, item_id) if self.related else None
        item = {k: row[k] for k in ITEM_FIELDS}
        item["request"] = {k: row[k] for k in REQUEST_FIELDS}
        item["classification"] = row["classification"]
        item["key_points"] = row["key_points"] or []
        item["history"] = [dict(h) for h in history]
        item["corrections"] = [dict(c) for c in corrections]
        item["documents"] = await DocumentStore(self.pool).listing(str(item_id))
        item["related"] = related
        return item

    async def _routed_status(self, conn: asyncpg.Connection, row: Any) -> dict[str, Any]:
        """A routed request's status; ``duplicate_of`` once closed as a duplicate."""
        out = status_of(row)
        if row["status"] == "done" and self.related is not None:
            original = await self.related.duplicate_of(conn, row["request_id"])
            if original is not None:
                out["duplicate_of"] = str(original)
        return out

    async def request_status(self, source: str, value: str) -> dict[str, Any]:
        """Status of one request for the intake source that sent it; another source's
        request is reported exactly like an unknown one (404)."""
        async with self.pool.acquire() as conn:
            try:
                row, received = await source_lookup(
                    conn, self.q, self.q.request_status, source, value
                )
            except NotFound:  # no item, no received record: dead-lettered at once?
                failed = await conn.fetchrow(
                    self.deadletters.deadletter_status, parse_item_id(value)
                )
                if failed is None or failed["source"] != source:
                    raise
                return failed_status(failed, None)
            if row is not None:
                return await self._routed_status(conn, row)
            failed = await conn.fetchrow(self.deadletters.deadletter_status, received["request_id"])
        if failed is not None:
            return failed_status(failed, received)
        return {
            "request_id": str(received["request_id"]),
            "status": "received",
            "received_at": received["received_at"],
            "updated_at": received["recorded_at"],
        }


def failed_status(failed: Any, received: Any) -> dict[str, Any]:
    """A dead-lettered request without a work item: the reason code, never the error."""
    return {
        "request_id": str(failed["request_id"]),
        "status": "failed",
        "reason": failed["reason"],
        "received_at": failed["failed_at"] if received is None else received["received_at"],
        "updated_at": failed["recorded_at"],
        "failed_at": failed["failed_at"],
    }


async def source_lookup(
    conn: asyncpg.Connection, q: Queries, query: str, source: str, value: str
) -> tuple[Any, Any]:
    """(``query``'s row for the request, None) once routed, or (None, its received
    record) before, for the intake source that sent it; a request of another source
    is reported exactly like an unknown one (404)."""
    request_id = parse_item_id(value)
    missing = NotFound(f"request {value} not found")
    if request_id is None:
        raise missing
    row = await conn.fetchrow(query, request_id)
    received = None if row else await conn.fetchrow(q.received_status, request_id)
    if row is None and received is not None and received["source"] == source:
        return None, received
    if row is None or row["source"] != source:
        raise missing
    return row, None


def status_of(row: Any, now: datetime | None = None) -> dict[str, Any]:
    """received / queued / in_progress / done, from a ``request_status`` row (pure)."""
    now = now or datetime.now(UTC)
    status = row["status"]
    if status == "claimed" and row["lease_expires_at"] is not None:
        status = "in_progress" if row["lease_expires_at"] > now else "queued"
    elif status == "waiting":
        status = "queued"
    out: dict[str, Any] = {
        "request_id": str(row["request_id"]),
        "status": status,
        "received_at": row["received_at"],
        "updated_at": row["updated_at"],
    }
    if status in ("queued", "in_progress"):
        out.update(queue=row["queue"], priority=row["priority"], due_at=row["due_at"])
    if status == "done":
        out["completed_at"] = row["completed_at"]
    return out
