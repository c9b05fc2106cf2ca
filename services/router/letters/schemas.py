"""Request and response bodies of the letters API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.router.inputs import CleanText
from services.router.letters.store import BODY_MAX, SUBJECT_MAX


class Acknowledgement(BaseModel):
    request_id: str
    language: Literal["fr", "nl", "en"]
    subject: str
    text: str = Field(description="the letter as plain text")
    html: str = Field(description="the same letter as an HTML fragment (escaped)")
    due_at: datetime = Field(description="the expected handling date: the item's SLA due date")


class Letter(BaseModel):
    id: int
    request_id: str
    kind: str
    language: str
    subject: str
    body: str
    status: Literal["draft", "validated"]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    validated_by: str | None = None
    validated_at: datetime | None = None


class LetterList(BaseModel):
    kinds: list[str] = Field(description="the standard letters an agent may draft")
    letters: list[Letter]


class DraftBody(BaseModel):
    kind: str = Field(max_length=63, description="one of `kinds`")
    language: Literal["fr", "nl", "en"] | None = Field(
        None, description="default: the request's language"
    )


class EditBody(BaseModel):
    # no NUL or other control characters: PostgreSQL would refuse them (a 500)
    subject: CleanText = Field(min_length=1, max_length=SUBJECT_MAX)
    body: CleanText = Field(min_length=1, max_length=BODY_MAX)
