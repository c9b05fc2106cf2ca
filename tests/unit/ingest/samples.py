"""A valid intake request shared by the ingest unit tests."""

from __future__ import annotations

from typing import Any

GOOD: dict[str, Any] = {
    "source": "demo",
    "external_id": "case-1",
    "channel": "email",
    "subject": "Coupure",
    "body": "Mon électricité sera coupée demain.",
}
