"""What ingest does with a request once it is valid, independent of HTTP: who is
calling, publish, count the outcome. The rules a request must pass are all in
``services/ingest/validation.py``; every refusal is a ``shared.errors.ApiError``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client import Counter

from services.ingest.publisher import BrokerUnavailable, EventTooLarge, Publisher
from services.ingest.settings import IngestSettings
from services.ingest.validation import IntakeRequest, Rules
from shared import auth
from shared.documents.store import File
from shared.errors import ApiError, Conflict, TooLarge, Unauthenticated, Unavailable
from shared.events import Attachment, RequestReceived, request_id_for

log = logging.getLogger(__name__)

_UNAVAILABLE = (
    "the message broker did not acknowledge the request: retry later with the same"
    " external_id (a retry never creates a duplicate, even if this attempt still gets through)"
)


class Ledger(Protocol):
    """Where accepted requests are recorded and their files stored (claim-check):
    ``shared.documents.store.DocumentStore`` in PostgreSQL."""

    async def record(
        self, request_id: str, source: str, external_id: str, content_sha256: str, files: list[File]
    ) -> str: ...


def accepted_body(request_id: str) -> bytes:
    """The 202 body, ``{"request_id": ..., "status": "accepted"}``, without a JSON encoder
    (a request id is a UUID: nothing in it needs escaping)."""
    return b'{"request_id":"' + request_id.encode() + b'","status":"accepted"}'


class Ingest:
    def __init__(self, settings: IngestSettings, publisher: Publisher, outcomes: Counter) -> None:
        self.settings = settings
        self.rules = Rules(settings)
        self.publisher = publisher
        self.outcomes = outcomes
        self._accepted = outcomes.labels("accepted")  # bound once: the hot path's outcome
        self.retry_after = {"Retry-After": str(settings.ingest_retry_after_s)}
        self.ledger: Ledger | None = None  # set by the lifespan once the database answers

    def refused(self, exc: ApiError) -> ApiError:
        """Count a refusal under its code (a bounded label: the codes are fixed)."""
        self.outcomes.labels(exc.code).inc()
        return exc

    def authenticate(self, authorization: str | None) -> str:
        """The source owning the API key of an ``Authorization: Bearer <key>`` header."""
        key = auth.bearer(authorization)
        if key is None:
            raise Unauthenticated(
                "send the source's API key as 'Authorization: Bearer <key>'", code="unauthorized"
            )
        source = auth.find_owner(key, self.settings.ingest_api_keys)
        if source is None:
            raise Unauthenticated("unknown API key", code="unauthorized")
        return source

    def to_event(self, item: IntakeRequest) -> RequestReceived:
        now = datetime.now(UTC)
        request_id = request_id_for(item.source, item.external_id)
        return RequestReceived(
            request_id=request_id,
            source=item.source,
            external_id=item.external_id,
            channel=item.channel,
            subject=item.subject,
            body=item.body,
            language=item.language,
            received_at=item.received_at or now,
            accepted_at=now,
            attachments=[
                Attachment(name=a.name, text=a.text or "") for a in item.text_attachments()
            ],
            metadata=item.metadata,
            # the references to the stored files, never the bytes
            documents=[f.ref(request_id, i) for i, f in enumerate(item.files)],
        )

    async def record(self, event: RequestReceived, item: IntakeRequest) -> None:
        """Store the files and the content hash before any 202; 409 for a reused external_id."""
        fingerprint = item.fingerprint()
        if self.ledger is None:
            raise Unavailable(
                "not connected to the database yet: retry later",
                code="database_unavailable",
                headers=self.retry_after,
            )
        try:
            recorded = await self.ledger.record(
                event.request_id, item.source, item.external_id, fingerprint, item.files
            )
        except Exception as exc:  # connection, fail-over, timeout: retry later, same answer
            log.warning("recording the request failed: %s", type(exc).__name__)
            raise Unavailable(
                "the database did not record the request: retry later with the same external_id",
                code="database_unavailable",
                headers=self.retry_after,
            ) from exc
        if recorded != fingerprint:
            raise Conflict(
                f"external_id {item.external_id!r} of source {item.source!r} was already accepted"
                f" with different content (request_id {event.request_id}): a retry must send the"
                " same content; a new request needs a new external_id",
                code="external_id_conflict",
            )

    async def accept(self, item: IntakeRequest) -> str:
        """Record, publish; the request id once the broker acknowledged, else a 503.

        A request with files goes to the documents topic, where the extraction stage
        reads it; a plain-text one straight to the classifier's."""
        try:
            # the size first: a request refused 413 must not be recorded (its
            # trimmed retry would be a reused external_id, 409)
            payload = self.publisher.encoded(event := self.to_event(item))
            await self.record(event, item)
            topic = self.settings.topic_documents if event.documents else None
            await self.publisher.publish(event, topic, payload=payload)
        except BrokerUnavailable as exc:
            raise Unavailable(
                _UNAVAILABLE, code="broker_unavailable", headers=self.retry_after
            ) from exc
        except EventTooLarge as exc:  # many wide characters, long metadata...
            raise TooLarge(
                f"the request would exceed the pipeline's message size ({exc});"
                " send less text or metadata"
            ) from exc
        self._accepted.inc()
        return event.request_id
