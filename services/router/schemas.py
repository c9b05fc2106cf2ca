"""JSON shapes of the router API (the OpenAPI document is generated from them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.router.inputs import CleanText
from shared.events import Urgency

Status = Literal["waiting", "claimed", "done"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PriorityCounts(BaseModel):
    waiting: int
    claimed: int


class QueueSummary(BaseModel):
    queue: str
    waiting: int
    claimed: int
    past_due: int = Field(description="open items past their due time")
    oldest_waiting_age_s: float | None = Field(
        description="seconds since reception of the oldest waiting item"
    )
    by_priority: dict[str, PriorityCounts] = Field(description="priority → counts by status")


class QueueList(BaseModel):
    queues: list[QueueSummary]


class ItemSummary(BaseModel):
    request_id: uuid.UUID
    queue: str
    status: Status
    priority: int
    urgency: Urgency
    type: str
    language: str
    needs_review: bool
    channel: str
    source: str
    received_at: datetime
    queued_at: datetime
    due_at: datetime
    claimed_by: str | None
    lease_expires_at: datetime | None
    corrected: bool


class ItemPage(BaseModel):
    items: list[ItemSummary]
    next: str | None = Field(description="pass as ?after= for the next page; null at the end")


class RequestContent(BaseModel):
    source: str
    external_id: str
    channel: str
    received_at: datetime
    accepted_at: datetime | None
    subject: str | None = Field(description="null once purged by retention")
    body: str | None = Field(description="null once purged by retention")
    attachments: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None


class KeyPointOut(BaseModel):
    text: str = Field(description="a sentence of the request, masked")
    source: str = Field(description='"body" or the name of the attachment it comes from')
    page: int | None = Field(description="1-based page of that attachment, when known")


class HistoryEvent(BaseModel):
    at: datetime
    event: str
    actor: str
    queue: str
    details: dict[str, Any]


class CorrectionRecord(BaseModel):
    at: datetime
    actor: str
    model_version: str
    before_type: str
    after_type: str
    before_urgency: str
    after_urgency: str
    before_queue: str
    after_queue: str
    reason: str | None
    kind: Literal["corrected", "confirmed"] = "corrected"


class DocumentInfo(BaseModel):
    document_id: uuid.UUID
    name: str
    content_type: str
    size: int
    sha256: str
    status: str = Field(description="pending, extracted or unreadable")
    problem: str | None = Field(None, description="why it could not be read")
    pages: int | None = None


class RelatedItem(BaseModel):
    request_id: uuid.UUID
    queue: str
    status: Status
    type: str
    urgency: Urgency
    received_at: datetime


class SamePersonItem(RelatedItem):
    shared: int = Field(description="identifiers (national number, IBAN, e-mail, phone) in common")


class DuplicateItem(RelatedItem):
    similarity: float = Field(description="cosine of the two requests' embeddings")


class RelatedCases(BaseModel):
    same_person: list[SamePersonItem] = Field(
        description="other open items naming one of this request's identifiers (matched "
        "through keyed hashes, never in clear)"
    )
    duplicates: list[DuplicateItem] = Field(
        description="open items found nearly the same text when either was routed"
    )
    duplicate_of: uuid.UUID | None = Field(description="closed as a duplicate of this item")


class DuplicateBody(_In):
    duplicate_of: str = Field(min_length=1, max_length=64, description="the original item's id")


class ClosedDuplicate(BaseModel):
    request_id: uuid.UUID
    queue: str
    duplicate_of: uuid.UUID
    completed_at: datetime


class ItemDetail(BaseModel):
    request_id: uuid.UUID
    queue: str
    status: Status
    priority: int
    urgency: Urgency
    type: str
    language: str
    needs_review: bool
    due_at: datetime
    queued_at: datetime
    updated_at: datetime
    claimed_by: str | None
    claimed_at: datetime | None
    lease_expires_at: datetime | None
    completed_by: str | None
    completed_at: datetime | None
    corrected: bool
    confirmed: bool = False
    model_type: str
    model_urgency: str
    model_version: str
    classified_at: datetime
    purged_at: datetime | None
    request: RequestContent
    classification: dict[str, Any] = Field(
        description="confidences, review reasons and explanation (top scores, urgency cues, "
        "nearest historical cases)"
    )
    key_points: list[KeyPointOut] = Field(
        default_factory=list,
        description="3-7 sentences to read first, in text order (long requests only; "
        "empty once purged)",
    )
    history: list[HistoryEvent] = Field(default_factory=list)
    corrections: list[CorrectionRecord] = Field(default_factory=list)
    documents: list[DocumentInfo] = Field(
        default_factory=list, description="original files (GET .../documents/{document_id})"
    )
    related: RelatedCases | None = Field(
        default=None, description="the same person's other open items, likely duplicates"
    )


class Lease(BaseModel):
    request_id: uuid.UUID
    queue: str
    lease_expires_at: datetime


class Completed(BaseModel):
    request_id: uuid.UUID
    queue: str
    type: str
    urgency: Urgency
    corrected: bool
    completed_at: datetime


class Released(BaseModel):
    request_id: uuid.UUID
    queue: str
    holder: str | None = Field(description="who held the claim")


class ReassignBody(_In):
    queue: CleanText = Field(min_length=1, max_length=63)
    reason: CleanText | None = Field(default=None, max_length=1000)


class Reassigned(BaseModel):
    request_id: uuid.UUID
    from_queue: str
    queue: str


class CorrectBody(_In):
    type: CleanText | None = Field(default=None, min_length=1, max_length=100)
    urgency: Urgency | None = None
    reason: CleanText | None = Field(default=None, max_length=1000)


class Corrected(BaseModel):
    request_id: uuid.UUID
    queue: str
    status: Status
    type: str
    urgency: Urgency
    priority: int
    due_at: datetime
    claimed_by: str | None


class RequestStatus(BaseModel):
    request_id: uuid.UUID
    status: Literal["received", "queued", "in_progress", "done", "failed"]
    received_at: datetime
    updated_at: datetime
    queue: str | None = None
    priority: int | None = None
    due_at: datetime | None = None
    completed_at: datetime | None = None
    duplicate_of: uuid.UUID | None = Field(
        default=None, description="done: closed as a duplicate of this request"
    )
    reason: str | None = Field(
        None,
        description="failed only: why the pipeline dead-lettered it (schema, processing,"
        " too_large...); an operator replays it with `triage deadletter replay`",
    )
    failed_at: datetime | None = None


class ConfirmBody(_In):
    reason: str | None = Field(default=None, max_length=1000)


class AgreementCell(BaseModel):
    model_version: str
    week: str = Field(description="Monday of the ISO week of the human label")
    type: str = Field(description="the human-final type")
    labelled: int
    type_agreement: float | None
    urgency_agreement: float | None


class VersionAgreement(BaseModel):
    model_version: str
    labelled: int
    type_agreement: float | None
    urgency_agreement: float | None


class Agreement(BaseModel):
    since: datetime
    versions: list[VersionAgreement]
    weeks: list[AgreementCell]
    duplicate_of: uuid.UUID | None = Field(
        default=None, description="done: closed as a duplicate of this request"
    )
