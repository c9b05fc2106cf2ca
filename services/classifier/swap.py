"""Hot swap: every replica follows the model store's ``active.json`` without a restart.

The watcher checks the pointer every ``classifier_model_poll_s``; when it names
another version, the new model is loaded on a thread of its own (classification
goes on meanwhile) and then replaces the served one between two batches: a batch
already in progress finishes on the model it started with, and every result
carries the version that decided it. A version that fails to load is logged,
counted and skipped until the pointer changes again; the old model keeps serving.
Serving code only: artifacts are loaded, nothing is trained here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Info

from services.classifier.model.store import ActivePointer, read_active, version_dir
from services.classifier.pipeline import Classifier, Model

log = logging.getLogger(__name__)

# (model folder, the model in service) -> the new model; may reuse the old one's embedder
Loader = Callable[[Path, Model | None], Model]


class SwapMetrics:
    def __init__(self, registry: CollectorRegistry, info: Info) -> None:
        self.info = info
        self.swaps = Counter(
            "triage_classifier_model_swaps_total",
            "Times this replica started serving another model version",
            registry=registry,
        )
        self.failures = Counter(
            "triage_classifier_model_swap_failures_total",
            "Model versions this replica could not load (it kept the previous one)",
            registry=registry,
        )
        self.shadow = Counter(
            "triage_classifier_shadow_predictions_total",
            "Predictions of a shadow candidate, by its version, head and agreement with the "
            "active model",
            ["model_version", "head", "agreed"],
            registry=registry,
        )


class Holder:
    """The classifier in service and the shadow candidates; each is read once per batch
    (``shadows`` is replaced, never changed in place, so a batch keeps its snapshot)."""

    def __init__(self, current: Classifier) -> None:
        self.current = current
        self.shadows: dict[str, Model] = {}

    @property
    def version(self) -> str:
        return self.current.model.model_version


class ModelWatcher:
    def __init__(
        self, store: Path, holder: Holder, load: Loader, metrics: SwapMetrics, poll_s: float
    ) -> None:
        self.store = store
        self.holder = holder
        self.load = load
        self.metrics = metrics
        self.poll_s = poll_s
        self._failed: str | None = None
        self._failed_shadows: set[str] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-load")

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.poll_s)
                try:
                    await self.check()
                except Exception:  # a store briefly unreadable: keep serving, check again
                    log.exception("model store check failed")
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def check(self) -> bool:
        """Swap if the pointer names another loadable version; True when swapped."""
        pointer = await asyncio.to_thread(read_active, self.store)
        if pointer is None:
            return False
        swapped = False
        if pointer.version not in (self.holder.version, self._failed):
            swapped = await self._swap(pointer)
        await self._follow_shadows(set(pointer.shadow) - {self.holder.version})
        return swapped

    async def _follow_shadows(self, wanted: set[str]) -> None:
        shadows = {v: m for v, m in self.holder.shadows.items() if v in wanted}
        loop = asyncio.get_running_loop()
        for version in sorted(wanted - shadows.keys() - self._failed_shadows):
            folder = version_dir(self.store, version)
            try:
                shadows[version] = await loop.run_in_executor(
                    self._executor, self.load, folder, self.holder.current.model
                )
            except Exception:
                log.exception("shadow model %s could not be loaded", version)
                self._failed_shadows.add(version)
                self.metrics.failures.inc()
        self._failed_shadows &= wanted
        if shadows.keys() != self.holder.shadows.keys():
            log.info("shadow models: %s", ", ".join(sorted(shadows)) or "none")
            self.holder.shadows = shadows

    async def _swap(self, pointer: ActivePointer) -> bool:
        loop = asyncio.get_running_loop()
        folder = version_dir(self.store, pointer.version)
        old = self.holder.current
        try:
            model = await loop.run_in_executor(self._executor, self.load, folder, old.model)
        except Exception:
            log.exception("model %s could not be loaded; still serving %s",
                          pointer.version, old.model.model_version)  # fmt: skip
            self._failed = pointer.version
            self.metrics.failures.inc()
            return False
        self.holder.current = old.with_model(model)
        self._failed = None
        self.metrics.swaps.inc()
        self.metrics.info.info({"version": model.model_version})
        log.info("now serving model %s (was %s)", model.model_version, old.model.model_version)
        return True


def score_shadows(
    classifier: Classifier, shadows: dict[str, Model], events: list[Any],
    results: list[Any], metrics: SwapMetrics,
) -> None:  # fmt: skip
    """Score the batch with each shadow candidate and count its agreement with the
    active model; routes nothing, and a failure never touches the pipeline."""
    for version, model in shadows.items():
        try:
            agreed = classifier.agreement(model, events, results)
        except Exception:
            log.exception("shadow model %s failed on a batch", version)
            continue
        for type_ok, urgency_ok in agreed:
            metrics.shadow.labels(version, "type", str(type_ok).lower()).inc()
            metrics.shadow.labels(version, "urgency", str(urgency_ok).lower()).inc()
