"""What intake systems send, and what they get back."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.events import Channel

Source = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
]
NonBlank = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
MetaKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MetaValue = Annotated[str, StringConstraints(max_length=1000)] | int | float | bool | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AttachmentIn(_Strict):
    name: Annotated[str, StringConstraints(max_length=255)] = ""
    text: str


class IntakeRequest(_Strict):
    """One request from an intake system."""

    source: Source = Field(description="intake source; must match the API key's source")
    external_id: ExternalId = Field(description="the source's own id; retries reuse it")
    channel: Channel
    subject: Annotated[str, StringConstraints(max_length=1000)] = ""
    body: NonBlank = Field(description="the request text (not empty)")
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = Field(
        None, description="ISO 639-1 code when the source knows it"
    )
    received_at: AwareDatetime | None = Field(
        None, description="when the source received it (with timezone); default now"
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    metadata: dict[MetaKey, MetaValue] = Field(default_factory=dict, max_length=50)

    def text_chars(self) -> int:
        return len(self.subject) + len(self.body) + sum(len(a.text) for a in self.attachments)


class BatchIn(_Strict):
    """Documentation of the batch body; items are validated one by one."""

    requests: list[IntakeRequest] = Field(min_length=1)


class Accepted(BaseModel):
    request_id: str
    status: str = "accepted"


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorOut(BaseModel):
    error: str = Field(description="stable machine-readable code")
    message: str = Field(description="what is wrong, for a person")
    details: list[FieldProblem] = Field(default_factory=list)


class ItemResult(BaseModel):
    index: int
    status: int
    request_id: str | None = None
    error: ErrorOut | None = None


class BatchOut(BaseModel):
    accepted: int
    rejected: int
    results: list[ItemResult]
