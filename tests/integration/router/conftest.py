"""Router fixtures on a real PostgreSQL: a migrated database, a pool, the app in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from services.router.app import create_app
from services.router.auth import Principal
from services.router.consumer import ClassifiedWriter
from services.router.db import create_pool, load_queries
from services.router.metrics import RouterMetrics
from services.router.rules import Routing, load_rules
from services.router.settings import DEFAULT_RULES, RouterSettings
from services.router.workflow import Workflow
from shared.auth import hash_secret
from shared.consumer import Consumed
from shared.events import RequestClassified
from shared.metrics import new_registry

# name -> (token, queues, role)
USERS = {
    "alice": ("alice-token", ["energy_aid", "review"], "agent"),
    "bob": ("bob-token", ["energy_aid"], "agent"),
    "carol": ("carol-token", ["housing"], "agent"),
    "lena": ("lena-token", ["*"], "lead"),
}
SOURCES = {"demo": "demo-key", "other": "other-key"}


def auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {USERS[user][0]}"}


def source_auth(source: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {SOURCES[source]}"}


@pytest.fixture
async def pool(migrated_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(migrated_url, min_size=1, max_size=25)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="session")
def routing() -> Routing:
    return load_rules(DEFAULT_RULES)


Store = Callable[..., Any]


@pytest.fixture
def store(pool: asyncpg.Pool, routing: Routing) -> Store:
    """``await store(event, ...)``: route events into work items as the consumer does."""
    writer = ClassifiedWriter(pool, load_queries(), routing, RouterMetrics(new_registry()))

    async def _store(*events: RequestClassified) -> None:
        await writer([Consumed(e, "t", 0, i, None) for i, e in enumerate(events)])

    return _store


def router_settings(database_url: str, **extra: Any) -> RouterSettings:
    users = {
        name: {"token_sha256": hash_secret(token), "queues": queues, "role": role}
        for name, (token, queues, role) in USERS.items()
    }
    values: dict[str, Any] = {
        "database_url": database_url,
        "router_consumer_enabled": False,
        "router_users": users,
        "ingest_api_keys": {s: hash_secret(k) for s, k in SOURCES.items()},
        "router_lease_s": 60,
        **extra,
    }
    return RouterSettings(**values)


@pytest.fixture
async def client(migrated_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(router_settings(migrated_url))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router") as client,
    ):
        yield client


@pytest.fixture
def workflow(pool: asyncpg.Pool, routing: Routing) -> Workflow:
    return Workflow(pool, load_queries(), routing, RouterMetrics(new_registry()), lease_s=60)


def person(name: str) -> Principal:
    _token, queues, role = USERS[name]
    return Principal(name, role, None if "*" in queues else frozenset(queues))
