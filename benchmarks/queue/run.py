"""``make bench-queue``: claim+complete throughput of the work queue vs procrastinate.

Both workloads run in this process, on the same PostgreSQL server, in two fresh
databases: ``--items`` waiting items (jobs), ``--agents`` concurrent asyncio
agents (one pool connection each) that take the next one and finish it, until
``--claims`` are done. The router side goes through ``Workflow.claim`` and
``Workflow.complete`` (the API's code, audit events and NOTIFY included, HTTP
excluded); procrastinate's side through its ``JobManager.fetch_job`` and
``finish_job`` (what its worker calls, the task itself being a no-op).

Uses ``TRIAGE_DATABASE_URL`` as the server when set, else starts a private one.
procrastinate is the reference, not a dependency: ``pip install procrastinate``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import asyncpg

from benchmarks.e2e.report import update_docs
from benchmarks.queue.report import SECTION, markdown
from services.router.auth import Principal
from services.router.db import create_pool, load_queries
from services.router.metrics import RouterMetrics
from services.router.migrate import migrate
from services.router.notify import QueueNotifier
from services.router.rules import load_rules
from services.router.settings import DEFAULT_RULES
from services.router.workflow import Workflow
from shared.metrics import new_registry

log = logging.getLogger(__name__)

QUEUE = "energy_aid"
# Filler text for the items: the size of a typical request, no personal data.
BODY = "Demande d'aide pour la facture d'énergie du mois. " * 12

SEED_ITEMS = """
INSERT INTO work_items (request_id, source, external_id, channel, received_at, subject, body,
    attachments, metadata, language, type, urgency, needs_review, model_type, model_urgency,
    model_version, classification, classified_at, queue, priority, due_at)
SELECT gen_random_uuid(), 'bench', 'b-' || g, 'email', now() - make_interval(secs => g),
    'Facture', $2, '[]', '{}', 'fr', 'energy_aid', u.urgency, false, 'energy_aid', u.urgency,
    'bench', '{"type": "energy_aid"}', now(), $3, u.priority,
    now() + make_interval(days => u.priority * 2, secs => g)
FROM generate_series(1, $1) AS g
CROSS JOIN LATERAL (SELECT (ARRAY['critical', 'high', 'normal', 'low'])[1 + g % 4] AS urgency,
                           1 + g % 4 AS priority) AS u
