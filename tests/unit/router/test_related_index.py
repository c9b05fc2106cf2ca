"""The in-memory duplicate index and the rows stored per new item (pure, no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np

from services.router.related import related_rows
from services.router.related_index import VectorIndex
from shared.events import RelatedKeys
from shared.vectors import decode_vector, encode_vector
from tests.fixtures.factories import classified

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _unit(seed: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def test_search_finds_near_vectors_best_first_within_window_and_embedder() -> None:
    index = VectorIndex()
    ids = [uuid.uuid4() for _ in range(5)]
    base = _unit(0)
    index.add(ids[0], "e", NOW, base)
    index.add(ids[1], "e", NOW, (base + 0.05 * _unit(1)) / np.linalg.norm(base + 0.05 * _unit(1)))
    index.add(ids[2], "e", NOW, _unit(2))  # unrelated
    index.add(ids[3], "e", NOW - timedelta(days=60), base)  # too old
    index.add(ids[4], "other", NOW, base)  # another embedder's vector
    hits = index.search(base, "e", since=NOW - timedelta(days=30), threshold=0.9, limit=5)
    assert [h.request_id for h in hits] == [ids[0], ids[1]]
    assert hits[0].similarity > hits[1].similarity > 0.9
    excluded = index.search(
        base, "e", since=NOW - timedelta(days=30), threshold=0.9, limit=5, exclude=ids[0]
    )
    assert [h.request_id for h in excluded] == [ids[1]]
    assert index.search(base, "nobody", since=NOW, threshold=0.0, limit=5) == []


def test_limit_keeps_the_best_and_growth_keeps_every_vector() -> None:
    index = VectorIndex()
    base = _unit(0, 16)
    ids = []
    for i in range(3000):  # past the starting capacity, twice
        ids.append(uuid.uuid4())
        v = base + 0.001 * i * _unit(1, 16)
        index.add(ids[-1], "e", NOW, v / np.linalg.norm(v))
    assert len(index) == 3000 and ids[-1] in index
    assert not index.add(ids[0], "e", NOW, base)  # known already
    assert not index.add(uuid.uuid4(), "e", NOW, _unit(0, 4))  # another size
    hits = index.search(base, "e", since=NOW, threshold=0.5, limit=3)
    assert [h.request_id for h in hits] == ids[:3]


def test_rows_only_for_created_items_and_valid_vectors() -> None:
    vec = encode_vector(_unit(3, 384))
    good = classified().model_copy(
        update={"related": RelatedKeys(identity_hashes=["ab" * 16], embedder="e", embedding=vec)}
    )
    broken = classified().model_copy(
        update={"related": RelatedKeys(identity_hashes=["cd" * 16], embedder="e", embedding="$")}
    )
    redelivered = classified().model_copy(update={"related": RelatedKeys(embedding=vec)})
    plain = classified()
    created = {uuid.UUID(e.request_id) for e in (good, broken, plain)}
    rows = related_rows([good, broken, redelivered, plain], created)
    assert rows.identity_hashes == [bytes.fromhex("ab" * 16), bytes.fromhex("cd" * 16)]
    assert rows.embedding_ids == [uuid.UUID(good.request_id)]
    assert np.allclose(decode_vector(rows.vectors[0]), _unit(3, 384), atol=1e-3)
