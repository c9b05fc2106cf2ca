"""Everything the router's routes need, built once per app (``app.state.router``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from services.router.auth import Authenticator
from services.router.db import Queries
from services.router.deadletters import DeadLetterQueries
from services.router.letters.book import LetterBook
from services.router.letters.store import Letters, load_letter_queries
from services.router.metrics import RouterMetrics
from services.router.notify import QueueNotifier
from services.router.related_service import RelatedService
from services.router.rules import Routing
from services.router.settings import RouterSettings
from services.router.views import Views
from services.router.workflow import Workflow
from shared.consumer import BatchConsumer
from shared.ratelimit import RateLimiter


class NotStarted(RuntimeError):
    pass


@dataclass
class RouterState:
    settings: RouterSettings
    routing: Routing
    auth: Authenticator
    queries: Queries
    registry: CollectorRegistry
    metrics: RouterMetrics
    deadletters: DeadLetterQueries
    letter_book: LetterBook
    related: RelatedService
    api_limit: RateLimiter = field(default_factory=lambda: RateLimiter(0, 1))
    broker: KafkaBroker | None = None
    consuming: bool = False
    consumer: BatchConsumer | None = None  # its ``stalled`` feeds the readiness probe
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _pool: asyncpg.Pool | None = None
    _workflow: Workflow | None = None
    _views: Views | None = None
    _notifier: QueueNotifier | None = None
    _letters: Letters | None = None

    def attach(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._notifier = QueueNotifier(pool, self.queries)
        self._workflow = Workflow(
            pool,
            self.queries,
            self.routing,
            self.metrics,
            lease_s=self.settings.router_lease_s,
            on_change=self._notifier.changed,
        )
        self._views = Views(pool, self.queries, self._workflow, self.deadletters, self.related)
        self._letters = Letters(pool, self.queries, load_letter_queries(), self.letter_book)

    def detach(self) -> None:
        self._pool = self._workflow = self._views = self._notifier = self._letters = None

    @property
    def notifier(self) -> QueueNotifier:
        if self._notifier is None:
            raise NotStarted("the router is not started")
        return self._notifier

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise NotStarted("the router is not started")
        return self._pool

    @property
    def workflow(self) -> Workflow:
        if self._workflow is None:
            raise NotStarted("the router is not started")
        return self._workflow

    @property
    def letters(self) -> Letters:
        if self._letters is None:
            raise NotStarted("the router is not started")
        return self._letters

    @property
    def views(self) -> Views:
        if self._views is None:
            raise NotStarted("the router is not started")
        return self._views
