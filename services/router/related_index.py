"""Likely duplicates: an in-memory index of open items' embeddings, searched by brute force.

Why brute force in numpy: one matrix product over every open item of the window
(unit vectors: the product is the cosine) is exact, needs no extension in
PostgreSQL (Debian's PostgreSQL 15 has no pgvector) and takes ~20 ms of CPU
for 100,000 items (docs/benchmarks.md, "Related cases"). Vectors
are kept as float32 (1.5 KB per e5-small item: ~150 MB at 100,000 open items).

Items are never removed one by one: closed items are filtered out by the caller
(one query on the few hits) and the whole index is rebuilt now and then. Pure:
no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

_START_ROWS = 1024


@dataclass
class _Block:
    """The vectors of one embedder (vectors of different embedders never compare)."""

    dim: int
    matrix: npt.NDArray[np.float32] = field(init=False)
    received: npt.NDArray[np.float64] = field(init=False)  # POSIX seconds
    ids: list[uuid.UUID] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.matrix = np.zeros((_START_ROWS, self.dim), dtype=np.float32)
        self.received = np.zeros(_START_ROWS, dtype=np.float64)

    def append(
        self, request_id: uuid.UUID, received: float, vector: npt.NDArray[np.float32]
    ) -> None:
        n = len(self.ids)
        if n == len(self.matrix):  # grow by doubling: amortised O(1) per item
            self.matrix = np.concatenate([self.matrix, np.zeros_like(self.matrix)])
            self.received = np.concatenate([self.received, np.zeros_like(self.received)])
        self.matrix[n] = vector
        self.received[n] = received
        self.ids.append(request_id)


@dataclass(frozen=True)
class Hit:
    request_id: uuid.UUID
    similarity: float


class VectorIndex:
    def __init__(self) -> None:
        self._blocks: dict[str, _Block] = {}
        self._known: set[uuid.UUID] = set()

    def __len__(self) -> int:
        return len(self._known)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._known

    def add(
        self, request_id: uuid.UUID, embedder: str, received_at: datetime, vector: npt.ArrayLike
    ) -> bool:
        """Index one item's vector; False when it is known already or of another size."""
        v = np.asarray(vector, dtype=np.float32).ravel()
        if request_id in self._known or v.size == 0:
            return False
        block = self._blocks.setdefault(embedder, _Block(v.size))
        if block.dim != v.size:
            return False
        block.append(request_id, received_at.timestamp(), v)
        self._known.add(request_id)
        return True

    def search(
        self,
        vector: npt.ArrayLike,
        embedder: str,
        *,
        since: datetime,
        threshold: float,
        limit: int,
        exclude: uuid.UUID | None = None,
    ) -> list[Hit]:
        """Items of ``embedder`` received since ``since`` with cosine >= ``threshold``, best
        first, at most ``limit`` (vectors are unit norm)."""
        block = self._blocks.get(embedder)
        v = np.asarray(vector, dtype=np.float32).ravel()
        if block is None or block.dim != v.size or not block.ids:
            return []
        n = len(block.ids)
        sims = block.matrix[:n] @ v
        sims[block.received[:n] < since.timestamp()] = -np.inf
        candidates = np.flatnonzero(sims >= threshold)
        if len(candidates) > limit + 1:  # +1: the excluded item may be among them
            top = np.argpartition(-sims[candidates], limit)[: limit + 1]
            candidates = candidates[top]
        order = candidates[np.argsort(-sims[candidates], kind="stable")]
        hits = [Hit(block.ids[i], float(sims[i])) for i in order if block.ids[i] != exclude]
        return hits[:limit]
