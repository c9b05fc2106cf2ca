"""From received requests to classified events: the steps, composed in order.

Pure given its components (model, lexicon, language detector): no I/O here, so it
is tested without a broker. For each batch of requests:

1. mask personal data (``shared/pii.py``): the model, the language detector and
   the cue snippets only ever see masked text;
2. the model (``model/predictor.py``): types, urgencies, confidence gate, neighbours;
3. the urgency (below) and the language (``language.py``);
4. the event fields (``model/contract.py``).

Every step that decides a request's urgency, in the order they apply:

1. the model's urgency head (``model/predictor.py``); a model trained without
   urgency labels has none, and then
2. the default, ``shared.events.DEFAULT_URGENCY`` ("normal"), stands in;
3. the cue lexicon (``cues.py`` + ``data/urgency_cues.yaml``) raises that level
   when the text names an urgent situation, never lowers it;
4. downstream, the router's rules (``services/router/rules.yaml``) turn the
   urgency into a priority and an SLA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.classifier.cues import CueLexicon, raise_urgency
from services.classifier.identity import identity_hashes
from services.classifier.model.contract import classification
from services.classifier.model.predictor import Prediction
from shared.events import (
    DEFAULT_URGENCY,
    Classification,
    RelatedKeys,
    RequestClassified,
    RequestReceived,
    Urgency,
)
from shared.pii import PiiSpan, find, replace_spans
from shared.vectors import encode_vector


class Model(Protocol):
    @property
    def model_version(self) -> str: ...

    def predict(self, texts: list[str]) -> list[Prediction]: ...


class Detector(Protocol):
    def detect_many(self, texts: list[str]) -> list[tuple[str, float]]: ...


class UnclassifiableRequest(ValueError):
    """A valid event that holds nothing to classify."""


def _language(detected: tuple[str, float], declared: str | None) -> tuple[str, float]:
    """The detected language, else the source's own word (unverified: confidence 0)."""
    if detected[0] == "unknown" and declared:
        return declared, 0.0
    return detected


@dataclass(frozen=True)
class RelatedConfig:
    """What the classifier adds for the router's related-case search (``RelatedKeys``).

    ``identity_key``: the HMAC key of identifiers (None: no identity hashes);
    ``embedder``: which embedder made the vectors (the router compares only alike).
    """

    identity_key: bytes | None = None
    embedder: str = ""


class Classifier:
    def __init__(
        self,
        model: Model,
        lexicon: CueLexicon,
        detector: Detector,
        related: RelatedConfig | None = None,
    ) -> None:
        self.model = model
        self.lexicon = lexicon
        self.detector = detector
        self.related = related

    def _related(self, text: str, spans: list[PiiSpan], pred: Prediction) -> RelatedKeys | None:
        if self.related is None:
            return None
        key = self.related.identity_key
        return RelatedKeys(
            identity_hashes=identity_hashes(key, text, spans) if key else [],
            embedder=self.related.embedder,
            embedding=encode_vector(pred.embedding) if pred.embedding is not None else "",
        )

    def classify(self, events: list[RequestReceived]) -> list[RequestClassified]:
        texts = [event.full_text() for event in events]
        # One detection per text: it masks the text and yields the identifiers to hash.
        spans = [find(text) for text in texts]
        masked = [replace_spans(t, s) for t, s in zip(texts, spans, strict=True)]
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
                related=self._related(raw, found, pred),
            )
            for event, text, pred, lang, raw, found in zip(
                events, masked, predictions, languages, texts, spans, strict=True
            )
        ]

    def _classification(
        self, event: RequestReceived, text: str, pred: Prediction, lang: tuple[str, float]
    ) -> Classification:
        cues = self.lexicon.find(text)
        model_urgency = pred.urgency or DEFAULT_URGENCY
        urgency = raise_urgency(model_urgency, cues)
        return classification(
            pred,
            urgency=urgency,
            model_urgency=Urgency(model_urgency),
            cues=cues,
            language=_language(lang, event.language),
            model_version=self.model.model_version,
        )
