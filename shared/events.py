"""Event contracts: one versioned module, one registry.

Every event carries ``event_type`` (which includes its version). A consumer
looks the type up in ``REGISTRY`` and validates with the matching model; an
unknown type or an invalid payload is a poison message for the dead-letter
topic, never a crash. A breaking change means a new ``.v2`` model and topic,
never an edit of a published one.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Namespace for deterministic request ids: uuid5(namespace, source + external_id).
REQUEST_ID_NAMESPACE = uuid.UUID("6f0b7a36-2f3c-5d0e-9a57-7d1b0c1e7a11")

RECEIVED_V1: Final = "triage.request.received.v1"
CLASSIFIED_V1: Final = "triage.request.classified.v1"
DEADLETTER_V1: Final = "triage.request.deadletter.v1"

EVENT_TYPE_HEADER = "triage-event-type"


def request_id_for(source: str, external_id: str) -> str:
    """The same (source, external_id) always gives the same id: retries are idempotent."""
    # JSON keeps the pair unambiguous whatever characters the two parts hold.
    return str(uuid.uuid5(REQUEST_ID_NAMESPACE, json.dumps([source, external_id])))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Channel(StrEnum):
    web = "web"
    email = "email"
    letter = "letter"
    phone = "phone"
    counter = "counter"
    other = "other"


class Urgency(StrEnum):
    """The urgency levels, most urgent first: the one place they and their order are written.

    Everything else derives from this declaration (the SQL CHECK constraints
    excepted, which must list the values literally).
    """

    critical = "critical"
    high = "high"
    normal = "normal"
    low = "low"


# Rank of each level, 0 the most urgent: the declaration order above.
URGENCY_ORDER: dict[str, int] = {level.value: rank for rank, level in enumerate(Urgency)}
URGENCIES: tuple[str, ...] = tuple(level.value for level in Urgency)
# What a request gets when the model has no urgency head; cues can still raise it.
DEFAULT_URGENCY = Urgency.normal


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MetadataValue = str | int | float | bool | None


class Attachment(_Event):
    name: Annotated[str, Field(max_length=255)] = ""
    text: str


class RequestReceived(_Event):
    """An accepted intake request, as published by ingest."""

    event_type: Literal["triage.request.received.v1"] = RECEIVED_V1
    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    request_id: str
    source: str
    external_id: str
    channel: Channel
    subject: str = ""
    body: str
    language: str | None = None
    received_at: datetime
    accepted_at: datetime = Field(default_factory=utcnow)
    attachments: list[Attachment] = Field(default_factory=list)
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)

    def full_text(self) -> str:
        """Subject, body and attachment texts: what the model reads (before masking)."""
        parts = [self.subject, self.body, *(a.text for a in self.attachments)]
        return "\n\n".join(p for p in parts if p)


class Scored(_Event):
    label: str
    probability: float


class CueHit(_Event):
    cue: str  # lexicon entry id, e.g. "energy_cutoff"
    level: Urgency  # the urgency this cue forces at least
    snippet: str  # masked text around the match


class Neighbour(_Event):
    case_id: str
    type: str
    urgency: str | None = None
    similarity: float


class Explanation(_Event):
    top_types: list[Scored] = Field(default_factory=list)
    top_urgencies: list[Scored] = Field(default_factory=list)
    cues: list[CueHit] = Field(default_factory=list)
    neighbours: list[Neighbour] = Field(default_factory=list)


class Classification(_Event):
    type: str
    type_confidence: float
    urgency: Urgency
    urgency_confidence: float
    model_urgency: Urgency | None = None  # before cues raised it
    language: str
    language_confidence: float
    needs_review: bool
    review_reasons: list[str] = Field(default_factory=list)
    model_version: str
    explanation: Explanation = Field(default_factory=Explanation)


# The largest embedding an event may carry: 1,024 dimensions as base64 float16
# (shared/vectors.py; here so that reading events needs no numpy).
VECTOR_MAX_DIM = 1024
VECTOR_MAX_CHARS = (VECTOR_MAX_DIM * 2 + 2) // 3 * 4
# At most this many identifier hashes per request (a request naming more people
# than this is a list, not a person's request; the first ones are kept).
MAX_IDENTITY_HASHES = 16
IdentityHash = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class RelatedKeys(_Event):
    """What the router needs to find related cases, with no identifier in clear.

    ``identity_hashes``: keyed hashes (HMAC-SHA256, 128 bits, hex) of the national
    numbers, IBANs, e-mails and phones found in the request (``services/classifier/
    identity.py``). ``embedding``: the classifier's embedding of the masked text
    (``shared/vectors.py``), compared only with vectors of the same ``embedder``.
    At most ~4.7 KB; ~1.6 KB for e5-small with a few identifiers.
    """

    identity_hashes: list[IdentityHash] = Field(
        default_factory=list, max_length=MAX_IDENTITY_HASHES
    )
    embedder: Annotated[str, Field(max_length=80)] = ""
    embedding: Annotated[str, Field(max_length=VECTOR_MAX_CHARS)] = ""


class RequestClassified(_Event):
    event_type: Literal["triage.request.classified.v1"] = CLASSIFIED_V1
    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    request_id: str
    request: RequestReceived
    classification: Classification
    classified_at: datetime = Field(default_factory=utcnow)
    related: RelatedKeys | None = None  # optional: events of older classifiers have none


class DeadLetter(_Event):
    event_type: Literal["triage.request.deadletter.v1"] = DEADLETTER_V1
    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    stage: str  # "classifier" | "router"
    reason: str  # bounded: "schema" | "processing" | "unknown_type"
    error: str
    attempts: int
    original_topic: str
    original_partition: int | None = None
    original_offset: int | None = None
    original_key: str | None = None
    payload: str  # the original bytes, decoded as UTF-8 with replacement
    failed_at: datetime = Field(default_factory=utcnow)


AnyEvent = RequestReceived | RequestClassified | DeadLetter

REGISTRY: dict[str, type[_Event]] = {
    RECEIVED_V1: RequestReceived,
    CLASSIFIED_V1: RequestClassified,
    DEADLETTER_V1: DeadLetter,
}


class PoisonMessage(ValueError):
    """A payload that can never be processed: goes to the dead-letter topic."""


def decode(raw: bytes, expected: str) -> Any:
    """Parse and validate one message of type ``expected``; raise PoisonMessage otherwise."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonMessage(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PoisonMessage("not a JSON object")
    event_type = data.get("event_type")
    if event_type != expected:
        raise PoisonMessage(f"event_type {event_type!r}, expected {expected!r}")
    try:
        return REGISTRY[expected].model_validate(data)
    except ValidationError as exc:
        raise PoisonMessage(f"schema: {exc.error_count()} error(s): {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['msg']}"


def encode(event: _Event) -> bytes:
    return event.model_dump_json().encode()
