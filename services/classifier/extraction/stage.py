"""The extraction stage: requests with files, from the documents topic to the
classifier's topic with their text.

It runs in the classifier service as its own consumer group on its own topic, so
plain-text requests (published by ingest straight to the classifier's topic) never
wait behind a 40-page scan. For each request: fetch the files from the document
store, extract each in the bounded worker pool, and publish the request again with
one text attachment per page (name and page, so key points can point at them) and
each document's status. A file that cannot be read keeps the request: its
reference says ``unreadable`` and why, the classifier flags the item for review,
and the original stays in the store for the agent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.classifier.extraction.pool import ExtractionPool
from services.classifier.extraction.readers import Extracted, Limits
from shared.consumer import Consumed, TransientError
from shared.documents.store import DocumentStore, StoredDocument
from shared.events import (
    MAX_EVENT_ATTACHMENTS,
    Attachment,
    DocumentRef,
    DocumentStatus,
    RequestReceived,
)

log = logging.getLogger(__name__)

Publish = Callable[[RequestReceived], Awaitable[None]]


def with_text(
    event: RequestReceived,
    results: dict[str, Extracted | str],
    max_chars: int,
) -> RequestReceived:
    """The request with the extracted pages as attachments, within ``max_chars`` in all
    (the event stays bounded: the originals are in the store), and each status."""
    budget = max_chars
    attachments = list(event.attachments)
    refs: list[DocumentRef] = []
    for ref in event.documents:
        result = results.get(ref.document_id, "missing")
        if isinstance(result, str):
            refs.append(
                ref.model_copy(update={"status": DocumentStatus.unreadable, "problem": result})
            )
            continue
        refs.append(
            ref.model_copy(update={"status": DocumentStatus.extracted, "pages": len(result.pages)})
        )
        for page, text in enumerate(result.pages, start=1):
            if text and budget > 0 and len(attachments) < MAX_EVENT_ATTACHMENTS:
                attachments.append(Attachment(name=ref.name, text=text[:budget], page=page))
                budget -= len(attachments[-1].text)
    return event.model_copy(update={"attachments": attachments, "documents": refs})


class ExtractionMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.documents = Counter(
            "triage_extraction_documents_total",
            "Documents extracted, by outcome: extracted, or why unreadable (a fixed code)",
            ["outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "triage_extraction_seconds",
            "Time to extract one document (OCR included)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=registry,
        )
        self.ocr_pages = Counter(
            "triage_extraction_ocr_pages_total", "Pages read by OCR", registry=registry
        )

    def observe(self, result: Extracted | str, seconds: float) -> None:
        self.seconds.observe(seconds)
        if isinstance(result, str):
            self.documents.labels(result).inc()
        else:
            self.documents.labels("extracted").inc()
            self.ocr_pages.inc(result.ocr_pages)


@dataclass
class Extractor:
    store: DocumentStore
    pool: ExtractionPool
    limits: Limits
    max_chars: int
    publish: Publish
    metrics: ExtractionMetrics = field(
        default_factory=lambda: ExtractionMetrics(CollectorRegistry())
    )

    async def process(self, items: list[Consumed[Any]]) -> None:
        for item in items:
            event: RequestReceived = item.event
            documents = await self._documents(event.request_id)
            # One budget for all the files of a request: the consumer must come back to
            # the broker within its poll interval (5 minutes), or the group rebalances
            # and the request would be extracted again, for ever.
            deadline = time.monotonic() + self.pool.timeout_s
            results = {d.document_id: await self._extract(d, deadline) for d in documents}
            extracted = with_text(event, results, self.max_chars)
            await self._mark(extracted)
            await self._publish(extracted)

    async def _documents(self, request_id: str) -> list[StoredDocument]:
        try:
            return await self.store.request_documents(request_id)
        except Exception as exc:  # the database is away: retry the batch, lose nothing
            raise TransientError("reading the document store failed") from exc

    async def _mark(self, event: RequestReceived) -> None:
        try:
            await self.store.mark(event.documents)
        except Exception as exc:
            raise TransientError("recording the extraction outcome failed") from exc

    async def _extract(self, document: StoredDocument, deadline: float) -> Extracted | str:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        start = time.perf_counter()
        result = await self.pool.extract(document.content_type, document.data, self.limits, left)
        self.metrics.observe(result, time.perf_counter() - start)
        if isinstance(result, str):
            log.info("document %s unreadable: %s", document.document_id, result)
        return result

    async def _publish(self, event: RequestReceived) -> None:
        try:
            await self.publish(event)
        except Exception as exc:
            raise TransientError("publishing the extracted request failed") from exc
