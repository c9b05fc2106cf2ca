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
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter, Histogram, Info

from services.classifier.pipeline import Classifier, RelatedConfig
from services.classifier.settings import ClassifierSettings
from shared.consumer import BatchConsumer, Consumed, TransientError, lag_loop, subscribe
from shared.events import EVENT_TYPE_HEADER, RECEIVED_V1, RequestClassified, encode
from shared.http import install_error_handlers
from shared.kafka import ensure_topics, make_broker
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

    classifier: Classifier
    broker: KafkaBroker
    topic: str
    metrics: ClassifierMetrics
    executor: ThreadPoolExecutor

    async def process(self, items: list[Consumed[Any]]) -> None:
        events = [item.event for item in items]
        start = time.perf_counter()
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self.executor, self.classifier.classify, events)
        self.metrics.inference.observe(time.perf_counter() - start)
        try:
            await asyncio.gather(*(self._publish(r) for r in results))
        except Exception as exc:
            raise TransientError("publishing results failed") from exc
        self.metrics.observe(results)

    async def _publish(self, result: RequestClassified) -> None:
        await self.broker.publish(
            encode(result),
            self.topic,
            key=result.request_id.encode(),
            headers={EVENT_TYPE_HEADER: result.event_type},
        )


def load_classifier(settings: ClassifierSettings) -> Classifier:
    """Load the model with the embedder it was trained with, the lexicon, the detector."""
    from services.classifier.cues import CueLexicon
    from services.classifier.language import LanguageDetector
    from services.classifier.model.loading import load_model
    from services.classifier.model.paths import default_model_dir

    model = load_model(
        settings.model_dir or default_model_dir(settings.models_dir),
        models_dir=settings.models_dir,
        embedder_path=settings.embedder_path,
        threads=settings.classifier_threads,
    )
    # four languages keep the detector at ~130 MB (eleven cost ~350 MB) for the RSS budget
    detector = LanguageDetector(languages=("fr", "nl", "en", "de"))
    return Classifier(model, CueLexicon.load(), detector, related_config(settings, model))


def related_config(settings: ClassifierSettings, model: Any) -> RelatedConfig:
    """The identity key from the settings, the embedder's identity from the model."""
    key = settings.identity_hash_key
    if key is None:
        log.warning("TRIAGE_IDENTITY_HASH_KEY unset: no same-person matching of requests")
    spec = model.embedder_spec
    return RelatedConfig(
        identity_key=key.get_secret_value().encode() if key else None,
        embedder=f"{spec.name}:{spec.weights_sha256[:12]}:{spec.dim}"[:80],
    )


def create_app(settings: ClassifierSettings, classifier: Classifier | None = None) -> FastAPI:
    registry = new_registry()
    metrics = ClassifierMetrics(registry)
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
        worker = Worker(loaded, broker, settings.topic_classified, metrics, executor)
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
        await ensure_topics(
            settings,
            [settings.topic_received, settings.topic_classified, settings.topic_deadletter],
        )
        await broker.start()
        lag = asyncio.create_task(
            lag_loop(subscriber, metrics.consumer, settings.classifier_group_id,
                     settings.classifier_lag_interval_s)
        )  # fmt: skip
        state["ready"] = True
        try:
            yield
        finally:
            state["ready"] = False
            lag.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag
            await broker.stop()  # finishes the batch in hand, then commits
            executor.shutdown(wait=True)
            log.info("classifier stopped")

    app = FastAPI(title="Triage classifier", version="1.0.0", lifespan=lifespan)
    app.add_middleware(HttpMetricsMiddleware, metrics=http_metrics, routes=app.router.routes)
    install_error_handlers(app)

    async def not_ready() -> str | None:
        return None if state["ready"] else "model loading"

    Probes(registry, not_ready).install(app)
    return app
