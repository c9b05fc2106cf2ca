"""Router metrics (``triage_router_*``, base units, labels bounded by the configured
queues and priorities — never an id).

Override rate by queue is a PromQL division of two counters::

    sum by (queue) (rate(triage_router_corrections_total[1d]))
      / sum by (queue) (rate(triage_router_completions_total[1d]))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.router.db import Queries

log = logging.getLogger(__name__)

# received_at -> queued spans milliseconds (live) to hours (a backlog after an outage).
QUEUE_LATENCY_BUCKETS = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    14400.0,
    86400.0,
)


# Reception -> first claim / completion: minutes (critical items) to weeks (low urgency).
ITEM_TIME_BUCKETS = tuple(
    float(s)
    for s in (
        300,
        900,
        3600,
        14400,
        28800,
        86400,
        172800,
        345600,
        604800,
        1209600,
        2419200,
        4838400,
    )
)


class RouterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str, labels: list[str]) -> Counter:
            return Counter(f"triage_router_{name}", doc, labels, registry=registry)

        def gauge(name: str, doc: str, labels: list[str]) -> Gauge:
            return Gauge(f"triage_router_{name}", doc, labels, registry=registry)

        self.created = counter(
            "work_items_created_total",
            "Work items created, by queue and priority",
            ["queue", "priority"],
        )
        self.duplicates = counter(
            "duplicate_events_total", "Classified events for an existing item (redeliveries)", []
        )
        self.claims = counter("claims_total", "Items claimed, by queue", ["queue"])
        self.lease_expiries = counter(
            "lease_expiries_total", "Claims taken over after the lease expired", ["queue"]
        )
        self.completions = counter("completions_total", "Items completed, by queue", ["queue"])
        self.corrections = counter(
            "corrections_total", "Type/urgency corrections, by queue before correction", ["queue"]
        )
        self.confirmations = counter(
            "confirmations_total", "Predictions a reviewer confirmed, by queue before", ["queue"]
        )
        self.human_labels = counter(
            "human_labels_total",
            "Human labels (corrections, confirmations) by the model version that decided, "
            "head (type, urgency) and whether the model's prediction agreed",
            ["model_version", "head", "agreed"],
        )
        self.reassignments = counter(
            "reassignments_total", "Items moved to another queue, by source queue", ["queue"]
        )
        self.releases = counter("releases_total", "Claims given back, by queue", ["queue"])
        self.depth = gauge(
            "queue_depth_items",
            "Open items, by queue, priority and status",
            ["queue", "priority", "status"],
        )
        self.oldest = gauge(
            "queue_oldest_waiting_age_seconds",
            "Age since reception of the oldest waiting item",
            ["queue", "priority"],
        )
        self.past_due = gauge(
            "items_past_due", "Open items past their due time", ["queue", "priority"]
        )
        self.queue_latency = Histogram(
            "triage_router_queue_latency_seconds",
            "End-to-end latency from received_at (intake) to the item being queued",
            ["priority"],
            buckets=QUEUE_LATENCY_BUCKETS,
            registry=registry,
        )

        # KPIs (issue 17): the waiting and handling times people see, and SLA outcomes.
        def item_time(name: str, doc: str) -> Histogram:
            return Histogram(
                name, doc, ["queue", "urgency"], buckets=ITEM_TIME_BUCKETS, registry=registry
            )

        self.item_handling = item_time(
            "triage_item_handling_seconds",
            "Reception to completion of work items, by queue and urgency",
        )
        self.item_waiting = item_time(
            "triage_item_waiting_seconds",
            "Reception to the first claim of work items, by queue and urgency",
        )
        self.sla_outcomes = counter(
            "sla_completions_total",
            "Completed items by SLA outcome (on_time: completed by the due date, or late)",
            ["queue", "outcome"],
        )
        self._seen: set[tuple[str, ...]] = set()

    def record_label(self, item: Any, type_: str, urgency: str) -> None:
        """One human label of ``item`` (its row before the label): did the model agree?"""
        version = item["model_version"]
        for head, agreed in (("type", item["model_type"] == type_),
                             ("urgency", item["model_urgency"] == urgency)):  # fmt: skip
            self.human_labels.labels(version, head, str(agreed).lower()).inc()

    def record_claim(self, row: Any) -> None:
        """Waiting time, observed on an item's first claim only."""
        if row["first_claimed_at"] == row["claimed_at"]:
            waited = (row["claimed_at"] - row["received_at"]).total_seconds()
            self.item_waiting.labels(row["queue"], row["urgency"]).observe(max(waited, 0.0))

    def record_completion(self, row: Any) -> None:
        handled = (row["completed_at"] - row["received_at"]).total_seconds()
        self.item_handling.labels(row["queue"], row["urgency"]).observe(max(handled, 0.0))
        outcome = "on_time" if row["completed_at"] <= row["due_at"] else "late"
        self.sla_outcomes.labels(row["queue"], outcome).inc()

    def record_created(self, rows: list[Any]) -> None:
        for row in rows:
            priority = str(row["priority"])
            self.created.labels(row["queue"], priority).inc()
            latency = (row["queued_at"] - row["received_at"]).total_seconds()
            self.queue_latency.labels(priority).observe(max(latency, 0.0))

    def update_queues(self, stats: list[Any], now: datetime | None = None) -> None:
        """Set the gauges from a ``queue_stats`` result; series that vanished go to 0."""
        now = now or datetime.now(UTC)
        fresh: set[tuple[str, ...]] = set()
        for row in stats:
            queue, priority, status = row["queue"], str(row["priority"]), row["status"]
            self.depth.labels(queue, priority, status).set(row["items"])
            fresh.add(("depth", queue, priority, status))
            if row["oldest_received_at"] is not None:
                age = (now - row["oldest_received_at"]).total_seconds()
                self.oldest.labels(queue, priority).set(max(age, 0.0))
                fresh.add(("oldest", queue, priority))
            past_due = self.past_due.labels(queue, priority)
            if ("past_due", queue, priority) not in fresh:
                past_due.set(0)
            past_due.inc(row["past_due"])
            fresh.add(("past_due", queue, priority))
        for key in self._seen - fresh:
            kind, *labels = key
            {"depth": self.depth, "oldest": self.oldest, "past_due": self.past_due}[kind].labels(
                *labels
            ).set(0)
        self._seen = fresh | self._seen


async def refresh_forever(
    pool: asyncpg.Pool, queries: Queries, metrics: RouterMetrics, period_s: float
) -> None:
    """Background task of the app: refresh the queue gauges until cancelled."""
    while True:
        try:
            async with pool.acquire() as conn:
                stats = await conn.fetch(queries.queue_stats)
            metrics.update_queues(stats)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be briefly away; gauges just go stale
            log.warning("queue gauges not refreshed: %s", type(exc).__name__)
        await asyncio.sleep(period_s)


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
