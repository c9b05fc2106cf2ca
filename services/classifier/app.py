"""Classifier service: lifespan loads the model, then consumes, classifies, publishes.

Offsets are committed only after every result of a batch is acknowledged by the
broker (at-least-once; the router is idempotent on the request id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter, Histogram, Info

from services.classifier.extraction.stage import ExtractionMetrics
from services.classifier.extraction.wiring import Extraction
from services.classifier.model.predictor import TriageModel
from services.classifier.pipeline import Classifier, Model, RelatedConfig, embedder_id
from services.classifier.settings import ClassifierSettings
from services.classifier.swap import Holder, Loader, ModelWatcher, SwapMetrics, score_shadows
from shared.consumer import (
    BatchConsumer,
    Consumed,
    TransientError,
    UnpublishableResult,
    lag_loop,
    subscribe,
)
from shared.events import EVENT_TYPE_HEADER, RECEIVED_V1, RequestClassified, encode
from shared.http import install_error_handlers
from shared.kafka import MessageTooLarge, check_size, ensure_topics, make_broker
from shared.metrics import (
    LATENCY_BUCKETS,
    ConsumerMetrics,
    HttpMetrics,
    HttpMetricsMiddleware,
    new_registry,
)
from shared.probes import Probes

log = logging.getLogger(__name__)


class ClassifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.consumer = ConsumerMetrics(registry, "classifier")
        self.inference = Histogram(
            "triage_classifier_inference_seconds",
            "Time to classify one batch (masking, embedding, heads, cues, language)",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.results = Counter(
            "triage_classifier_results_total",
            "Classified requests by type, urgency and needs_review",
            ["type", "urgency", "needs_review"],
            registry=registry,
        )
        self.confidence = Histogram(
            "triage_classifier_type_confidence",
            "Top type probability of each classified request",
            buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
            registry=registry,
        )
        self.cue_raised = Counter(
            "triage_classifier_urgency_raised_total",
            "Requests whose urgency a lexicon cue raised above the model's",
            registry=registry,
        )
        self.model = Info("triage_model", "The model being served", registry=registry)

    def observe(self, results: list[RequestClassified]) -> None:
        for result in results:
            c = result.classification
            self.results.labels(c.type, c.urgency.value, str(c.needs_review).lower()).inc()
            self.confidence.observe(c.type_confidence)
            if c.model_urgency is not None and c.model_urgency != c.urgency:
                self.cue_raised.inc()


@dataclass
class Worker:
    """Classifies a consumed batch off the event loop and publishes the results."""

    holder: Holder
    broker: KafkaBroker
    topic: str
    metrics: ClassifierMetrics
    executor: ThreadPoolExecutor
    max_message_bytes: int
    swap_metrics: SwapMetrics

    async def process(self, items: list[Consumed[Any]]) -> None:
        events = [item.event for item in items]
        start = time.perf_counter()
        loop = asyncio.get_running_loop()
        classifier = self.holder.current  # one model for the whole batch, even during a swap
        results = await loop.run_in_executor(self.executor, classifier.classify, events)
        self.metrics.inference.observe(time.perf_counter() - start)
        # Encoded and measured before anything is sent: a result that can never be
        # published fails its input (dead letter), never the whole partition for ever.
        try:
            payloads = [check_size(encode(r), self.max_message_bytes) for r in results]
        except (MessageTooLarge, ValueError) as exc:
            raise UnpublishableResult(str(exc)) from exc
        try:
            await asyncio.gather(
                *(self._publish(r, p) for r, p in zip(results, payloads, strict=True))
            )
        except MessageSizeTooLargeError as exc:  # the broker's own, lower limit
            raise UnpublishableResult("the broker refused the result as too large") from exc
        except Exception as exc:
            raise TransientError("publishing results failed", "broker") from exc
        self.metrics.observe(results)
        shadows = self.holder.shadows
        if shadows:  # after the results are out: a shadow never delays routing
            await loop.run_in_executor(
                self.executor, score_shadows, classifier, shadows, events, results,
                self.swap_metrics,
            )  # fmt: skip

    async def _publish(self, result: RequestClassified, payload: bytes) -> None:
        await self.broker.publish(
            payload,
            self.topic,
            key=result.request_id.encode(),
            headers={EVENT_TYPE_HEADER: result.event_type},
        )


def serving_dir(settings: ClassifierSettings) -> Path:
    """The store's active version when there is one, else the configured/default model."""
    from services.classifier.model.paths import default_model_dir
    from services.classifier.model.store import read_active, version_dir

    if settings.model_store is not None:
        pointer = read_active(settings.model_store)
        if pointer is not None:
            return version_dir(settings.model_store, pointer.version)
    return settings.model_dir or default_model_dir(settings.models_dir)


def _load(settings: ClassifierSettings, folder: Path, serving: Model | None = None) -> TriageModel:
    """One model folder with its recorded embedder (reusing the served one's)."""
    from services.classifier.model.loading import load_model

    return load_model(
        folder, models_dir=settings.models_dir, embedder_path=settings.embedder_path,
        threads=settings.classifier_threads, reuse=getattr(serving, "embedder", None),
    )  # fmt: skip


