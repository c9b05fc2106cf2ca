"""At-least-once batch consumption with a dead-letter topic, shared by the pipeline stages.

One consumed batch goes through ``BatchConsumer.handle``:

1. every record is decoded against the expected contract; a record that cannot
   be (not JSON, wrong type, schema error) is dead-lettered at once;
2. the valid events are processed together (one embed call, one transaction);
3. if that fails with a ``TransientError`` (broker or database unreachable), the
   exception propagates: FastStream nacks, the batch is re-fetched after a
   backoff and nothing is dead-lettered — the infrastructure will come back;
4. if it fails otherwise, each event is retried alone up to ``max_attempts``
   times to isolate the culprit, which is dead-lettered with its error, while
   the others go through;
5. the handler returns, and only then FastStream commits the offsets
   (``AckPolicy.NACK_ON_ERROR`` with auto-commit off).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from shared.events import EVENT_TYPE_HEADER, DeadLetter, PoisonMessage, decode, encode
from shared.kafka import consumer_options
from shared.metrics import ConsumerMetrics
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

E = TypeVar("E")


class TransientError(Exception):
    """Infrastructure failure: retry the whole batch later, dead-letter nothing."""


@dataclass(frozen=True)
class Consumed(Generic[E]):
    event: E
    topic: str
    partition: int
    offset: int
    key: bytes | None


ProcessBatch = Callable[[list[Consumed[Any]]], Awaitable[None]]


class BatchConsumer:
    def __init__(
        self,
        *,
        broker: KafkaBroker,
        stage: str,
        expected_event_type: str,
        process: ProcessBatch,
        deadletter_topic: str,
        metrics: ConsumerMetrics,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self.broker = broker
        self.stage = stage
        self.expected = expected_event_type
        self.process = process
        self.deadletter_topic = deadletter_topic
        self.metrics = metrics
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s

    async def handle(self, records: Sequence[Any]) -> None:
        if not records:
            return
        topic = records[0].topic
        start = time.perf_counter()
        self.metrics.batch_size.labels(self.stage, topic).observe(len(records))
        valid: list[Consumed[Any]] = []
        for record in records:
            try:
                event = decode_record(record.value, self.expected)
            except PoisonMessage as exc:
                await self._deadletter(record, "schema", str(exc), attempts=1)
                continue
            valid.append(Consumed(event, record.topic, record.partition, record.offset, record.key))
        if valid:
            await self._process_all(valid)
        self.metrics.batch_duration.labels(self.stage, topic).observe(time.perf_counter() - start)

    async def _process_all(self, items: list[Consumed[Any]]) -> None:
        try:
            await self.process(items)
        except TransientError:
            log.warning("%s: transient failure on a batch of %d, retrying", self.stage, len(items))
            self.metrics.messages.labels(self.stage, items[0].topic, "retry").inc(len(items))
            await asyncio.sleep(self.retry_backoff_s)
            raise
        except Exception:
            log.warning("%s: batch of %d failed, isolating", self.stage, len(items), exc_info=True)
            for item in items:
                await self._process_alone(item)
            return
        self.metrics.messages.labels(self.stage, items[0].topic, "ok").inc(len(items))

    async def _process_alone(self, item: Consumed[Any]) -> None:
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self.process([item])
            except TransientError:
                await asyncio.sleep(self.retry_backoff_s)
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: attempt %d/%d failed at %s[%d]@%d: %s", self.stage, attempt,
                            self.max_attempts, item.topic, item.partition, item.offset,
                            type(exc).__name__)  # fmt: skip
                continue
            self.metrics.messages.labels(self.stage, item.topic, "ok").inc()
            return
        await self._deadletter_event(item, error)

    async def _deadletter_event(self, item: Consumed[Any], error: str) -> None:
        payload = encode(item.event)
        await self._send_deadletter(
            DeadLetter(
                stage=self.stage, reason="processing", error=error[:2000],
                attempts=self.max_attempts, original_topic=item.topic,
                original_partition=item.partition, original_offset=item.offset,
                original_key=item.key.decode(errors="replace") if item.key else None,
                payload=payload.decode(),
            ),
            item.key,
            item.topic,
        )  # fmt: skip

    async def _deadletter(self, record: Any, reason: str, error: str, attempts: int) -> None:
        value: bytes = record.value or b""
        await self._send_deadletter(
            DeadLetter(
                stage=self.stage, reason=reason, error=error[:2000], attempts=attempts,
                original_topic=record.topic, original_partition=record.partition,
                original_offset=record.offset,
                original_key=record.key.decode(errors="replace") if record.key else None,
                payload=value.decode(errors="replace"),
            ),
            record.key,
            record.topic,
        )  # fmt: skip

    async def _send_deadletter(self, letter: DeadLetter, key: bytes | None, topic: str) -> None:
        try:
            await self.broker.publish(
                encode(letter),
                self.deadletter_topic,
                key=key,
                headers={EVENT_TYPE_HEADER: letter.event_type, "triage-stage": self.stage,
                         "triage-reason": letter.reason},
            )  # fmt: skip
        except Exception as exc:  # the record is not committed: it comes back
            raise TransientError("dead-letter publish failed") from exc
        log.warning("%s: dead-lettered %s[%s]@%s reason=%s", self.stage, letter.original_topic,
                    letter.original_partition, letter.original_offset, letter.reason)  # fmt: skip
        self.metrics.messages.labels(self.stage, topic, "deadletter").inc()
        self.metrics.deadlettered.labels(self.stage, letter.reason).inc()


def decode_record(value: bytes | None, expected: str) -> Any:
    """``decode`` for a consumed record: anything undecodable is a PoisonMessage.

    A tombstone (no value) or JSON nested deep enough to exhaust the parser's
    recursion raises something else than PoisonMessage in ``decode``; left
    uncaught, the batch would be nacked and re-fetched forever, stopping its
    partition.
    """
    if value is None:
        raise PoisonMessage("record has no value (tombstone)")
    try:
        return decode(value, expected)
    except PoisonMessage:
        raise
    except Exception as exc:  # e.g. RecursionError from json.loads
        raise PoisonMessage(f"undecodable: {type(exc).__name__}") from exc


async def _raw_decoder(msg: Any, original: Any) -> Any:
    # Keep the bytes: decoding is ours, so a poison message reaches the handler.
    return msg.body


class RecordHandler(Protocol):
    async def handle(self, records: Sequence[Any]) -> None: ...


def subscribe(
    broker: KafkaBroker,
    settings: KafkaSettings,
    consumer: RecordHandler,
    *,
    topic: str,
    group_id: str,
    max_records: int,
    batch_timeout_ms: int,
) -> Any:
    """Register ``consumer`` on ``broker`` as an explicit-ack batch subscriber; return it.

    ``consumer.handle`` gets the raw records of each batch; offsets are committed when
    it returns, and a raise makes FastStream seek back so the batch comes again.
    """

    subscriber = broker.subscriber(
        topic,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_decoder,
        **consumer_options(settings, group_id),
    )

    @subscriber
    async def on_batch(body: Any, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        await consumer.handle(raw if isinstance(raw, tuple) else (raw,))

    return subscriber


async def report_lag(subscriber: Any, metrics: ConsumerMetrics, group: str) -> None:
    """Lag = fetch highwater - committed offset, per assigned partition.

    ``end_offsets()`` is wrong on tansu; the highwater the last fetch returned is right
    on both brokers.
    """
    consumer = getattr(subscriber, "consumer", None)
    if consumer is None:
        return
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        committed = await consumer.committed(tp) or 0
        metrics.lag.labels(metrics.service, group, tp.topic, str(tp.partition)).set(
            max(highwater - committed, 0)
        )


async def lag_loop(
    subscriber: Any, metrics: ConsumerMetrics, group: str, interval_s: float
) -> None:
    """Refresh the lag gauges until cancelled."""
    while True:
        try:
            await report_lag(subscriber, metrics, group)
        except Exception as exc:  # a rebalance or a broker blip: try again next round
            log.debug("lag refresh failed: %s", type(exc).__name__)
        await asyncio.sleep(interval_s)
