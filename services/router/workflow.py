"""What agents and team leads can do with work items: the rules of the desk.

Used by the JSON API and (later) by the web page. Each action is one
conditional statement (state, holder and visibility in its WHERE clause); when
it matches nothing, the current state is read to say why: unknown item, or an
item in a queue the caller may not see → 404, an item done or held by someone else or
in the wrong state → 409 with a message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg

from services.router.auth import Principal
from services.router.db import Queries
from services.router.inputs import is_clean
from services.router.metrics import RouterMetrics
from services.router.notify import ignore
from services.router.paging import parse_item_id
from services.router.rules import Routing
from shared.errors import Conflict, Invalid, NotFound
from shared.pii import mask


def _mask_reason(reason: str | None) -> str | None:
    # Free text from an agent may name the citizen: the audit keeps it masked.
    return mask(reason) if reason else None


class Workflow:
    def __init__(
        self,
        pool: asyncpg.Pool,
        queries: Queries,
        routing: Routing,
        metrics: RouterMetrics,
        *,
        lease_s: int,
        on_change: Callable[..., None] = ignore,
    ) -> None:
        self.pool = pool
        self.q = queries
        self.routing = routing
        self.metrics = metrics
        self.lease_s = lease_s
        self.on_change = on_change  # called with the queue(s) whose content changed

    async def require_queue(self, who: Principal, queue: str) -> None:
        """404 for a queue nobody knows, 403 for one the caller may not see."""
        if not is_clean(queue):
            raise NotFound(f"unknown queue {queue!r}")  # never a query parameter PostgreSQL refuses
        if queue not in self.routing.queues:
            async with self.pool.acquire() as conn:
                if not await conn.fetchval(self.q.queue_has_open_items, queue):
                    raise NotFound(f"unknown queue {queue!r}")
        who.require(queue)

    async def _explain(
        self,
        who: Principal,
        item_id: uuid.UUID,
        action: str,
        *,
        needs_claim: bool = True,
        lead_ok: bool = False,
        target: str | None = None,
    ) -> Exception:
        """The error that says why ``action`` did not apply to the item."""
        async with self.pool.acquire() as conn:
            state = await conn.fetchrow(self.q.item_state, item_id)
        if state is None:
            return NotFound(f"item {item_id} not found")
        who.require_item(state["queue"], item_id)
        status, holder = state["status"], state["claimed_by"]
        if status == "done":
            return Conflict(f"item {item_id} is already done", code="item_done")
        if target is not None and state["queue"] == target:
            return Conflict(f"item {item_id} is already in queue {target!r}", code="same_queue")
        if status == "waiting" and needs_claim:
            return Conflict(
                f"item {item_id} is not claimed: claim it before you {action} it",
                code="not_claimed",
            )
        if status == "claimed" and holder != who.name and not (lead_ok and who.is_lead):
            return Conflict(f"item {item_id} is claimed by {holder}", code="claimed_by_other")
        return Conflict(f"item {item_id} changed meanwhile; reload it", code="conflict")

    @staticmethod
    def item_id(value: str) -> uuid.UUID:
        parsed = parse_item_id(value)
        if parsed is None:
            raise NotFound(f"item {value} not found")
        return parsed

    async def claim(self, who: Principal, queue: str) -> dict[str, Any] | None:
        """The next item of ``queue`` for the caller, or None when nothing is claimable."""
        await self.require_queue(who, queue)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(self.q.claim_next, queue, who.name, float(self.lease_s))
        if row is None:
            return None
        self.on_change(queue)
        self.metrics.claims.labels(queue).inc()
        self.metrics.record_claim(row)
        if row["previous_status"] == "claimed":
            self.metrics.lease_expiries.labels(queue).inc()
        return dict(row)

    async def heartbeat(self, who: Principal, value: str) -> dict[str, Any]:
        item_id = self.item_id(value)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                self.q.heartbeat, item_id, who.name, float(self.lease_s), who.visible()
            )
        if row is None:
            raise await self._explain(who, item_id, "extend")
        return dict(row)

    async def complete(self, who: Principal, value: str) -> dict[str, Any]:
        item_id = self.item_id(value)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(self.q.complete, item_id, who.name, who.visible())
        if row is None:
            raise await self._explain(who, item_id, "complete")
        self.on_change(row["queue"])
        self.metrics.completions.labels(row["queue"]).inc()
        self.metrics.record_completion(row)
        return dict(row)

    async def release(self, who: Principal, value: str) -> dict[str, Any]:
        item_id = self.item_id(value)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(self.q.release, item_id, who.name, who.is_lead, who.visible())
        if row is None:
            raise await self._explain(who, item_id, "release", lead_ok=True)
        self.on_change(row["queue"])
        self.metrics.releases.labels(row["queue"]).inc()
        return dict(row)

    async def reassign(
        self, who: Principal, value: str, queue: str, reason: str | None
    ) -> dict[str, Any]:
        item_id = self.item_id(value)
        if queue not in self.routing.queues:
            raise Invalid(f"unknown target queue {queue!r}", code="unknown_queue")
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                self.q.reassign,
                item_id,
                who.name,
                who.is_lead,
                who.visible(),
                queue,
                _mask_reason(reason),
            )
        if row is None:
            raise await self._explain(
                who, item_id, "reassign", needs_claim=not who.is_lead, lead_ok=True, target=queue
            )
        self.on_change(row["from_queue"], row["queue"])
        self.metrics.reassignments.labels(row["from_queue"]).inc()
        return dict(row)

    async def correct(
        self,
        who: Principal,
        value: str,
        type_: str | None,
        urgency: str | None,
        reason: str | None,
    ) -> dict[str, Any]:
        """New type and/or urgency: re-route, store the correction, keep the claim if the
        queue stays the same (otherwise the item waits in its new queue)."""
        item_id = self.item_id(value)
        if type_ is None and urgency is None:
            raise Invalid("give a new type and/or a new urgency", code="nothing_to_correct")
        if type_ is not None and type_ not in self.routing.types:
            known = ", ".join(self.routing.types)
            raise Invalid(f"unknown type {type_!r} (known: {known})", code="unknown_type")
        async with self.pool.acquire() as conn, conn.transaction():
            item = await conn.fetchrow(self.q.lock_item, item_id)
            self._check_correctable(who, item_id, item)
            assert item is not None
            new_type = type_ or item["type"]
            new_urgency = urgency or item["urgency"]
            if new_type == item["type"] and new_urgency == item["urgency"]:
                raise Invalid(
                    "the correction changes nothing: type and urgency are the same",
                    code="nothing_to_correct",
                )
            route = self.routing.route(new_type, new_urgency, False, item["received_at"])
            keep = route.queue == item["queue"]
            row = await conn.fetchrow(
                self.q.apply_correction,
                item_id,
                new_type,
                new_urgency,
                route.queue,
                route.priority,
                route.due_at,
                keep,
                "corrected",
            )
            await conn.execute(
                self.q.insert_correction,
                item_id,
                who.name,
                item["model_version"],
                item["type"],
                new_type,
                item["urgency"],
                new_urgency,
                item["queue"],
                route.queue,
                _mask_reason(reason),
            )
            details = {
                "before": {
                    "type": item["type"],
                    "urgency": item["urgency"],
                    "queue": item["queue"],
                    "priority": item["priority"],
                },
                "after": {
                    "type": new_type,
                    "urgency": new_urgency,
                    "queue": route.queue,
                    "priority": route.priority,
                },
                "reason": _mask_reason(reason),
            }
            await conn.execute(
                self.q.insert_audit, item_id, "corrected", who.name, route.queue, details
            )
        self.on_change(item["queue"], route.queue)
        self.metrics.corrections.labels(item["queue"]).inc()
        self.metrics.record_label(item, new_type, new_urgency)
        return dict(row)

    async def confirm(self, who: Principal, value: str, reason: str | None) -> dict[str, Any]:
        """The model was right: record the approval as a human label and move the item
        from review to its type's queue (the claim stays when the queue does)."""
        item_id = self.item_id(value)
        async with self.pool.acquire() as conn, conn.transaction():
            item = await conn.fetchrow(self.q.lock_item, item_id)
            self._check_correctable(who, item_id, item, "confirm")
            assert item is not None
            if item["confirmed"] or item["corrected"]:
                raise Conflict(f"item {item_id} already has a human label", code="already_labelled")
            type_, urgency, before = item["type"], item["urgency"], item["queue"]
            route = self.routing.route(type_, urgency, False, item["received_at"])
            keep = route.queue == before
            row = await conn.fetchrow(
                self.q.apply_correction, item_id, type_, urgency, route.queue, route.priority,
                route.due_at, keep, "confirmed",
            )  # fmt: skip
            masked = _mask_reason(reason)
            await conn.execute(
                self.q.insert_confirmation, item_id, who.name, item["model_version"],
                type_, urgency, before, route.queue, masked,
            )  # fmt: skip
            details = {"type": type_, "urgency": urgency, "from": before, "to": route.queue,
                       "reason": masked}  # fmt: skip
            await conn.execute(
                self.q.insert_audit, item_id, "confirmed", who.name, route.queue, details
            )
        self.on_change(before, route.queue)
        self.metrics.confirmations.labels(before).inc()
        self.metrics.record_label(item, type_, urgency)
        return dict(row)

    @staticmethod
    def _check_correctable(
        who: Principal, item_id: uuid.UUID, item: asyncpg.Record | None, action: str = "correct"
    ) -> None:
        if item is None:
            raise NotFound(f"item {item_id} not found")
        who.require_item(item["queue"], item_id)
        if item["status"] == "done":
            raise Conflict(f"item {item_id} is already done", code="item_done")
        if who.is_lead or item["claimed_by"] == who.name:
            return
        if item["status"] == "waiting":
            raise Conflict(
                f"item {item_id} is not claimed: claim it before you {action} it",
                code="not_claimed",
            )
        raise Conflict(
            f"item {item_id} is claimed by {item['claimed_by']}", code="claimed_by_other"
        )
