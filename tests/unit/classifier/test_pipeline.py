"""The classification pipeline with a fake model: masking, cues, language, explanation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.classifier.cues import CueLexicon, CueMatch
from services.classifier.model.contract import kept
from services.classifier.model.predictor import Neighbour, Prediction, Scored
from services.classifier.pipeline import Classifier, UnclassifiableRequest
from shared.events import (
    CLASSIFIED_OVERHEAD_BYTES,
    MAX_CUE_HITS,
    MAX_SNIPPET_CHARS,
    RequestReceived,
    Urgency,
    encode,
    request_id_for,
)


class FakeModel:
    model_version = "test-1"

    def __init__(self, urgency: str = "low", needs_review: bool = False) -> None:
        self.seen: list[str] = []
        self.windows: list[str] = []
        self.urgency = urgency
        self.needs_review = needs_review

    def predict(self, texts: list[str], windows: list[str] | None = None) -> list[Prediction]:
        self.seen.extend(texts)
        self.windows.extend(windows or [])
        return [
            Prediction(
                type="energy_aid", type_confidence=0.8,
                top_types=[
                    Scored("energy_aid", 0.8), Scored("housing", 0.15), Scored("food_aid", 0.05)
                ],
                urgency=self.urgency, urgency_confidence=0.6,
                top_urgencies=[Scored(self.urgency, 0.6), Scored("normal", 0.4)],
                needs_review=self.needs_review,
                review_reasons=["below_class_threshold"] if self.needs_review else [],
                neighbours=[Neighbour("fr-0001", "energy_aid", "high", 0.91)],
            )
            for _ in texts
        ]  # fmt: skip


class FakeDetector:
    def detect_many(self, texts: list[str]) -> list[tuple[str, float]]:
        return [("fr", 0.97) if "le" in t else ("unknown", 0.2) for t in texts]


def _event(body: str, language: str | None = None, subject: str = "") -> RequestReceived:
    return RequestReceived(
        request_id=request_id_for("demo", body[:20]), source="demo", external_id=body[:20],
        channel="email", subject=subject, body=body, language=language,
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
    )  # fmt: skip


@pytest.fixture(scope="module")
def lexicon() -> CueLexicon:
    return CueLexicon.load()


def test_model_and_cues_only_see_masked_text(lexicon: CueLexicon) -> None:
    model = FakeModel()
    body = (
        "Bonjour, Sibelga coupe le gaz demain. Mon numéro national est 85.07.30-033.28, "
        "mon compte BE68 5390 0754 7034, appelez le 0470 12 34 56 ou jan.peeters@example.be."
    )
    [result] = Classifier(model, lexicon, FakeDetector()).classify(
        [_event(body, subject="Coupure")]
    )
    text = model.seen[0]
    for secret in ("85.07.30-033.28", "BE68", "0470 12 34 56", "jan.peeters@example.be"):
        assert secret not in text
        assert secret not in result.classification.explanation.model_dump_json()
    assert "[NISS]" in text and "[IBAN]" in text and "[EMAIL]" in text and "[PHONE]" in text
    assert result.request.body == body  # the router still gets the original for the agent


def test_cue_raises_urgency_and_is_explained(lexicon: CueLexicon) -> None:
    [result] = Classifier(FakeModel("low"), lexicon, FakeDetector()).classify(
        [_event("Le huissier vient expulser ma famille demain matin.")]
    )
    c = result.classification
    assert c.model_urgency == "low"
    assert c.urgency in {"critical", "high"}
    assert c.explanation.cues and all(hit.snippet for hit in c.explanation.cues)
    assert [s.label for s in c.explanation.top_types] == ["energy_aid", "housing", "food_aid"]
    assert c.explanation.neighbours[0].case_id == "fr-0001"
    assert c.model_version == "test-1"


def test_no_cue_keeps_model_urgency(lexicon: CueLexicon) -> None:
    [result] = Classifier(FakeModel("normal"), lexicon, FakeDetector()).classify(
        [_event("Je voudrais connaître les heures d'ouverture le samedi.")]
    )
    assert result.classification.urgency == "normal"
    assert result.classification.explanation.cues == []


def test_unknown_language_falls_back_to_the_source(lexicon: CueLexicon) -> None:
    [result] = Classifier(FakeModel(), lexicon, FakeDetector()).classify(
        [_event("Hallo, ik heb hulp nodig", language="nl")]
    )
    assert result.classification.language == "nl"
    assert result.classification.language_confidence == 0.0


def test_review_flag_passes_through(lexicon: CueLexicon) -> None:
    [result] = Classifier(FakeModel(needs_review=True), lexicon, FakeDetector()).classify(
        [_event("Une question sur le dossier")]
    )
    assert result.classification.needs_review
    assert result.classification.review_reasons == ["below_class_threshold"]


def test_empty_text_is_unclassifiable(lexicon: CueLexicon) -> None:
    with pytest.raises(UnclassifiableRequest):
        Classifier(FakeModel(), lexicon, FakeDetector()).classify([_event("   ")])


def test_a_text_repeating_a_cue_makes_an_event_of_the_usual_size(lexicon: CueLexicon) -> None:
    """`"SDF " * 10000` once made a 1.4 MB event that no broker took (issue 13, item 2)."""
    event = _event("SDF " * 10_000 + "coupure d'électricité")
    [result] = Classifier(FakeModel(), lexicon, FakeDetector()).classify([event])
    cues = result.classification.explanation.cues
    assert result.classification.urgency == "critical"  # decided on every hit
    assert len({c.cue for c in cues}) == len(cues) <= MAX_CUE_HITS
    assert all(len(c.snippet) <= MAX_SNIPPET_CHARS for c in cues)
    overhead = len(encode(result)) - len(encode(event))
    assert overhead < CLASSIFIED_OVERHEAD_BYTES


def test_kept_cues_prefer_the_most_urgent_in_text_order() -> None:
    def hit(cue: str, level: str, start: int) -> CueMatch:
        return CueMatch(cue, Urgency(level), start, start + 1, cue, "x" * 500)

    matches = [hit(f"h{i}", "high", i) for i in range(MAX_CUE_HITS + 5)]
    matches.append(hit("crit", "critical", 999))
    chosen = kept(matches)
    assert len(chosen) == MAX_CUE_HITS and chosen[-1].cue == "crit"
    assert [m.start for m in chosen] == sorted(m.start for m in chosen)