"""
SEED_AUDIT = """
INSERT INTO audit_events (request_id, event, actor, queue, details)
SELECT request_id, 'routed', 'router', queue, '{"model_version": "bench"}' FROM work_items
"""


@dataclass
class Result:
    claims: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, other: Result) -> None:
        self.claims += other.claims
        self.seconds += other.seconds
        self.latencies_ms += other.latencies_ms

    @property
    def per_s(self) -> float:
        return self.claims / self.seconds if self.seconds else 0.0

    def pct_ms(self, q: int) -> float | None:
        if len(self.latencies_ms) < 2:
            return None
        return statistics.quantiles(self.latencies_ms, n=100)[q - 1]


async def run_agents(
    agents: int, claims: int, step: Callable[[int], Awaitable[float | None]]
) -> Result:
    """``agents`` tasks call ``step(agent)`` (returns claim latency, None = queue empty)."""
    remaining = claims
    latencies: list[float] = []

    async def agent(n: int) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            latency = await step(n)
            if latency is None:
                return
            latencies.append(latency)

    start = time.perf_counter()
    await asyncio.gather(*(agent(n) for n in range(agents)))
    return Result(len(latencies), time.perf_counter() - start, latencies)


class Workload(Protocol):
    async def setup(self) -> None: ...
    async def run(self, claims: int) -> Result: ...
    async def close(self) -> None: ...


class RouterWorkload:
    """Agents call Workflow.claim then Workflow.complete (the API's code without HTTP)."""

    def __init__(self, dsn: str, items: int, agents: int) -> None:
        self.dsn, self.items, self.agents = dsn, items, agents

    async def setup(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            await migrate(conn)
            await conn.execute(SEED_ITEMS, self.items, BODY, QUEUE)
            await conn.execute(SEED_AUDIT)
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
        self.pool = await create_pool(self.dsn, min_size=self.agents + 1, max_size=self.agents + 1)
        queries = load_queries()
        self.notifier = QueueNotifier(self.pool, queries)
        self.flow = Workflow(
            self.pool,
            queries,
            load_rules(DEFAULT_RULES),
            RouterMetrics(new_registry()),
            lease_s=1800,
            on_change=self.notifier.changed,
        )
        self.people = [
            Principal(f"agent{n}", "agent", frozenset({QUEUE})) for n in range(self.agents)
        ]

    async def step(self, n: int) -> float | None:
        who = self.people[n]
        start = time.perf_counter()
        item = await self.flow.claim(who, QUEUE)
        latency = (time.perf_counter() - start) * 1000
        if item is None:
            return None
        await self.flow.complete(who, str(item["request_id"]))
        return latency

    async def run(self, claims: int) -> Result:
        notifying = asyncio.create_task(self.notifier.run())
        try:
            return await run_agents(self.agents, claims, self.step)
        finally:
            notifying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notifying

    async def close(self) -> None:
        await self.pool.close()


class ProcrastinateWorkload:
    """procrastinate: ``worker=True`` runs its worker (concurrency = agents) on a no-op
    task; ``worker=False`` drives ``JobManager.fetch_job``/``finish_job`` directly —
    the same calls without the worker's own overhead (the stricter reference)."""

    def __init__(self, dsn: str, items: int, agents: int, *, worker: bool) -> None:
        self.dsn, self.items, self.agents, self.worker = dsn, items, agents, worker
        self.done = 0
        self.target = 0
        self.reached = asyncio.Event()
        self.reached_at = 0.0

    async def setup(self) -> None:
        import procrastinate

        self.connector = procrastinate.PsycopgConnector(
            conninfo=self.dsn, min_size=self.agents + 2, max_size=self.agents + 2
        )
        self.app = procrastinate.App(connector=self.connector)

        @self.app.task(name="bench", queue="bench")
        async def noop() -> None:
            self.done += 1
            if self.done == self.target:
                self.reached_at = time.perf_counter()
                self.reached.set()

        await self.app.open_async()
        await self.app.schema_manager.apply_schema_async()
        for start in range(0, self.items, 5000):
            await noop.batch_defer_async(*({} for _ in range(min(5000, self.items - start))))
        await _vacuum(self.dsn)
        self.manager = self.app.job_manager
        self.worker_id = await self.manager.register_worker()
        self.succeeded = procrastinate.jobs.Status.SUCCEEDED

    async def step(self, n: int) -> float | None:
        start = time.perf_counter()
        job = await self.manager.fetch_job(["bench"], self.worker_id)
        latency = (time.perf_counter() - start) * 1000
        if job is None:
            return None
        await self.manager.finish_job(job, self.succeeded, delete_job=False)
        return latency

    async def run(self, claims: int) -> Result:
        if not self.worker:
            return await run_agents(self.agents, claims, self.step)
        self.target = self.done + claims
        self.reached.clear()
        start = time.perf_counter()
        worker = asyncio.create_task(
            self.app.run_worker_async(
                queues=["bench"], concurrency=self.agents, wait=True, install_signal_handlers=False
            )
        )
        await self.reached.wait()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        return Result(claims, self.reached_at - start, [])

    async def close(self) -> None:
        await self.app.close_async()


async def _vacuum(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _create_db(admin: str, name: str) -> str:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        settings = await conn.fetch(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('fsync', 'synchronous_commit', 'shared_buffers', 'server_version')"
        )
    finally:
        await conn.close()
    log.info("server settings: %s", {r["name"]: r["setting"] for r in settings})
    return urlsplit(admin)._replace(path=f"/{name}").geturl()


async def _drop_db(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


WORKLOADS: dict[str, Callable[[str, argparse.Namespace], Workload]] = {
    "router": lambda dsn, a: RouterWorkload(dsn, a.items, a.agents),
    "procrastinate_worker": lambda dsn, a: ProcrastinateWorkload(
        dsn, a.items, a.agents, worker=True
    ),
    "procrastinate_fetch_finish": lambda dsn, a: ProcrastinateWorkload(
        dsn, a.items, a.agents, worker=False
    ),
}


async def run(admin: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set every workload up, then run them in interleaved slices so that load from
    elsewhere on the machine affects all of them alike."""
    tag = uuid.uuid4().hex[:8]
    workloads: dict[str, Workload] = {}
    results = {name: Result() for name in WORKLOADS}
    try:
        for name, make in WORKLOADS.items():
            dsn = await _create_db(admin, f"bench_{name}_{tag}")
            workloads[name] = make(dsn, args)
            log.info("%s: seeding %d items", name, args.items)
            await workloads[name].setup()
        per_slice = max(args.claims // args.slices, 1)
        for round_ in range(args.slices):
            for name, workload in workloads.items():
                part = await workload.run(per_slice)
                results[name].add(part)
                log.info("round %d %s: %.0f claims/s", round_ + 1, name, part.per_s)
    finally:
        for name, workload in workloads.items():
            with contextlib.suppress(Exception):
                await workload.close()
            await _drop_db(admin, f"bench_{name}_{tag}")
    return summary(results, args)


def summary(results: dict[str, Result], args: argparse.Namespace) -> dict[str, Any]:
    ours = results["router"]
    worker = results["procrastinate_worker"]
    bare = results["procrastinate_fetch_finish"]
    return {
        "claims_per_s": round(ours.per_s, 1),
        "procrastinate_per_s": round(worker.per_s, 1),
        "ratio": round(ours.per_s / worker.per_s, 2),
        "p99_claim_ms": _round(ours.pct_ms(99)),
        "p50_claim_ms": _round(ours.pct_ms(50)),
        "procrastinate_fetch_finish_per_s": round(bare.per_s, 1),
        "ratio_fetch_finish": round(ours.per_s / bare.per_s, 2),
        "procrastinate_p99_fetch_ms": _round(bare.pct_ms(99)),
        "items": args.items,
        "agents": args.agents,
        "claims": ours.claims,
        "slices": args.slices,
        "procrastinate_version": _version("procrastinate"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU",
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _server(args: argparse.Namespace) -> tuple[str, Any]:
    dsn = os.environ.get("TRIAGE_DATABASE_URL")
    if dsn:
        return dsn, None
    from stack.postgres import PostgresServer

    server = PostgresServer(Path(tempfile.mkdtemp(prefix="triage-bench-")), fast=args.fast)
    server.start()
    return server.dsn, server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-queue", description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--claims", type=int, default=20_000, help="claims per workload")
    parser.add_argument("--slices", type=int, default=4, help="interleaved rounds")
    parser.add_argument("--out", type=Path, default=Path("bench-queue.json"))
    parser.add_argument("--docs", type=Path, default=None, help="update this markdown section")
    parser.add_argument("--fast", action="store_true", help="private server with fsync off")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench-queue: %(message)s")
    # procrastinate logs every job at INFO: silence it so as not to slow the reference down
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    admin, server = _server(args)
    try:
        result = asyncio.run(run(admin, args))
    finally:
        if server is not None:
            server.remove()
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if args.docs is not None:
        where = "private, fsync off" if args.fast else "private, default durability"
        update_docs(
            args.docs,
            markdown(result, "TRIAGE_DATABASE_URL" if server is None else where),
            SECTION,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
