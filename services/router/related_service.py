"""Related cases on the read and action side: what an item page shows, closing as duplicate.

Used by the JSON API (``related_api.py``), the item view and the web page.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from prometheus_client import CollectorRegistry

from services.router.auth import Principal
from services.router.paging import parse_item_id
from services.router.related import (
    DuplicateFinder,
    RelatedMetrics,
    RelatedQueries,
    RelatedRecorder,
    RelatedSettings,
    load_related_queries,
)
from services.router.workflow import Workflow
from shared.errors import Invalid

SAME_PERSON_MAX = 20  # a page lists at most this many of the person's other items


class RelatedService:
    def __init__(self, settings: RelatedSettings, registry: CollectorRegistry) -> None:
        self.q: RelatedQueries = load_related_queries()
        self.finder = DuplicateFinder(self.q, settings, RelatedMetrics(registry))
        self.recorder = RelatedRecorder(self.q, self.finder)

    async def for_item(self, conn: asyncpg.Connection, item_id: uuid.UUID) -> dict[str, Any]:
        """The item's related cases: the same person's other open items, its likely
        duplicates, and what it was closed as a duplicate of."""
        person = await conn.fetch(self.q.same_person_items, item_id, SAME_PERSON_MAX)
        duplicates = await conn.fetch(self.q.likely_duplicates, item_id)
        return {
            "same_person": [dict(r) for r in person],
            "duplicates": [dict(r) for r in duplicates],
            "duplicate_of": await conn.fetchval(self.q.duplicate_of, item_id),
        }

    async def duplicate_of(self, conn: asyncpg.Connection, item_id: uuid.UUID) -> Any:
        return await conn.fetchval(self.q.duplicate_of, item_id)

    async def close_duplicate(
        self, workflow: Workflow, who: Principal, value: str, original: str
    ) -> dict[str, Any]:
        """Close the item the caller holds as a duplicate of ``original`` (audited)."""
        item_id = workflow.item_id(value)
        original_id = parse_item_id(original)
        if original_id is None or original_id == item_id:
            raise Invalid(
                "duplicate_of must be the id of another item",
                code="invalid_duplicate_of",
                details=[{"field": "duplicate_of", "problem": "not another item's id"}],
            )
        async with workflow.pool.acquire() as conn:
            if not await conn.fetchval(self.q.item_exists, original_id):
                raise Invalid(
                    f"item {original} not found",
                    code="invalid_duplicate_of",
                    details=[{"field": "duplicate_of", "problem": "unknown item"}],
                )
            row = await conn.fetchrow(
                self.q.close_duplicate, item_id, who.name, who.visible(), original_id
            )
        if row is None:
            raise await workflow._explain(who, item_id, "close")
        workflow.on_change(row["queue"])
        workflow.metrics.completions.labels(row["queue"]).inc()
        return dict(row)
