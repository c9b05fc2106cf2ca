"""From received requests to classified events: masking, model, cues, language, gate.

Pure given its components (model, lexicon, language detector): no I/O here, so it
is tested without a broker.
"""

from __future__ import annotations

from typing import Protocol

from services.classifier.cues import CueLexicon, raise_urgency
from services.classifier.model.predictor import Prediction
from shared.events import (
    DEFAULT_URGENCY,
    Classification,
    CueHit,
    Explanation,
    Neighbour,
    RequestClassified,
    RequestReceived,
    Scored,
)
from shared.pii import mask


class Model(Protocol):
    @property
    def model_version(self) -> str: ...

    def predict(self, texts: list[str]) -> list[Prediction]: ...


class Detector(Protocol):
    def detect_many(self, texts: list[str]) -> list[tuple[str, float]]: ...


class UnclassifiableRequest(ValueError):
    """A valid event that holds nothing to classify."""


class Classifier:
    def __init__(self, model: Model, lexicon: CueLexicon, detector: Detector) -> None:
        self.model = model
        self.lexicon = lexicon
        self.detector = detector

    def classify(self, events: list[RequestReceived]) -> list[RequestClassified]:
        # The model, the language detector and the cue snippets only see masked text.
        masked = [mask(event.full_text()) for event in events]
        for event, text in zip(events, masked, strict=True):
            if not text.strip():
                raise UnclassifiableRequest(f"request {event.request_id} has no text")
        predictions = self.model.predict(masked)
        languages = self.detector.detect_many(masked)
        return [
            RequestClassified(
                request_id=event.request_id,
                request=event,
                classification=self._classification(event, text, pred, lang),
            )
            for event, text, pred, lang in zip(events, masked, predictions, languages, strict=True)
        ]

    def _classification(
        self, event: RequestReceived, text: str, pred: Prediction, lang: tuple[str, float]
    ) -> Classification:
        cues = self.lexicon.find(text)
        model_urgency = pred.urgency or DEFAULT_URGENCY
        urgency = raise_urgency(model_urgency, cues)
        language, language_confidence = lang
        if language == "unknown" and event.language:
            language, language_confidence = event.language, 0.0  # the source's word, unverified
        return Classification(
            type=pred.type,
            type_confidence=pred.type_confidence,
            urgency=urgency,  # type: ignore[arg-type]
            urgency_confidence=pred.urgency_confidence if urgency == model_urgency else 1.0,
            model_urgency=model_urgency,  # type: ignore[arg-type]
            language=language,
            language_confidence=language_confidence,
            needs_review=pred.needs_review,
            review_reasons=list(pred.review_reasons),
            model_version=self.model.model_version,
            explanation=Explanation(
                top_types=[
                    Scored(label=s.label, probability=s.probability) for s in pred.top_types
                ],
                top_urgencies=[
                    Scored(label=s.label, probability=s.probability) for s in pred.top_urgencies
                ],
                cues=[CueHit(cue=c.cue, level=c.level, snippet=c.snippet) for c in cues],  # type: ignore[arg-type]
                neighbours=[
                    Neighbour(
                        case_id=n.case_id, type=n.type, urgency=n.urgency, similarity=n.similarity
                    )
                    for n in pred.neighbours
                ],
            ),
        )
