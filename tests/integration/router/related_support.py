"""Related-case helpers for the router and page tests: events with related keys, and a
writer that routes them as the consumer does, related cases included."""

from __future__ import annotations

import asyncpg
import numpy as np

from services.router.consumer import ClassifiedWriter
from services.router.db import load_queries
from services.router.metrics import RouterMetrics
from services.router.related_service import RelatedService
from services.router.rules import Routing
from shared.consumer import Consumed
from shared.events import RelatedKeys, RequestClassified
from shared.metrics import new_registry
from shared.vectors import encode_vector
from tests.integration.router.conftest import Store, router_settings

H1, H2, H3 = ("a" * 32, "b" * 32, "c" * 32)
EMBEDDER = "test-embedder:384"


def vector(seed: int, noise_of: int | None = None, noise: float = 0.0) -> str:
    base = np.random.default_rng(seed if noise_of is None else noise_of).normal(size=384)
    jitter = np.random.default_rng(seed).normal(size=384) * noise
    return encode_vector(base + jitter)


def related(event: RequestClassified, hashes: list[str], vector: str = "") -> RequestClassified:
    keys = RelatedKeys(identity_hashes=hashes, embedder=EMBEDDER, embedding=vector)
    return event.model_copy(update={"related": keys})


def related_store(pool: asyncpg.Pool, routing: Routing, database_url: str) -> Store:
    """``await store(event, ...)``: route events as the router's consumer does, related
    cases included (a fixture's body in the test modules)."""
    service = RelatedService(router_settings(database_url), new_registry())
    writer = ClassifiedWriter(
        pool, load_queries(), routing, RouterMetrics(new_registry()), related=service.recorder
    )

    async def _store(*events: RequestClassified) -> None:
        await writer([Consumed(e, "t", 0, i, None) for i, e in enumerate(events)])

    return _store
