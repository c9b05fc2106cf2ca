"""At-least-once batch consumption with a dead-letter topic, shared by the pipeline stages.

One consumed batch goes through ``BatchConsumer.handle``:

1. every record is decoded against the expected contract; a record that cannot
   be (not JSON, wrong type, schema error) is dead-lettered at once;
2. the valid events are processed together (one embed call, one transaction);
3. if that fails with a ``TransientError`` (broker or database unusable: down,
   credentials rotated, read-only after a fail-over...), the exception propagates
   after a backoff that doubles with each consecutive failure: FastStream nacks,
   the batch is re-fetched and nothing is dead-lettered — the infrastructure will
   come back. Until it does, ``stalled`` names the cause (readiness probes);
4. if it fails otherwise, each event is retried alone up to ``max_attempts``
   times to isolate the culprit, which is dead-lettered with its error, while
   the others go through;
5. the handler returns, and only then FastStream commits the offsets
   (``AckPolicy.NACK_ON_ERROR`` with auto-commit off).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from shared.events import (
    EVENT_TYPE_HEADER,
    DeadLetter,
    PoisonMessage,
    deadletter_payload,
    decode,
    encode,
)
from shared.kafka import consumer_options
from shared.metrics import ConsumerMetrics
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

E = TypeVar("E")


class TransientError(Exception):
    """Infrastructure failure: retry the whole batch later, dead-letter nothing.

    ``cause`` is a short bounded name (metric label, readiness message), never data.
    """

    def __init__(self, message: str, cause: str = "unknown") -> None:
        super().__init__(message)
        self.cause = cause


class UnpublishableResult(Exception):
    """A result the broker can never take (over the maximum message size): the input
    that produced it is dead-lettered, never retried for ever."""


@dataclass(frozen=True)
class Consumed(Generic[E]):
    event: E
    topic: str
    partition: int
    offset: int
    key: bytes | None
    raw: bytes = b""  # the consumed bytes: what a dead letter carries


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
        max_backoff_s: float = 30.0,
    ) -> None:
        self.broker = broker
        self.stage = stage
        self.expected = expected_event_type
        self.process = process
        self.deadletter_topic = deadletter_topic
        self.metrics = metrics
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.max_backoff_s = max_backoff_s
        self.failures = 0  # consecutive transient failures
        self.stalled: str | None = None  # cause of the last one, until a batch goes through

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
            valid.append(
                Consumed(event, record.topic, record.partition, record.offset, record.key,
                         record.value)
            )  # fmt: skip
        if valid:
            await self._process_all(valid)
        self.metrics.batch_duration.labels(self.stage, topic).observe(time.perf_counter() - start)

    async def _process_all(self, items: list[Consumed[Any]]) -> None:
        try:
            await self.process(items)
        except TransientError as exc:
            self.metrics.messages.labels(self.stage, items[0].topic, "retry").inc(len(items))
            await self._back_off(exc)
            raise
        except Exception:
            log.warning("%s: batch of %d failed, isolating", self.stage, len(items), exc_info=True)
            for item in items:
                await self._process_alone(item)
            return
        self._recovered()
        self.metrics.messages.labels(self.stage, items[0].topic, "ok").inc(len(items))

    def backoff_s(self) -> float:
        """The pause before the next try: doubles with each consecutive failure, capped."""
        return min(self.retry_backoff_s * 2 ** max(self.failures - 1, 0), self.max_backoff_s)

    async def _back_off(self, exc: TransientError) -> None:
        self.failures += 1
        self.stalled = exc.cause
        self.metrics.transient.labels(self.stage, exc.cause).inc()
        delay = self.backoff_s()
        log.warning("%s: infrastructure failure (%s), attempt %d; retrying in %.1f s",
                    self.stage, exc.cause, self.failures, delay)  # fmt: skip
        await asyncio.sleep(delay)

    def _recovered(self) -> None:
        if self.failures:
            log.info("%s: recovered after %d failed attempt(s)", self.stage, self.failures)
        self.failures, self.stalled = 0, None

    async def _process_alone(self, item: Consumed[Any]) -> None:
        error = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self.process([item])
            except TransientError as exc:
                await self._back_off(exc)
                raise
            except UnpublishableResult as exc:  # the same input gives the same result
                await self._deadletter_event(item, f"{type(exc).__name__}: {exc}", "too_large")
                return
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: attempt %d/%d failed at %s[%d]@%d: %s", self.stage, attempt,
                            self.max_attempts, item.topic, item.partition, item.offset,
                            type(exc).__name__)  # fmt: skip
                continue
            self.metrics.messages.labels(self.stage, item.topic, "ok").inc()
            return
        await self._deadletter_event(item, error)

    async def _deadletter_event(
        self, item: Consumed[Any], error: str, reason: str = "processing"
    ) -> None:
        # The consumed bytes, not a re-encoding: an event may decode and yet not encode
        # (a lone surrogate), and the raw bytes are what a replay must send again.
        payload, encoding = deadletter_payload(item.raw or encode(item.event))
        await self._send_deadletter(
            DeadLetter(
                stage=self.stage, reason=reason, error=error[:2000],
                attempts=self.max_attempts, original_topic=item.topic,
                original_partition=item.partition, original_offset=item.offset,
                original_key=item.key.decode(errors="replace") if item.key else None,
                payload=payload, payload_encoding=encoding,
            ),
            item.key,
            item.topic,
        )  # fmt: skip

    async def _deadletter(self, record: Any, reason: str, error: str, attempts: int) -> None:
        payload, encoding = deadletter_payload(record.value or b"")
        await self._send_deadletter(
            DeadLetter(
                stage=self.stage, reason=reason, error=error[:2000], attempts=attempts,
                original_topic=record.topic, original_partition=record.partition,
                original_offset=record.offset,
                original_key=record.key.decode(errors="replace") if record.key else None,
                payload=payload, payload_encoding=encoding,
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
            raise TransientError("dead-letter publish failed", "broker") from exc
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
        event = decode(value, expected)
    except PoisonMessage:
        raise
    except Exception as exc:  # e.g. RecursionError from json.loads
        raise PoisonMessage(f"undecodable: {type(exc).__name__}") from exc
    if _SURROGATE_ESCAPE.search(value):
        _check_encodable(event)
    return event


# JSON may escape a lone UTF-16 surrogate (\ud800); json.loads accepts it, but the
# event can then be neither re-encoded (UTF-8) nor stored. Only records holding such
# an escape (rare) pay for the check.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _check_encodable(event: Any) -> None:
    try:
        encode(event)
    except Exception as exc:  # PydanticSerializationError: surrogates not allowed
        raise PoisonMessage("text holds a lone surrogate: cannot be re-encoded") from exc


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
    ``batch_timeout_ms`` must be positive: an empty poll then sleeps as long, and 0
    turns the idle consumer into a loop that spins a core (the documents stage did).
    """
    if batch_timeout_ms < 1:
        raise ValueError("batch_timeout_ms must be at least 1: 0 spins the event loop when idle")
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
