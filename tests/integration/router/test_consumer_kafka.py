"""The router's consumer on the real broker: each classified request becomes exactly one
work item, a poison message goes to the dead-letter topic, offsets follow the commit."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.router.app import create_app
from shared.events import encode
from tests.fixtures.factories import classified
from tests.fixtures.stack import Topics
from tests.integration.router.conftest import auth, router_settings, source_auth

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=False
    )
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def wait_for(predicate: object, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not met in time")


async def deadletters(bootstrap: str, topic: str, expected: int) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[dict[str, object]] = []
    try:
        deadline = time.monotonic() + 60
        while len(found) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found += [json.loads(r.value) for records in batch.values() for r in records]
    finally:
        await consumer.stop()
    return found


async def test_classified_events_become_items_exactly_once(
    migrated_url: str,
    kafka_bootstrap: str,
    topics: Topics,
    unique_group: str,
    producer: AIOKafkaProducer,
) -> None:
    settings = router_settings(
        migrated_url,
        kafka_bootstrap=kafka_bootstrap,
        router_consumer_enabled=True,
        router_group=unique_group,
        topic_classified=topics.classified,
        topic_received=topics.received,
        topic_deadletter=topics.deadletter,
        router_batch_timeout_ms=50,
        kafka_topic_partitions=2,
    )
    app = create_app(settings)
    events = [
        classified("energy_aid", "high"),
        classified("housing"),
        classified("food_aid", needs_review=True),
    ]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://router"
        ) as client,
    ):
        assert (await client.get("/readyz")).status_code == 200
        await producer.send_and_wait(
            topics.received, encode(events[0].request), key=events[0].request_id.encode()
        )
        for event in [*events, events[0]]:  # the last one is a redelivery
            await producer.send_and_wait(
                topics.classified, encode(event), key=event.request_id.encode()
            )
        await producer.send_and_wait(topics.classified, b'{"event_type": "nonsense"}', key=b"p")

        async def all_routed() -> bool:
            conn = await asyncpg.connect(migrated_url)
            try:
                return int(await conn.fetchval("SELECT count(*) FROM work_items")) >= 3
            finally:
                await conn.close()

        await wait_for(all_routed)
        await asyncio.sleep(1.0)  # let a late duplicate show up if there were one
        items = (await client.get("/v1/queues/energy_aid/items", headers=auth("lena"))).json()
        assert [i["request_id"] for i in items["items"]] == [events[0].request_id]
        review = (await client.get("/v1/queues/review/items", headers=auth("lena"))).json()
        assert [i["request_id"] for i in review["items"]] == [events[2].request_id]
        status = await client.get(
            f"/v1/requests/{events[1].request_id}", headers=source_auth("demo")
        )
        assert status.json()["status"] == "queued"
        metrics = (await client.get("/metrics")).text
        assert 'triage_router_work_items_created_total{priority="3",queue="housing"} 1.0' in metrics
    conn = await asyncpg.connect(migrated_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM work_items") == 3
        assert await conn.fetchval("SELECT count(*) FROM audit_events") == 3
        assert await conn.fetchval("SELECT count(*) FROM received_requests") == 1
    finally:
        await conn.close()
    letters = await deadletters(kafka_bootstrap, topics.deadletter, 1)
    assert len(letters) == 1
    assert (letters[0]["stage"], letters[0]["reason"]) == ("router", "schema")
    assert letters[0]["payload"] == '{"event_type": "nonsense"}'
