"""``triage deadletter`` on the real broker: list, show, replay, replay again (issue 13, item 7)."""

from __future__ import annotations

import argparse

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from shared.consumer import decode_record
from shared.events import CLASSIFIED_V1, DeadLetter, deadletter_payload, encode
from shared.settings import KafkaSettings
from tests.fixtures.factories import classified
from tests.fixtures.services import read_topic
from tests.fixtures.stack import Topics
from tests.integration.router.conftest import Store
from triage.deadletter import chosen, read_letters, run


async def _send(bootstrap: str, topic: str, *letters: DeadLetter) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for letter in letters:
            key = (letter.original_key or "").encode()
            await producer.send_and_wait(topic, encode(letter), key=key)
    finally:
        await producer.stop()


def _letter(topics: Topics, raw: bytes, key: str) -> DeadLetter:
    payload, encoding = deadletter_payload(raw)
    return DeadLetter(
        stage="router", reason="processing", error="OperationalError: fixed since",
        attempts=3, original_topic=topics.classified, original_partition=0,
        original_offset=1, original_key=key, payload=payload, payload_encoding=encoding,
    )  # fmt: skip


async def test_replay_sends_the_original_bytes_back_and_makes_one_work_item(
    kafka_bootstrap: str,
    topics: Topics,
    pool: asyncpg.Pool,
    store: Store,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event, other = classified(source="demo"), classified(source="demo")
    raw = encode(event)
    wanted = _letter(topics, raw, event.request_id)
    await _send(kafka_bootstrap, topics.deadletter, wanted, _letter(topics, b"x", other.request_id))
    settings = KafkaSettings(kafka_bootstrap=kafka_bootstrap, topic_deadletter=topics.deadletter)

    letters = await read_letters(settings)
    assert [letter.event_id for letter in chosen(letters, [wanted.event_id], None)] == [
        wanted.event_id
    ]
    show = argparse.Namespace(action="show", id=wanted.event_id, payload=False)
    assert await run(show, settings) == 0
    assert '"payload":' not in capsys.readouterr().out  # personal data only on request

    again = argparse.Namespace(action="replay", ids=[wanted.event_id], since=None, dry_run=False)
    assert await run(again, settings) == 0
    assert await run(again, settings) == 0  # an operator replays twice
    records = await read_topic(kafka_bootstrap, topics.classified, at_least=2)
    assert [r.value for r in records] == [raw, raw]
    assert {r.key for r in records} == {event.request_id.encode()}
    assert dict(records[0].headers)["triage-event-type"] == CLASSIFIED_V1.encode()

    await store(*(decode_record(r.value, CLASSIFIED_V1) for r in records))
    count = await pool.fetchval("SELECT count(*) FROM work_items WHERE request_id = $1",
                                event.request_id)  # fmt: skip
    assert count == 1
