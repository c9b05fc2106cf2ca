"""Event contracts: one versioned module, one registry.

Every event carries ``event_type`` (which includes its version). A consumer
looks the type up in ``REGISTRY`` and validates with the matching model; an
unknown type or an invalid payload is a poison message for the dead-letter
topic, never a crash. A breaking change means a new ``.v2`` model and topic,
never an edit of a published one.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

# Namespace for deterministic request ids: uuid5(namespace, source + external_id).
REQUEST_ID_NAMESPACE = uuid.UUID("6f0b7a36-2f3c-5d0e-9a57-7d1b0c1e7a11")

RECEIVED_V1: Final = "triage.request.received.v1"
CLASSIFIED_V1: Final = "triage.request.classified.v1"
DEADLETTER_V1: Final = "triage.request.deadletter.v1"
# Requests with files wait here for text extraction; the events are RECEIVED_V1 ones.
DOCUMENTS_TOPIC: Final = "triage.request.documents.v1"

EVENT_TYPE_HEADER = "triage-event-type"

# Size bounds (see ``tests/unit/shared/test_event_size.py``, which builds the largest
# event of each type). A classified event is its received event plus at most
# CLASSIFIED_OVERHEAD_BYTES: ingest refuses (413) a request whose received event would
# leave less than that under the broker's maximum message size, so every event fits.
MAX_CUE_HITS = 10  # cue hits kept in an explanation (the urgency uses them all)
MAX_SNIPPET_CHARS = 200  # a cue's masked context (about 40 characters each side)
MAX_SCORES = 5  # top types, top urgencies, neighbours, review reasons
LABEL_CHARS = 100  # a type, urgency, cue id, case id or reason
CLASSIFIED_OVERHEAD_BYTES = 65_536
# Ingest's per-field limits, mirrored by the event so that it is bounded on its own.
MAX_ATTACHMENTS = 20  # text attachments and files of one request, at ingest
MAX_DOCUMENTS = MAX_ATTACHMENTS
# The extraction stage adds one attachment per page read (text within
# TRIAGE_EXTRACT_MAX_CHARS); pages past this count stay in the stored original.
MAX_EXTRACTED_PAGES = 80
MAX_EVENT_ATTACHMENTS = MAX_ATTACHMENTS + MAX_EXTRACTED_PAGES
MAX_METADATA_ENTRIES = 50
METADATA_KEY_CHARS = 64
METADATA_VALUE_CHARS = 1000
Label = Annotated[str, Field(max_length=LABEL_CHARS)]


def _cut(limit: int) -> BeforeValidator:
    """Cut a list or text to ``limit`` when read: an event from a release before the
    bound (a rolling upgrade, a replay) is kept, not dead-lettered."""
    return BeforeValidator(lambda v: v[:limit] if isinstance(v, list | str) else v)


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


MetadataText = Annotated[str, Field(max_length=METADATA_VALUE_CHARS)]
MetadataValue = MetadataText | int | float | bool | None
MetadataKey = Annotated[str, Field(max_length=METADATA_KEY_CHARS)]


class Attachment(_Event):
    name: Annotated[str, Field(max_length=255)] = ""
    text: str
    page: int | None = None  # 1-based page of the file this text comes from (extracted documents)


class DocumentStatus(StrEnum):
    pending = "pending"  # stored by ingest, not extracted yet
    extracted = "extracted"
    unreadable = "unreadable"


class DocumentRef(_Event):
    """A file of a request, by reference (claim-check): its bytes stay in the document
    store (PostgreSQL), never in an event."""

    document_id: Annotated[str, Field(max_length=36)]  # a UUID
    name: Annotated[str, Field(max_length=255)]
    content_type: Annotated[str, Field(max_length=100)]
    size: int
    sha256: Annotated[str, Field(min_length=64, max_length=64)]
    status: DocumentStatus = DocumentStatus.pending
    problem: Annotated[str, Field(max_length=40)] | None = None  # bounded code when unreadable
    pages: int | None = None


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
    # the source's text attachments, then the extracted pages of its documents
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_EVENT_ATTACHMENTS)
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict, max_length=MAX_METADATA_ENTRIES
    )
    documents: list[DocumentRef] = Field(default_factory=list, max_length=MAX_DOCUMENTS)

    def unreadable_documents(self) -> list[DocumentRef]:
        return [d for d in self.documents if d.status == DocumentStatus.unreadable]

    def full_text(self) -> str:
        """Subject, body and attachment texts: what the model reads (before masking)."""
        parts = [self.subject, self.body, *(a.text for a in self.attachments)]
        return "\n\n".join(p for p in parts if p)


class Scored(_Event):
    label: Label
    probability: float


class CueHit(_Event):
    cue: Label  # lexicon entry id, e.g. "energy_cutoff"
    level: Urgency  # the urgency this cue forces at least
    # masked text around the match
    snippet: Annotated[str, _cut(MAX_SNIPPET_CHARS), Field(max_length=MAX_SNIPPET_CHARS)]


class Neighbour(_Event):
    case_id: Label
    type: Label
    urgency: Label | None = None
    similarity: float


class Explanation(_Event):
    top_types: list[Scored] = Field(default_factory=list, max_length=MAX_SCORES)
    top_urgencies: list[Scored] = Field(default_factory=list, max_length=MAX_SCORES)
    cues: Annotated[list[CueHit], _cut(MAX_CUE_HITS)] = Field(
        default_factory=list, max_length=MAX_CUE_HITS
    )
    neighbours: list[Neighbour] = Field(default_factory=list, max_length=MAX_SCORES)


class Classification(_Event):
    type: Label
    type_confidence: float
    urgency: Urgency
    urgency_confidence: float
    model_urgency: Urgency | None = None  # before cues raised it
    language: Annotated[str, Field(max_length=16)]
    language_confidence: float
    needs_review: bool
    review_reasons: list[Label] = Field(default_factory=list, max_length=MAX_SCORES)
    model_version: Annotated[str, Field(max_length=200)]
    explanation: Explanation = Field(default_factory=Explanation)


# Key points: at most this many per request, each at most this long (the event
# stays bounded whatever the request's length).
KEY_POINTS_MAX = 7
KEY_POINT_MAX_CHARS = 400


class KeyPoint(_Event):
    """One sentence of the request (masked) that an agent should read first."""

    text: Annotated[str, Field(min_length=1, max_length=KEY_POINT_MAX_CHARS)]
    source: Annotated[str, Field(max_length=255)] = "body"  # "body" or an attachment's name
    page: int | None = None  # 1-based page of that attachment, when known


# The largest embedding an event may carry: 1,024 dimensions as base64 float16
# (shared/vectors.py; here so that reading events needs no numpy).
VECTOR_MAX_DIM = 1024
VECTOR_MAX_CHARS = (VECTOR_MAX_DIM * 2 + 2) // 3 * 4
# At most this many identifier hashes per request (a request naming more people
# than this is a list, not a person's request; the first ones are kept).
MAX_IDENTITY_HASHES = 16
IdentityHash = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", max_length=32)]


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
    # In text order; empty for short requests (and from classifiers before key points).
    key_points: Annotated[list[KeyPoint], Field(max_length=KEY_POINTS_MAX)] = Field(
        default_factory=list
    )
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
    payload: str  # the original bytes: UTF-8 text, or base64 (see payload_encoding)
    failed_at: datetime = Field(default_factory=utcnow)
    # base64 when the bytes are not clean UTF-8 text: they stay exact (a replay sends
    # them again) and the letter stays bounded (4/3 of the record, where escaping
    # control characters as \u0000 would make it six times larger).
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"

    def original_bytes(self) -> bytes:
        if self.payload_encoding == "base64":
            return base64.b64decode(self.payload)
        return self.payload.encode()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def deadletter_payload(raw: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    """``raw`` as a DeadLetter payload: text when it is clean UTF-8, else base64."""
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode(), "base64"
    if _CONTROL.search(text):
        return base64.b64encode(raw).decode(), "base64"
    return text, "utf-8"


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
