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

from typing import Protocol

from services.classifier.cues import CueLexicon, raise_urgency
from services.classifier.model.contract import classification
from services.classifier.model.predictor import Prediction
from services.classifier.window import fit, sections
from shared.events import (
    DEFAULT_URGENCY,
    Classification,
    RequestClassified,
    RequestReceived,
    Urgency,
)
from shared.pii import mask

# The review reason of an item with a file that could not be read (shown on its page).
UNREADABLE_REASON = "document_unreadable"
# About the embedder's 512 tokens of French or Dutch text.
DEFAULT_WINDOW_CHARS = 2000


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


class Classifier:
    def __init__(
        self,
        model: Model,
        lexicon: CueLexicon,
        detector: Detector,
        window_chars: int = DEFAULT_WINDOW_CHARS,
    ) -> None:
        self.window_chars = window_chars
        self.model = model
        self.lexicon = lexicon
        self.detector = detector

    def with_model(self, model: Model) -> Classifier:
        """The same pipeline around another model (a hot swap)."""
        return Classifier(model, self.lexicon, self.detector)

    def classify(self, events: list[RequestReceived]) -> list[RequestClassified]:
        masked = [mask(event.full_text()) for event in events]
        for event, text in zip(events, masked, strict=True):
            if not text.strip():
                raise UnclassifiableRequest(f"request {event.request_id} has no text")
        predictions = self.model.predict(
            [self._model_text(e, t) for e, t in zip(events, masked, strict=True)]
        )
        languages = self.detector.detect_many(masked)
        return [
            RequestClassified(
                request_id=event.request_id,
                request=event,
                classification=self._classification(event, text, pred, lang),
            )
            for event, text, pred, lang in zip(events, masked, predictions, languages, strict=True)
        ]

    def _model_text(self, event: RequestReceived, masked: str) -> str:
        """A plain-text request as it is (the tokenizer keeps its beginning); one with
        attachments through the deliberate window of ``window.py``."""
        if not event.attachments:
            return masked
        return fit([mask(part) for part in sections(event)], self.window_chars)

    def agreement(
        self, shadow: Model, events: list[RequestReceived], results: list[RequestClassified]
    ) -> list[tuple[bool, bool]]:
        """(type agreed, urgency agreed) of ``shadow`` with the served results, model
        against model (before the cue lexicon raised any urgency)."""
        predictions = shadow.predict([mask(event.full_text()) for event in events])
        out = []
        for pred, result in zip(predictions, results, strict=True):
            served = result.classification
            urgency = served.model_urgency or served.urgency
            out.append((pred.type == served.type, (pred.urgency or DEFAULT_URGENCY) == urgency))
        return out

    def _classification(
        self, event: RequestReceived, text: str, pred: Prediction, lang: tuple[str, float]
    ) -> Classification:
        cues = self.lexicon.find(text)
        model_urgency = pred.urgency or DEFAULT_URGENCY
        urgency = raise_urgency(model_urgency, cues)
        result = classification(
            pred,
            urgency=urgency,
            model_urgency=Urgency(model_urgency),
            cues=cues,
            language=_language(lang, event.language),
            model_version=self.model.model_version,
        )
        if not event.unreadable_documents():
            return result
        # The agent must open the original: the model saw none of its content.
        reasons = [*result.review_reasons, UNREADABLE_REASON]
        return result.model_copy(update={"needs_review": True, "review_reasons": reasons})
