"""Classified requests for the page tests and screenshots (invented people and text)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.events import (
    Channel,
    Classification,
    CueHit,
    Explanation,
    Neighbour,
    RequestClassified,
    RequestReceived,
    Scored,
    Urgency,
    request_id_for,
)


def request(
    type_: str,
    urgency: str,
    *,
    subject: str = "Demande",
    body: str = "Bonjour, je voudrais de l'aide.",
    language: str = "fr",
    channel: Channel = Channel.email,
    age: timedelta = timedelta(hours=1),
    needs_review: bool = False,
    cues: list[CueHit] | None = None,
) -> RequestClassified:
    external_id = uuid.uuid4().hex
    request_id = request_id_for("demo", external_id)
    received = RequestReceived(
        request_id=request_id,
        source="demo",
        external_id=external_id,
        channel=channel,
        subject=subject,
        body=body,
        received_at=datetime.now(UTC) - age,
    )
    others = [t for t in ("housing", "social_integration_income", "food_aid") if t != type_]
    urgencies = [u.value for u in Urgency if u.value != urgency]
    classification = Classification(
        type=type_,
        type_confidence=0.82,
        urgency=Urgency(urgency),
        urgency_confidence=0.74,
        language=language,
        language_confidence=0.99,
        needs_review=needs_review,
        review_reasons=["low_confidence"] if needs_review else [],
        model_version="demo-2026.03",
        explanation=Explanation(
            top_types=[
                Scored(label=type_, probability=0.82),
                Scored(label=others[0], probability=0.11),
                Scored(label=others[1], probability=0.04),
            ],
            top_urgencies=[
                Scored(label=urgency, probability=0.74),
                Scored(label=urgencies[0], probability=0.18),
                Scored(label=urgencies[1], probability=0.05),
            ],
            cues=cues or [],
            neighbours=[
                Neighbour(case_id="case-2025-0412", type=type_, urgency=urgency, similarity=0.87),
                Neighbour(case_id="case-2024-1178", type=type_, urgency="normal", similarity=0.81),
                Neighbour(case_id="case-2025-0093", type=others[0], urgency="low", similarity=0.64),
            ],
        ),
    )
    return RequestClassified(request_id=request_id, request=received, classification=classification)


def showcase() -> list[RequestClassified]:
    """A plausible morning at a CPAS: several queues, one past due, three languages."""
    cutoff = CueHit(
        cue="energy_cutoff", level=Urgency.high, snippet="…notre électricité sera coupée le [DATE]…"
    )
    return [
        request(
            "energy_aid",
            "high",
            subject="Coupure d'électricité annoncée",
            body=(
                "Bonjour,\n\nNotre fournisseur annonce que notre électricité sera coupée "
                "vendredi. J'ai deux enfants en bas âge. Pouvez-vous nous aider ?\n\n"
                "Mme [NAME], [EMAIL]"
            ),
            cues=[cutoff],
            age=timedelta(hours=3),
        ),
        request(
            "energy_aid",
            "normal",
            subject="Energiefactuur",
            body="Ik kan mijn energiefactuur niet betalen. Kan ik een afbetalingsplan krijgen?",
            language="nl",
            age=timedelta(days=25),
        ),
        request(
            "energy_aid",
            "low",
            subject="Question on social tariff",
            body="Am I entitled to the social tariff for gas?",
            language="en",
            channel=Channel.web,
            age=timedelta(days=1),
        ),
        request(
            "energy_aid",
            "high",
            subject="Compteur à budget",
            body="Le compteur à budget est vide depuis hier.",
            age=timedelta(days=9),
            needs_review=True,
        ),
        request("housing", "critical", subject="Expulsion", age=timedelta(hours=5)),
        request("housing", "normal", subject="Huurwaarborg", language="nl"),
        request("food_aid", "normal", subject="Colis alimentaire", age=timedelta(days=16)),
        request("debt_mediation", "low", subject="Schulden", language="nl"),
    ]
