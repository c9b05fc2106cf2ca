"""What intake systems get back (what they send, and its rules: ``validation.py``)."""

from __future__ import annotations

from pydantic import BaseModel

from shared.errors import ErrorBody


class Accepted(BaseModel):
    request_id: str
    status: str = "accepted"


class ItemResult(BaseModel):
    index: int
    status: int
    request_id: str | None = None
    error: ErrorBody | None = None


class BatchOut(BaseModel):
    accepted: int
    rejected: int
    results: list[ItemResult]