def model_loader(settings: ClassifierSettings) -> Loader:
    """Loads one model folder with its recorded embedder (reusing the served one's)."""

    def load(folder: Path, serving: Model | None) -> Model:
        return _load(settings, folder, serving)

    return load


def load_classifier(settings: ClassifierSettings) -> Classifier:
    """Load the model with the embedder it was trained with, the lexicon, the detector."""
    from services.classifier.cues import CueLexicon
    from services.classifier.keypoints import KeyPointer
    from services.classifier.language import LanguageDetector

    model = _load(settings, serving_dir(settings))
    # four languages keep the detector at ~130 MB (eleven cost ~350 MB) for the RSS budget
    detector = LanguageDetector(languages=("fr", "nl", "en", "de"))
    # the model's own embedder, already loaded: key points cost no extra memory
    key_points = KeyPointer(model.embedder.encode, settings.key_point_params())
    return Classifier(
        model, CueLexicon.load(), detector, key_points, settings.classifier_window_words,
        related_config(settings, model),
    )  # fmt: skip


def _extraction(
    settings: ClassifierSettings,
    broker: KafkaBroker,
    metrics: ConsumerMetrics,
    extraction_metrics: ExtractionMetrics,
) -> Extraction | None:
    """The extraction stage of requests with files (``extraction/``), when enabled."""
    if not settings.extract_enabled:
        return None
    return Extraction(settings, broker, metrics, extraction_metrics)


def related_config(settings: ClassifierSettings, model: Any) -> RelatedConfig:
    """The identity key from the settings, the embedder's identity from the model."""
    key = settings.identity_hash_key
    if key is None:
        log.warning("TRIAGE_IDENTITY_HASH_KEY unset: no same-person matching of requests")
    return RelatedConfig(
        identity_key=key.get_secret_value().encode() if key else None,
        embedder=embedder_id(model.embedder_spec),
    )


def create_app(settings: ClassifierSettings, classifier: Classifier | None = None) -> FastAPI:
    registry = new_registry()
    metrics = ClassifierMetrics(registry)
    extraction_metrics = ExtractionMetrics(registry)  # listed from the start, like the rest
    swap_metrics = SwapMetrics(registry, metrics.model)
    http_metrics = HttpMetrics(registry, "classifier")
    broker = make_broker(settings, graceful_timeout=settings.graceful_timeout_s)
    state: dict[str, Any] = {"ready": False}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classify")
        loaded = classifier
        if loaded is None:
            loaded = await loop.run_in_executor(executor, load_classifier, settings)
        version = loaded.model.model_version
        metrics.model.info({"version": version})
        log.info("model %s loaded", version)
        holder = Holder(loaded)
        worker = Worker(holder, broker, settings.topic_classified, metrics, executor,
                        settings.kafka_max_message_bytes, swap_metrics)  # fmt: skip
        consumer = BatchConsumer(
            broker=broker, stage="classifier", expected_event_type=RECEIVED_V1,
            process=worker.process, deadletter_topic=settings.topic_deadletter,
            metrics=metrics.consumer, max_attempts=settings.classifier_max_attempts,
        )  # fmt: skip
        subscriber = subscribe(
            broker, settings, consumer, topic=settings.topic_received,
            group_id=settings.classifier_group_id, max_records=settings.classifier_batch_size,
            batch_timeout_ms=settings.classifier_batch_wait_ms,
        )  # fmt: skip
        extraction = _extraction(settings, broker, metrics.consumer, extraction_metrics)
        await ensure_topics(
            settings,
            [settings.topic_received, settings.topic_classified, settings.topic_deadletter,
             settings.topic_documents],
        )  # fmt: skip
        await broker.start()
        if extraction is not None:
            extraction.start()
        lag = asyncio.create_task(
            lag_loop(subscriber, metrics.consumer, settings.classifier_group_id,
                     settings.classifier_lag_interval_s)
        )  # fmt: skip
        tasks = [lag]
        if settings.model_store is not None:
            watcher = ModelWatcher(
                settings.model_store, holder, model_loader(settings),
                swap_metrics, settings.classifier_model_poll_s,
            )  # fmt: skip
            tasks.append(asyncio.create_task(watcher.run()))
        state["ready"], state["consumer"] = True, consumer
        try:
            yield
        finally:
            state["ready"] = False
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await broker.stop()  # finishes the batch in hand, then commits
            if extraction is not None:
                await extraction.stop()
            executor.shutdown(wait=True)
            log.info("classifier stopped")

    app = FastAPI(title="Triage classifier", version="1.0.0", lifespan=lifespan)
    app.add_middleware(HttpMetricsMiddleware, metrics=http_metrics, routes=app.router.routes)
    install_error_handlers(app)

    async def not_ready() -> str | None:
        if not state["ready"]:
            return "model loading"
        stalled = state["consumer"].stalled
        return f"consumer retrying: broker unusable ({stalled})" if stalled else None

    Probes(registry, not_ready).install(app)
    return app
