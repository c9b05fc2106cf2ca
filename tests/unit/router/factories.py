"""Builders of classified events for the router tests (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.events import (
    Channel,
    Classification,
    CueHit,
    Explanation,
    RequestClassified,
    RequestReceived,
    Scored,
    Urgency,
    request_id_for,
)


def classified(
    type_: str = "energy_aid",
    urgency: str = "normal",
    *,
    needs_review: bool = False,
    source: str = "demo",
    external_id: str | None = None,
    body: str = "Mijn elektriciteit wordt afgesloten.",
    received_at: datetime | None = None,
    **request_fields: Any,
) -> RequestClassified:
    external_id = external_id or uuid.uuid4().hex
    request_id = request_id_for(source, external_id)
    request = RequestReceived(
        request_id=request_id,
        source=source,
        external_id=external_id,
        channel=Channel.email,
        subject="Afsluiting",
        body=body,
        received_at=received_at or datetime.now(UTC),
        **request_fields,
    )
    classification = Classification(
        type=type_,
        type_confidence=0.91,
        urgency=Urgency(urgency),
        urgency_confidence=0.8,
        language="nl",
        language_confidence=0.99,
        needs_review=needs_review,
        review_reasons=["low_confidence"] if needs_review else [],
        model_version="test-1",
        explanation=Explanation(
            top_types=[
                Scored(label=type_, probability=0.91),
                Scored(label="housing", probability=0.05),
            ],
            top_urgencies=[Scored(label=urgency, probability=0.8)],
            cues=[
                CueHit(cue="energy_cutoff", level=Urgency.high, snippet="wordt [masked] afgesloten")
            ],
        ),
    )
    return RequestClassified(request_id=request_id, request=request, classification=classification)
