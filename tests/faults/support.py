"""Load, counting and reporting helpers shared by the fault-injection tests.

Counts come from PostgreSQL directly (not from the API): ``work_items`` has one
row per request id (its primary key), and every insert also writes one
``routed`` audit event, so a second insert of the same request would show as a
second ``routed`` event even though the primary key hides it in ``work_items``.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from shared.events import DEADLETTER_V1, request_id_for
from tests.fixtures.services import corpus_rows, read_topic

SOURCE = "demo"


def bodies(tag: str, n: int) -> list[dict[str, Any]]:
    """``n`` intake requests from the demo corpus (cycled), with unique external ids."""
    rows = corpus_rows()
    channels = ("email", "web", "letter", "phone")
    return [
        {
            "source": SOURCE,
            "external_id": f"{tag}-{i:05d}",
            "channel": channels[i % len(channels)],
            "body": rows[i % len(rows)]["text"],
        }
        for i in range(n)
    ]


def id_of(body: dict[str, Any]) -> str:
    return request_id_for(body["source"], body["external_id"])


@dataclass
class Tally:
    """What the client saw: 202s (with ids), other answers, and no answer at all."""

    sent: int = 0
    accepted: dict[str, str] = field(default_factory=dict)  # external_id -> request_id
    refused: dict[int, int] = field(default_factory=dict)  # status -> count
    unanswered: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        self.sent += other.sent
        self.accepted.update(other.accepted)
        for status, count in other.refused.items():
            self.refused[status] = self.refused.get(status, 0) + count


async def post_all(
    url: str,
    key: str,
    items: list[dict[str, Any]],
    *,
    concurrency: int = 16,
    timeout_s: float = 10.0,
    tally: Tally | None = None,
) -> Tally:
    """POST every item once (no retry: retrying is the caller's decision).

    Pass ``tally`` to watch the progress while the requests are being sent.
    """
    tally = tally if tally is not None else Tally()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {key}"}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            item = queue.get_nowait()
            tally.sent += 1
            try:
                resp = await client.post("/v1/requests", json=item)
            except httpx.HTTPError:
                tally.unanswered.append(item)  # killed mid-request, refused, timed out
                continue
            if resp.status_code == 202:
                tally.accepted[item["external_id"]] = resp.json()["request_id"]
            else:
                tally.refused[resp.status_code] = tally.refused.get(resp.status_code, 0) + 1
                tally.unanswered.append(item)

    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=timeout_s
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return tally


@dataclass(frozen=True)
class Counts:
    queued: int  # distinct accepted ids with a work item
    items: int  # work items for the test's external ids (accepted or not)
    routed_events: int  # 'routed' audit events for those items
    duplicates: int  # second items/second routings of one request

    @property
    def dup_free(self) -> bool:
        return self.duplicates == 0


async def count(dsn: str, tag: str, ids: list[str]) -> Counts:
    conn = await asyncpg.connect(dsn)
    try:
        queued = await conn.fetchval(
            "SELECT count(*) FROM work_items WHERE request_id = ANY($1::uuid[])", ids
        )
        items, distinct = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT (source, external_id)) FROM work_items"
            " WHERE source = $1 AND external_id LIKE $2",
            SOURCE,
            f"{tag}-%",
        )
        routed, routed_distinct = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT a.request_id) FROM audit_events a"
            " JOIN work_items w USING (request_id)"
            " WHERE a.event = 'routed' AND w.source = $1 AND w.external_id LIKE $2",
            SOURCE,
            f"{tag}-%",
        )
    finally:
        await conn.close()
    duplicates = (items - distinct) + (routed - routed_distinct)
    return Counts(queued, items, routed, duplicates)


async def wait_queued(
    dsn: str, tag: str, ids: list[str], timeout_s: float, poll_s: float = 0.5
) -> Counts:
    """Poll until every id has its work item (or the time is up); return the last counts."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = await count(dsn, tag, ids)
        if counts.queued >= len(set(ids)) or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(poll_s)


async def wait_until(
    predicate: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 0.2
) -> None:
    """Poll ``predicate`` (sync or async) until true; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while not await _value(predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        await asyncio.sleep(poll_s)


async def metric(base_url: str, name: str) -> float:
    """The value of one unlabelled Prometheus sample of a service (0 when absent)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        text = (await client.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f"{name} ") or line.startswith(f"{name}{{}}"):
            return float(line.split()[-1])
    return 0.0


async def _value(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


def report(scenario: str, **counts: object) -> str:
    """One line with the counts a scenario checked (pytest -s / -rA shows it)."""
    line = f"[{scenario}] " + " ".join(f"{k}={v}" for k, v in counts.items())
    print(line, flush=True)
    return line


async def produce(
    bootstrap: str, topic: str, messages: Sequence[tuple[bytes, bytes | None]]
) -> None:
    """Raw records, tombstones (value None) included, each acknowledged by the broker."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def deadlettered_for(bootstrap: str, ids: Sequence[str]) -> int:
    """Dead letters on the broker about these request ids (a letter keeps the original
    record's key, the request id). Read from the topic, so a restarted service's
    metrics going back to zero does not hide one."""
    wanted = {str(i) for i in ids}
    records = await read_topic(bootstrap, DEADLETTER_V1, wait_s=5)
    return sum(1 for r in records if r.key is not None and r.key.decode() in wanted)


async def post_with_retry(url: str, key: str, items: list[dict[str, Any]], wait_s: float) -> Tally:
    """An intake client that honours 503 + Retry-After until ``wait_s`` has passed."""
    tally = Tally()
    pending = items
    deadline = time.monotonic() + wait_s
    while pending and time.monotonic() < deadline:
        attempt = await post_all(url, key, pending, concurrency=8)
        tally.merge(attempt)
        pending = attempt.unanswered
        if pending:
            await asyncio.sleep(1.0)
    tally.unanswered = pending
    return tally
