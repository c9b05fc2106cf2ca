"""The classifier's own embedder and pipeline in the bench process: the ceiling."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from services.classifier.pipeline import Classifier
from shared.events import RequestReceived
from shared.pii import mask

if TYPE_CHECKING:
    from services.classifier.model.predictor import TriageModel
    from services.classifier.settings import ClassifierSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
Step = Callable[[], object]
Timer = Callable[[Sequence[Step]], float]  # runs the steps, returns the seconds they took


def settings_fields(env: Mapping[str, str]) -> dict[str, str]:
    """The ``TRIAGE_*`` overrides given to the service, as ClassifierSettings fields."""
    from services.classifier.settings import ClassifierSettings

    fields = ClassifierSettings.model_fields
    out = {}
    for key, value in env.items():
        name = key.removeprefix("TRIAGE_").lower()
        if key.startswith("TRIAGE_") and name in fields:
            out[name] = value
    return out


def service_settings(env: Mapping[str, str]) -> ClassifierSettings:
    """The settings the service runs with: this environment plus ``env``."""
    from services.classifier.settings import ClassifierSettings

    return ClassifierSettings(**settings_fields(env))  # type: ignore[arg-type]


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_timed(steps: Sequence[Step]) -> float:
    start = time.perf_counter()
    for step in steps:
        step()
    return time.perf_counter() - start


class InProcess:
    """Loads the model as the service does (same settings), so ``encode`` is the very
    embedder the service calls, on the same masked texts, in batches of the service's
    consumer batch size. ``timer`` runs the timed work (the bench freezes the idle
    service around it)."""

    def __init__(self, env: Mapping[str, str], timer: Timer = run_timed) -> None:
        from services.classifier.app import load_classifier

        settings = service_settings(env)
        self.batch_size = settings.classifier_batch_size
        self.timer = timer
        self.classifier: Classifier | None = load_classifier(settings)

    @property
    def _loaded(self) -> Classifier:
        if self.classifier is None:
            raise RuntimeError("the in-process classifier was released")
        return self.classifier

    @property
    def _model(self) -> TriageModel:
        return cast("TriageModel", self._loaded.model)

    def embedder_info(self) -> dict[str, Any]:
        spec = self._model.embedder.spec
        return {
            "backend": spec.backend,
            "name": spec.name,
            "weights_sha256": spec.weights_sha256[:12],
            "dim": spec.dim,
        }

    def warm_up(self, events: Sequence[RequestReceived]) -> None:
        """Untimed: the first calls initialise lazily (a first timed pass over new
        texts has measured as low as half the speed of the next one)."""
        for batch in chunks(list(events), self.batch_size):
            self._loaded.classify(list(batch))

    def encode_seconds(self, texts: Sequence[str]) -> float:
        """Bare ``encode``, one call per consumer-sized batch, as the service calls it."""
        encode = self._model.embedder.encode
        steps = [partial(encode, list(b), batch_size=self.batch_size) for b in self._split(texts)]
        return self.timer(steps)

    def _split(self, items: Sequence[T]) -> list[Sequence[T]]:
        return chunks(list(items), self.batch_size)

    def stages(self, events: Sequence[RequestReceived]) -> dict[str, float]:
        """encode, predict and the whole classify back to back on the same events,
        so the ratios between them hold even on busy cores."""
        texts = [mask(e.full_text()) for e in events]
        n = len(texts)
        predict, classify = self._model.predict, self._loaded.classify
        predict_steps = [partial(predict, list(b)) for b in self._split(texts)]
        classify_steps = [partial(classify, list(b)) for b in self._split(events)]
        return {
            "texts": n,
            "mean_chars": sum(map(len, texts)) / n if n else 0.0,
            "encode_texts_per_s": n / self.encode_seconds(texts),
            "predict_texts_per_s": n / self.timer(predict_steps),
            "classify_texts_per_s": n / self.timer(classify_steps),
        }

    def release(self) -> None:
        """Give the memory back before the phases that do not need the model."""
        self.classifier = None
        gc.collect()
