"""BatchConsumer's failure paths with a fake broker: what is retried, what is dead-lettered."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from shared.consumer import (
    BatchConsumer,
    Consumed,
    TransientError,
    UnpublishableResult,
    subscribe,
)
from shared.events import (
    RECEIVED_V1,
    DeadLetter,
    RequestReceived,
    deadletter_payload,
    decode,
    encode,
)
from shared.metrics import ConsumerMetrics
from tests.fixtures.factories import classified


def received(external_id: str | None = None) -> RequestReceived:
    return classified(external_id=external_id).request


class FakeBroker:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, str, dict[str, str]]] = []

    async def publish(self, body: bytes, topic: str, **kwargs: Any) -> None:
        self.sent.append((body, topic, kwargs["headers"]))

    def letters(self) -> list[DeadLetter]:
        return [DeadLetter.model_validate_json(body) for body, _, _ in self.sent]


def _record(value: bytes | None, offset: int = 0) -> SimpleNamespace:
    return SimpleNamespace(topic="in", partition=0, offset=offset, key=b"k", value=value)


def _consumer(process: Any, broker: FakeBroker) -> BatchConsumer:
    return BatchConsumer(
        broker=broker,  # type: ignore[arg-type]
        stage="test", expected_event_type=RECEIVED_V1, process=process,
        deadletter_topic="dl", metrics=ConsumerMetrics(CollectorRegistry(), "test"),
        retry_backoff_s=0.0, max_backoff_s=0.0,
    )  # fmt: skip


async def test_infrastructure_failure_never_dead_letters_and_reports_its_cause() -> None:
    broker = FakeBroker()
    failing = {"on": True}

    async def process(items: list[Consumed[Any]]) -> None:
        if failing["on"]:
            raise TransientError("database: InvalidPasswordError", "credentials")

    consumer = _consumer(process, broker)
    record = _record(encode(received()))
    for _ in range(5):
        with pytest.raises(TransientError):
            await consumer.handle([record])
    assert consumer.stalled == "credentials" and consumer.failures == 5
    assert broker.sent == []
    value = consumer.metrics.transient.labels("test", "credentials")._value.get()
    assert value == 5
    failing["on"] = False
    await consumer.handle([record])
    assert consumer.stalled is None and consumer.failures == 0


def test_backoff_doubles_up_to_its_cap() -> None:
    consumer = _consumer(None, FakeBroker())
    consumer.retry_backoff_s, consumer.max_backoff_s = 0.5, 4.0
    delays = []
    for failures in range(1, 7):
        consumer.failures = failures
        delays.append(consumer.backoff_s())
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_an_event_that_cannot_be_re_encoded_is_dead_lettered_from_its_bytes() -> None:
    broker = FakeBroker()
    calls: list[int] = []

    async def process(items: list[Consumed[Any]]) -> None:
        calls.append(len(items))

    data = json.loads(encode(received()))
    data["body"] = "text \ud800 lone"
    raw = json.dumps(data).encode()  # ASCII JSON with the escape \ud800
    good = _record(encode(received(external_id="ok")), offset=1)
    await _consumer(process, broker).handle([_record(raw), good])
    [letter] = broker.letters()
    assert letter.reason == "schema" and "surrogate" in letter.error
    assert letter.original_bytes() == raw
    assert calls == [1]  # the next one went through


async def test_processing_failure_dead_letters_the_consumed_bytes() -> None:
    broker = FakeBroker()

    async def process(items: list[Consumed[Any]]) -> None:
        raise ValueError("bad data")

    raw = encode(received())
    await _consumer(process, broker).handle([_record(raw)])
    [letter] = broker.letters()
    assert letter.reason == "processing" and letter.original_bytes() == raw
    assert isinstance(decode(letter.original_bytes(), RECEIVED_V1), RequestReceived)


async def test_an_unpublishable_result_is_dead_lettered_at_once() -> None:
    broker = FakeBroker()
    calls: list[int] = []

    async def process(items: list[Consumed[Any]]) -> None:
        calls.append(len(items))
        if any(i.event.external_id == "huge" for i in items):
            raise UnpublishableResult("2000000 bytes, over 1048576")

    batch = [_record(encode(received(external_id="huge"))),
             _record(encode(received(external_id="next")), offset=1)]  # fmt: skip
    await _consumer(process, broker).handle(batch)
    [letter] = broker.letters()
    assert letter.reason == "too_large"
    assert calls == [2, 1, 1]  # the batch, then each alone: no retry of the huge one


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [(b'{"a": "caf\xc3\xa9"}', "utf-8"), (b"\xff\xfe", "base64"), (b"a\x00b", "base64"),
     (b"line\nnext\ttab", "utf-8")],
)  # fmt: skip
def test_dead_letter_payload_keeps_the_exact_bytes(raw: bytes, encoding: str) -> None:
    payload, used = deadletter_payload(raw)
    assert used == encoding
    letter = DeadLetter(stage="s", reason="schema", error="", attempts=1, original_topic="t",
                        payload=payload, payload_encoding=used)  # fmt: skip
    assert letter.original_bytes() == raw
    if used == "base64":
        assert base64.b64decode(payload) == raw


def test_a_subscriber_without_an_idle_wait_is_refused() -> None:
    """A zero poll timeout made the idle documents stage spin a whole core."""
    from faststream.kafka import KafkaBroker

    from shared.settings import KafkaSettings

    handler = SimpleNamespace(handle=None)
    with pytest.raises(ValueError, match="batch_timeout_ms"):
        subscribe(
            KafkaBroker(), KafkaSettings(), handler, topic="t", group_id="g",
            max_records=1, batch_timeout_ms=0,
        )  # fmt: skip
