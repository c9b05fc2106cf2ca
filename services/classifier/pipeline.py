"""From received requests to classified events: the steps, composed in order.

Pure given its components (model, lexicon, language detector): no I/O here, so it
is tested without a broker. For each batch of requests:

1. mask personal data (``shared/pii.py``): the model, the language detector and
   the cue snippets only ever see masked text;
2. the key points of long requests (``keypoints.py``: masked sentences chosen
   over the same embedder's vectors, one call for the batch);
3. the model (``model/predictor.py``): types, urgencies, confidence gate (review
   reasons, "unknown_type" among them: like none of the known types), neighbours;
   its embedder reads a long request's window (``window.py``: the first part and
   the key points), everything else reads the whole text;
4. the urgency (below) and the language (``language.py``);
5. the event fields (``model/contract.py``).

Every step that decides a request's urgency, in the order they apply:

1. the model's urgency head (``model/predictor.py``), whose recipe ``triage train``
   chose by cross-validation: it may read the cue lexicon's levels as features and
   decide by the median level (``model/ordinal.py``) rather than the most likely
   one; a model trained without urgency labels has none, and then
2. the default, ``shared.events.DEFAULT_URGENCY`` ("normal"), stands in;
3. the cue lexicon (``cues.py`` + ``data/urgency_cues.yaml``) raises that level
   when the text names an urgent situation, never lowers it;
4. downstream, the router's rules (``services/router/rules.yaml``) turn the
   urgency into a priority and an SLA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from services.classifier.cues import CueLexicon, raise_urgency
from services.classifier.identity import identity_hashes
from services.classifier.keypoints import KeyPointer, Segment, word_count
from services.classifier.model.contract import classification
from services.classifier.model.predictor import Prediction
from services.classifier.window import DEFAULT_WINDOW_WORDS, model_window
from shared.events import (
    DEFAULT_URGENCY,
    Classification,
    KeyPoint,
    RelatedKeys,
    RequestClassified,
    RequestReceived,
    Urgency,
)
from shared.pii import PiiSpan, find, mask, replace_spans
from shared.vectors import encode_vector

# The review reason of an item with a file that could not be read (shown on its page).
UNREADABLE_REASON = "document_unreadable"


class Model(Protocol):
    @property
    def model_version(self) -> str: ...

    def predict(self, texts: list[str], windows: list[str] | None = None) -> list[Prediction]: ...


class Detector(Protocol):
    def detect_many(self, texts: list[str]) -> list[tuple[str, float]]: ...


class UnclassifiableRequest(ValueError):
    """A valid event that holds nothing to classify."""


def _language(detected: tuple[str, float], declared: str | None) -> tuple[str, float]:
    """The detected language, else the source's own word (unverified: confidence 0)."""
    if detected[0] == "unknown" and declared:
        return declared, 0.0
    return detected


def masked_segments(event: RequestReceived) -> list[Segment]:
    """The body and each attachment, masked, with where each comes from."""
    body = [Segment(mask(event.body), "body")]
    return body + [Segment(mask(a.text), a.name or "attachment", a.page) for a in event.attachments]


@dataclass(frozen=True)
class RelatedConfig:
    """What the classifier adds for the router's related-case search (``RelatedKeys``).

    ``identity_key``: the HMAC key of identifiers (None: no identity hashes);
    ``embedder``: which embedder made the vectors (the router compares only alike).
    """

    identity_key: bytes | None = None
    embedder: str = ""


def embedder_id(spec: Any) -> str:
    """Which embedder made a vector (name, weights, size): the router compares only alike."""
    return f"{spec.name}:{spec.weights_sha256[:12]}:{spec.dim}"[:80]


class Classifier:
    def __init__(
        self,
        model: Model,
        lexicon: CueLexicon,
        detector: Detector,
        key_points: KeyPointer | None = None,
        window_words: int = DEFAULT_WINDOW_WORDS,
        related: RelatedConfig | None = None,
    ) -> None:
        self.model = model
        self.lexicon = lexicon
        self.detector = detector
        self.key_points = key_points
        self.window_words = window_words
        self.related = related

    def _key_points(self, events: list[RequestReceived], masked: list[str]) -> list[list[KeyPoint]]:
        if self.key_points is None:
            return [[] for _ in events]
        # Segments are masked again one by one (the PII detector is the costly part of
        # masking): only for requests long enough to get key points at all.
        short = self.key_points.params.min_words
        return self.key_points.extract_many([
            (mask(event.subject), masked_segments(event)) if word_count(text) > short else ("", [])
            for event, text in zip(events, masked, strict=True)
        ])  # fmt: skip

    def with_model(self, model: Model) -> Classifier:
        """The same pipeline around another model (a hot swap). Key points then embed
        with the new model's embedder, the one its window will be read by."""
        embedder = getattr(model, "embedder", None)  # a served Predictor has one
        key_points = None
        if self.key_points is not None and embedder is not None:
            key_points = KeyPointer(embedder.encode, self.key_points.params)
        related = self.related
        spec = getattr(model, "embedder_spec", None)
        if related is not None and spec is not None:  # vectors of another embedder
            related = RelatedConfig(related.identity_key, embedder_id(spec))
        return Classifier(
            model, self.lexicon, self.detector, key_points, self.window_words, related
        )

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
        points = self._key_points(events, masked)
        windows = [
            model_window(text, kp, self.window_words)
            for text, kp in zip(masked, points, strict=True)
        ]
        predictions = self.model.predict(masked, windows)
        languages = self.detector.detect_many(masked)
        return [
            RequestClassified(
                request_id=event.request_id,
                request=event,
                classification=self._classification(event, text, pred, lang),
                key_points=kp,
                related=self._related(raw, found, pred),
            )
            for event, text, pred, lang, kp, raw, found in zip(
                events, masked, predictions, languages, points, texts, spans, strict=True
            )
        ]

    def agreement(
        self, shadow: Model, events: list[RequestReceived], results: list[RequestClassified]
    ) -> list[tuple[bool, bool]]:
        """(type agreed, urgency agreed) of ``shadow`` with the served results, model
        against model (before the cue lexicon raised any urgency), on what the served
        model read: the masked text and, for a long one, its window."""
        masked = [mask(event.full_text()) for event in events]
        windows = [
            model_window(text, result.key_points, self.window_words)
            for text, result in zip(masked, results, strict=True)
        ]
        predictions = shadow.predict(masked, windows)
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
