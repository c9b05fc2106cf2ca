"""PostgreSQL restarted during routing; the broker stopped and started again.

What the broker test covers, precisely. The local broker (tansu, memory storage;
this build has no durable storage engine) forgets everything when it stops:
topics, records, consumer-group offsets. A durable Kafka cluster would keep them,
so "nothing accepted is lost across a broker outage" cannot be shown with it.
Here, instead:

* before the stop, every accepted request is routed (nothing is left on the
  broker that a memory broker would drop: that loss would be the storage's);
* while the broker is down, ingest answers 503 + Retry-After, never 202. A 503
  says "not acknowledged", not "never delivered": the producer may still deliver
  a timed-out record once a broker is back, so the client retries with the same
  external_id and each of those requests still ends in exactly one work item;
* a new, empty broker on the same address gets the three topics back with their
  partition counts (what a durable broker keeps); ingest, classifier and router,
  never restarted, reconnect, rejoin their groups (offsets lost: they restart
  from the earliest record of the new, empty topics) and every request sent
  afterwards ends in exactly one work item.

Not covered: records on the broker at the moment it stops (lost with memory
storage) and consumer offsets surviving a broker restart.
Consumers and producers restarting around a broker that stays up are covered
by the kill -9 tests (test_kill.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import httpx
import pytest

from shared.events import CLASSIFIED_V1, DEADLETTER_V1, DOCUMENTS_TOPIC, RECEIVED_V1
from shared.kafka import ensure_topics
from shared.settings import KafkaSettings
from stack.up import LocalStack
from tests.faults.support import (
    bodies,
    count,
    deadlettered_for,
    id_of,
    post_all,
    post_with_retry,
    report,
    wait_queued,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

N = 2000
DOWN_S = 5.0
DURABLE_DATABASE = True  # the PostgreSQL test crashes the server: real commits only


async def test_postgres_restart_during_routing(stack: LocalStack) -> None:
    assert stack.postgres is not None
    dsn, key = stack.env["TRIAGE_DATABASE_URL"], stack.env["TRIAGE_DEMO_API_KEY"]
    tag = "pg-restart"
    items = bodies(tag, N)
    ids = [id_of(b) for b in items]
    # Ingest records each request in PostgreSQL before its 202 (the intake ledger), so
    # while the server is down it answers 503 + Retry-After: the client retries.
    posting = asyncio.create_task(post_with_retry(stack.running["ingest"].url, key, items, 180))

    async def routing_started() -> bool:
        return (await count(dsn, tag, ids)).queued >= N // 4 or posting.done()

    await wait_until(routing_started, 120, "a quarter of the requests routed")
    before = (await count(dsn, tag, ids)).queued
    await asyncio.to_thread(stack.postgres.stop, "immediate")  # a crash, not a clean stop
    await asyncio.sleep(DOWN_S)
    await asyncio.to_thread(stack.postgres.start)
    tally = await posting
    accepted = list(tally.accepted.values())
    counts = await wait_queued(dsn, tag, accepted, 240)
    lost = len(accepted) - counts.queued
    letters = await deadlettered_for(stack.env["TRIAGE_KAFKA_BOOTSTRAP"], accepted)
    report(
        "postgres restart", sent=tally.sent, accepted=len(accepted),
        queued_before_stop=before, down_s=DOWN_S, queued=counts.queued, items=counts.items,
        duplicates=counts.duplicates, deadlettered=letters, lost=lost,
        refused_503_then_retried=tally.refused.get(503, 0),
    )  # fmt: skip
    assert len(accepted) == N, f"ingest refused: {tally.refused}"
    assert before < N, "PostgreSQL stopped after everything was routed"
    assert lost == 0 and counts.items == N and counts.duplicates == 0 and letters == 0


def _restart_broker_with_topics(stack: LocalStack) -> None:
    """A new, empty broker on the same address, given back the topics a durable one keeps.

    The services are frozen (SIGSTOP) for the second this takes: otherwise the first
    client to ask for metadata makes tansu auto-create the topic with its own default
    partition count, a state no durable broker comes back in. They resume (SIGCONT)
    on a broker without their consumer groups and offsets, and must reconnect,
    rejoin and carry on by themselves.
    """
    assert stack.broker is not None
    procs = [s.proc for s in stack.running.values() if s.proc is not None]
    for proc in procs:
        os.killpg(proc.pid, signal.SIGSTOP)
    try:
        stack.broker.start()
        settings = KafkaSettings(kafka_bootstrap=stack.broker.bootstrap)
        names = [RECEIVED_V1, CLASSIFIED_V1, DEADLETTER_V1, DOCUMENTS_TOPIC]
        asyncio.run(ensure_topics(settings, names))
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGCONT)


async def test_broker_outage(stack: LocalStack) -> None:
    assert stack.broker is not None
    dsn, key = stack.env["TRIAGE_DATABASE_URL"], stack.env["TRIAGE_DEMO_API_KEY"]
    ingest = stack.running["ingest"].url
    first = await post_all(ingest, key, bodies("broker-before", 300))
    first_ids = list(first.accepted.values())
    drained = await wait_queued(dsn, "broker-before", first_ids, 120)
    assert drained.queued == 300, "everything accepted is routed before the broker stops"

    await asyncio.to_thread(stack.broker.stop)
    down_items = bodies("broker-down", 5)
    refused: list[tuple[int, str | None, dict[str, Any]]] = []
    async with httpx.AsyncClient(
        base_url=ingest, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        # concurrently: each waits for the publish timeout before its 503
        answers = await asyncio.gather(*(client.post("/v1/requests", json=b) for b in down_items))
        for resp in answers:
            refused.append((resp.status_code, resp.headers.get("retry-after"), resp.json()))
    await asyncio.to_thread(_restart_broker_with_topics, stack)

    after_items = bodies("broker-after", 300)
    after = await post_with_retry(ingest, key, after_items, wait_s=120)
    after_ids = list(after.accepted.values())
    counts = await wait_queued(dsn, "broker-after", after_ids, 180)
    # A 503 means "not acknowledged", not "never delivered": the producer may still
    # deliver a timed-out record once the broker is back. The client retries them.
    down_ids = [id_of(b) for b in down_items]
    delivered_anyway = (await count(dsn, "broker-down", down_ids)).items
    retried = await post_with_retry(ingest, key, down_items, wait_s=60)
    down = await wait_queued(dsn, "broker-down", list(retried.accepted.values()), 60)
    letters = await deadlettered_for(
        stack.env["TRIAGE_KAFKA_BOOTSTRAP"], [*after_ids, *retried.accepted.values()]
    )
    report(
        "broker outage", sent_before=300, queued_before=drained.queued,
        sent_while_down=len(refused), refused_503=sum(s == 503 for s, _, _ in refused),
        refused_but_delivered_later=delivered_anyway, retried_after=len(retried.accepted),
        sent_after=len(after_items), retries_after=after.sent - len(after_items),
        accepted_after=len(after_ids), queued=counts.queued + down.queued,
        duplicates=counts.duplicates + down.duplicates + drained.duplicates,
        deadlettered=letters,
        lost=len(after_ids) - counts.queued + len(down_items) - down.queued,
    )  # fmt: skip
    for status, retry_after, body in refused:
        assert status == 503 and retry_after and int(retry_after) > 0, (status, body)
        assert body["error"] == "broker_unavailable" and body["message"]
    assert len(after_ids) == 300 and not after.unanswered
    assert counts.queued == 300 and counts.items == 300 and counts.duplicates == 0
    assert sorted(retried.accepted.values()) == sorted(down_ids)
    assert down.queued == down.items == 5 and down.duplicates == 0
    assert letters == 0
