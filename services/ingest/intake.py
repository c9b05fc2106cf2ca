"""What ingest does with one request, independent of HTTP routing: who is calling, is the
body acceptable, publish it. Every refusal is an ``ApiError`` with its status and code."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from prometheus_client import Counter
from pydantic import ValidationError

from services.ingest.publisher import BrokerUnavailable, Publisher
from services.ingest.schemas import IntakeRequest
from services.ingest.settings import IngestSettings
from shared import auth
from shared.events import RequestReceived, request_id_for
from shared.http import ApiError, validation_error

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
        self.publisher = publisher
        self.outcomes = outcomes
        self._accepted = outcomes.labels("accepted")  # bound once: the hot path's outcome
        self.retry_after = {"Retry-After": str(settings.ingest_retry_after_s)}

    def refuse(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> ApiError:
        """The error to raise, counted under its code."""
        self.outcomes.labels(code).inc()
        headers = None
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        elif status == 503:
            headers = self.retry_after
        return ApiError(status, code, message, details, headers)

    def authenticate(self, authorization: str | None) -> str:
        """The source owning the API key of an ``Authorization: Bearer <key>`` header."""
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise self.refuse(
                401, "unauthorized", "send the source's API key as 'Authorization: Bearer <key>'"
            )
        source = auth.find_owner(key.strip(), self.settings.ingest_api_keys)
        if source is None:
            raise self.refuse(401, "unauthorized", "unknown API key")
        return source

    def too_large(self) -> ApiError:
        limit = self.settings.ingest_max_request_bytes
        return self.refuse(413, "too_large", f"HTTP body over {limit} bytes")

    def check_declared_length(self, content_length: str | None) -> None:
        """Refuse a body announced too large before reading any of it."""
        limit = self.settings.ingest_max_request_bytes
        if content_length and content_length.isdigit() and int(content_length) > limit:
            raise self.too_large()

    def check_size(self, raw: bytes) -> None:
        if len(raw) > self.settings.ingest_max_request_bytes:
            raise self.too_large()

    def parse_json(self, raw: bytes) -> object:
        """The JSON value of a body, or a 400 saying what is wrong with it."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.refuse(
                400, "invalid_utf8", f"body is not valid UTF-8 (byte {exc.start})"
            ) from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise self.refuse(
                400,
                "malformed_json",
                f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            ) from exc
        except RecursionError as exc:  # e.g. [[[[...]]]] 100,000 deep: a 400, not a 500
            raise self.refuse(400, "malformed_json", "body is nested too deeply") from exc

    def parse_one(self, raw: bytes, source: str) -> IntakeRequest:
        """The request in a body of ``POST /v1/requests``.

        pydantic parses and validates the bytes in one pass. Whatever it refuses is
        parsed again the way ``validate`` does it, which names the problem precisely
        (400 for bad UTF-8 or JSON, 422 per field): the refusals are the same either
        way, only valid requests skip the second parse.
        """
        try:
            item = IntakeRequest.model_validate_json(raw)
        except ValidationError:
            return self.validate(self.parse_json(raw), source)
        return self._checked(item, source)

    def validate(self, data: object, source: str) -> IntakeRequest:
        """One parsed JSON value (a body, or an item of a batch) as a request of ``source``."""
        if not isinstance(data, dict):
            raise self.refuse(422, "validation_failed", "the request must be a JSON object")
        try:
            # JSON mode: strings for date-times and enums are the JSON way of writing them.
            item = IntakeRequest.model_validate_json(json.dumps(data))
        except ValidationError as exc:
            self.outcomes.labels("validation_failed").inc()
            raise validation_error(exc) from exc
        return self._checked(item, source)

    def _checked(self, item: IntakeRequest, source: str) -> IntakeRequest:
        limit = self.settings.ingest_max_text_chars
        if item.text_chars() > limit:
            raise self.refuse(
                413, "too_large", f"subject + body + attachments over {limit} characters"
            )
        if item.source != source:
            raise self.refuse(
                403, "forbidden", f"this API key may not send requests for source {item.source!r}"
            )
        return item

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
            raise self.refuse(503, "broker_unavailable", _UNAVAILABLE) from exc
        self._accepted.inc()
        return event.request_id
