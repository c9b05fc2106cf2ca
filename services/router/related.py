"""Related cases in the router: record what the classifier sent, find and show relations.

* **Same person**: the classifier's keyed identifier hashes (``RelatedKeys``)
  are stored per item (``item_identities``); an item's page lists the other
  open items sharing one, looked up live so that it is always current.
* **Likely duplicates**: each new item's embedding is compared with those of
  the open items received in the last ``TRIAGE_ROUTER_DUPLICATE_DAYS`` days
  (``related_index.VectorIndex``, kept in memory and synced from
  ``item_embeddings``, so that every replica sees every item); pairs above
  ``TRIAGE_ROUTER_DUPLICATE_THRESHOLD`` are recorded in ``item_duplicates`` in
  the same transaction as the item, so a redelivered batch records nothing twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from prometheus_client import CollectorRegistry, Gauge, Histogram

from services.router.db import SQL_DIR, NamedQueries, load_named
from services.router.related_index import VectorIndex
from services.router.related_settings import RelatedSettings
from shared.events import RequestClassified
from shared.vectors import BadVector, decode_vector, vector_bytes

# Rows recorded this long before the last one seen are read again at each sync: a
# transaction that started earlier (its now()) may commit after a later one.
SYNC_OVERLAP = timedelta(seconds=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RelatedQueries(NamedQueries):
    """The named statements of ``services/router/sql/related.sql``."""

    insert_identities: str
    insert_embeddings: str
    open_embeddings_since: str
    open_among: str
    insert_duplicates: str
    same_person_items: str
    likely_duplicates: str
    close_duplicate: str
    item_exists: str
    duplicate_of: str


def load_related_queries(path: Path = SQL_DIR / "related.sql") -> RelatedQueries:
    return load_named(RelatedQueries, path)


@dataclass(frozen=True)
class RelatedRows:
    """Column arrays of one batch's identities and embeddings (``related_rows``)."""

    identity_ids: list[uuid.UUID]
    identity_hashes: list[bytes]
    embedding_ids: list[uuid.UUID]
    embedders: list[str]
    received: list[datetime]
    vectors: list[bytes]


def related_rows(events: Sequence[RequestClassified], created: set[uuid.UUID]) -> RelatedRows:
    """What to store for the items just created (pure); a malformed vector is skipped."""
    rows = RelatedRows([], [], [], [], [], [])
    for ev in events:
        item_id = uuid.UUID(ev.request_id)
        if item_id not in created or ev.related is None:
            continue
        for digest in ev.related.identity_hashes:
            rows.identity_ids.append(item_id)
            rows.identity_hashes.append(bytes.fromhex(digest))
        if not ev.related.embedding:
            continue
        try:
            raw = vector_bytes(ev.related.embedding)
        except BadVector:
            continue  # the item is worth more than its duplicate search
        rows.embedding_ids.append(item_id)
        rows.embedders.append(ev.related.embedder)
        rows.received.append(ev.request.received_at)
        rows.vectors.append(raw)
    return rows


class RelatedMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.lookup = Histogram(
            "triage_router_duplicate_lookup_seconds",
            "Time of one duplicate search in the in-memory index",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
            registry=registry,
        )
        self.indexed = Gauge(
            "triage_router_duplicate_index_items",
            "Vectors in the in-memory duplicate index (open items plus some closed since)",
            registry=registry,
        )


class DuplicateFinder:
    """The in-memory index, kept in step with ``item_embeddings`` (one per router process)."""

    def __init__(
        self, queries: RelatedQueries, settings: RelatedSettings, metrics: RelatedMetrics
    ) -> None:
        self.q = queries
        self.settings = settings
        self.metrics = metrics
        self.index = VectorIndex()
        self._synced_to = _EPOCH
        self._built_at = 0.0

    def _window_start(self) -> datetime:
        return datetime.now(UTC) - timedelta(days=self.settings.router_duplicate_days)

    async def sync(self, conn: asyncpg.Connection) -> None:
        """Load the vectors recorded since the last sync (all of them at a rebuild)."""
        if time.monotonic() - self._built_at > self.settings.router_related_rebuild_s:
            self.index, self._synced_to = VectorIndex(), _EPOCH
            self._built_at = time.monotonic()
        since = self._synced_to - SYNC_OVERLAP if self._synced_to > _EPOCH else _EPOCH
        rows = await conn.fetch(self.q.open_embeddings_since, since, self._window_start())
        for row in rows:
            self.index.add(
                row["request_id"], row["embedder"], row["received_at"], decode_vector(row["vector"])
            )
            self._synced_to = max(self._synced_to, row["recorded_at"])
        self.metrics.indexed.set(len(self.index))

    async def record(self, conn: asyncpg.Connection, rows: RelatedRows) -> int:
        """Search each new item against the index (and the batch's earlier items); store
        the open ones above the threshold. Inside the routing transaction."""
        s = self.settings
        since = self._window_start()
        pairs: list[tuple[uuid.UUID, uuid.UUID, float]] = []
        for item_id, embedder, received, raw in zip(
            rows.embedding_ids, rows.embedders, rows.received, rows.vectors, strict=True
        ):
            vector = decode_vector(raw)
            start = time.perf_counter()
            hits = self.index.search(
                vector, embedder, since=since, threshold=s.router_duplicate_threshold,
                limit=s.router_duplicate_max, exclude=item_id,
            )  # fmt: skip
            self.metrics.lookup.observe(time.perf_counter() - start)
            pairs.extend((item_id, h.request_id, h.similarity) for h in hits)
            self.index.add(item_id, embedder, received, vector)
        if not pairs:
            return 0
        still_open = {
            r["request_id"] for r in await conn.fetch(self.q.open_among, [p[1] for p in pairs])
        }
        kept = [p for p in pairs if p[1] in still_open]
        if kept:
            await conn.execute(self.q.insert_duplicates, *map(list, zip(*kept, strict=True)))
        return len(kept)


class RelatedRecorder:
    """Called by the routing writer inside its transaction, for the items it created."""

    def __init__(self, queries: RelatedQueries, finder: DuplicateFinder) -> None:
        self.q = queries
        self.finder = finder

    async def record(
        self, conn: asyncpg.Connection, events: Sequence[RequestClassified], created: set[uuid.UUID]
    ) -> None:
        rows = related_rows(events, created)
        if rows.identity_ids:
            await conn.execute(self.q.insert_identities, rows.identity_ids, rows.identity_hashes)
        if rows.embedding_ids:
            await conn.execute(
                self.q.insert_embeddings,
                rows.embedding_ids, rows.embedders, rows.received, rows.vectors,
            )  # fmt: skip
            await self.finder.record(conn, rows)
