"""What ingest does with a request once it is valid, independent of HTTP: who is
calling, publish, count the outcome. The rules a request must pass are all in
``services/ingest/validation.py``; every refusal is a ``shared.errors.ApiError``."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter

from services.ingest.publisher import BrokerUnavailable, EventTooLarge, Publisher
from services.ingest.settings import IngestSettings
from services.ingest.validation import IntakeRequest, Rules
from shared import auth
from shared.errors import ApiError, TooLarge, Unauthenticated, Unavailable
from shared.events import RequestReceived, request_id_for

_UNAVAILABLE = (
    "the message broker did not acknowledge the request: retry later with the same"
    " external_id (a retry never creates a duplicate, even if this attempt still gets through)"
)


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
        return RequestReceived(
            request_id=request_id_for(item.source, item.external_id),
            source=item.source,
            external_id=item.external_id,
            channel=item.channel,
            subject=item.subject,
            body=item.body,
            language=item.language,
            received_at=item.received_at or now,
            accepted_at=now,
            attachments=[a.model_dump() for a in item.attachments],  # type: ignore[misc]
            metadata=item.metadata,
        )

    async def accept(self, item: IntakeRequest) -> str:
        """Publish; the request id once the broker acknowledged, else a 503."""
        event = self.to_event(item)
        try:
            await self.publisher.publish(event)
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
