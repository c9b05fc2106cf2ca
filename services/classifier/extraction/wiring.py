"""The extraction stage inside the classifier service's lifespan: its subscriber
(registered before the broker starts), its database pool (opened in the background,
so the classifier serves plain-text requests while PostgreSQL is away), its workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from faststream.kafka import KafkaBroker

from services.classifier.extraction.pool import ExtractionPool
from services.classifier.extraction.readers import Limits
from services.classifier.extraction.stage import ExtractionMetrics, Extractor
from services.classifier.settings import ClassifierSettings
from shared.consumer import BatchConsumer, Consumed, TransientError, subscribe
from shared.db import create_pool
from shared.documents.store import DocumentStore
from shared.events import EVENT_TYPE_HEADER, RECEIVED_V1, RequestReceived, encode
from shared.metrics import ConsumerMetrics

log = logging.getLogger(__name__)
# Longest idle wait of the documents poll; a scan waits at most this before OCR starts.
EXTRACT_POLL_MS = 500


class Extraction:
    def __init__(
        self,
        settings: ClassifierSettings,
        broker: KafkaBroker,
        metrics: ConsumerMetrics,
        extraction_metrics: ExtractionMetrics,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.pool = ExtractionPool(
            settings.extract_workers,
            settings.extract_memory_mb * 1024 * 1024,
            settings.extract_timeout_s,
            settings.extract_niceness,
        )
        limits = Limits(
            max_pages=settings.extract_max_pages,
            ocr_languages=settings.extract_ocr_languages,
            ocr_dpi=settings.extract_ocr_dpi,
            ocr_timeout_s=settings.extract_timeout_s,
        )
        self.extractor: Extractor | None = None
        self._make = lambda store: Extractor(
            store, self.pool, limits, settings.extract_max_chars, self._publish, extraction_metrics
        )
        self._db: asyncpg.Pool | None = None
        self._opening: asyncio.Task[None] | None = None
        consumer = BatchConsumer(
            broker=broker, stage="extractor", expected_event_type=RECEIVED_V1,
            process=self.process, deadletter_topic=settings.topic_deadletter,
            metrics=metrics, max_attempts=settings.classifier_max_attempts,
        )  # fmt: skip
        # One request at a time: a long scan must not hold others past the poll interval.
        # The poll waits for a record (it returns as soon as one arrives): with a
        # timeout of 0 the idle loop spun a whole core (3:23 of CPU in 4:10 idle).
        subscribe(
            broker, settings, consumer, topic=settings.topic_documents,
            group_id=settings.extract_group_id, max_records=1,
            batch_timeout_ms=EXTRACT_POLL_MS,
        )  # fmt: skip

    async def process(self, items: list[Consumed[RequestReceived]]) -> None:
        if self.extractor is None:
            await asyncio.sleep(1.0)  # do not spin while the database is away
            raise TransientError("not connected to the document store yet")
        await self.extractor.process(items)

    async def _publish(self, event: RequestReceived) -> None:
        await self.broker.publish(
            encode(event),
            self.settings.topic_received,
            key=event.request_id.encode(),
            headers={EVENT_TYPE_HEADER: event.event_type},
        )

    def start(self) -> None:
        self._opening = asyncio.create_task(self._open())

    async def _open(self) -> None:
        s = self.settings
        while self._db is None:
            try:
                self._db = await create_pool(
                    s.database_url.get_secret_value(),
                    min_size=0,
                    max_size=min(2, s.database_pool_max),
                )
            except Exception as exc:
                log.warning("document store not reachable (%s); retrying", type(exc).__name__)
                await asyncio.sleep(5.0)
        self.extractor = self._make(DocumentStore(self._db))
        log.info("extraction stage connected to the document store")

    async def stop(self) -> None:
        if self._opening is not None:
            self._opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._opening
        if self._db is not None:
            await self._db.close()
        await asyncio.to_thread(self.pool.close)
