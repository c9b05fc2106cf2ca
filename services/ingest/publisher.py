"""Publishing accepted requests: a 202 is only ever given after the broker's ack."""

from __future__ import annotations

import asyncio
import logging
import time

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Histogram

from services.ingest.health import BrokerHealth
from shared.events import EVENT_TYPE_HEADER, RequestReceived, encode
from shared.metrics import LATENCY_BUCKETS

log = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    pass


class EventTooLarge(Exception):
    """The request's event would not fit the topics (with room for its classification)."""


class Publisher:
    def __init__(
        self,
        broker: KafkaBroker,
        topic: str,
        timeout_s: float,
        registry: CollectorRegistry,
        health: BrokerHealth | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.broker = broker
        self.topic = topic
        self.timeout_s = timeout_s
        self.health = health or BrokerHealth()
        self.max_bytes = max_bytes
        self.duration = Histogram(
            "triage_ingest_publish_duration_seconds",
            "Time from publish to the broker's acknowledgement",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def encoded(self, event: RequestReceived) -> bytes:
        """The event's bytes; EventTooLarge when they would not fit the topics."""
        payload = encode(event)
        if self.max_bytes is not None and len(payload) > self.max_bytes:
            raise EventTooLarge(f"{len(payload)} bytes, over {self.max_bytes}")
        return payload

    async def publish(
        self, event: RequestReceived, topic: str | None = None, *, payload: bytes | None = None
    ) -> None:
        """Return once the broker acknowledged; raise BrokerUnavailable otherwise.

        ``payload``: the event's bytes when the caller already encoded it (to check its
        size before recording it), so that the hot path encodes each event once."""
        payload = self.encoded(event) if payload is None else payload
        if not self.health.connected:
            raise BrokerUnavailable("not connected to the broker")
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.broker.publish(
                    payload,
                    topic or self.topic,
                    key=event.request_id.encode(),
                    headers={EVENT_TYPE_HEADER: event.event_type},
                    # the request id traces the message; FastStream would draw a uuid4
                    correlation_id=event.request_id,
                )
        except Exception as exc:  # timeout, connection refused, not leader...
            log.warning("publish failed: %s", type(exc).__name__)
            self.health.suspect()
            raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc
        self.duration.observe(time.perf_counter() - start)
