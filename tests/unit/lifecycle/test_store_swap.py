"""The store pointer and the hot swap of the served model (fake models, no broker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.classifier.cues import CueLexicon
from services.classifier.model.store import (
    ActivePointer,
    StoreError,
    read_active,
    version_dir,
    write_active,
)
from services.classifier.pipeline import Classifier, Model
from services.classifier.swap import Holder, ModelWatcher, SwapMetrics
from shared.metrics import new_registry
from tests.unit.classifier.test_pipeline import FakeModel

A, B = "m-aaaaaaaaaaaaaaaa", "m-bbbbbbbbbbbbbbbb"


class Detector:
    def detect_many(self, texts: list[str]) -> list[tuple[str, float]]:
        return [("fr", 0.9) for _ in texts]


class Versioned(FakeModel):
    def __init__(self, version: str) -> None:
        super().__init__()
        self.model_version = version  # type: ignore[misc]


def test_pointer_round_trip_and_refusals(tmp_path: Path) -> None:
    assert read_active(tmp_path) is None
    write_active(tmp_path, ActivePointer(A, (B,)))
    assert read_active(tmp_path) == ActivePointer(A, (B,))
    (tmp_path / "active.json").write_text('{"version": "../etc"}')
    assert read_active(tmp_path) is None
    with pytest.raises(StoreError):
        version_dir(tmp_path, "../m-aaaaaaaaaaaaaaaa")


def _watcher(tmp_path: Path, fail: set[str]) -> tuple[ModelWatcher, Holder, list[Path]]:
    from prometheus_client import Info

    registry = new_registry()
    loaded: list[Path] = []

    def load(folder: Path, serving: Model | None) -> Model:
        loaded.append(folder)
        if folder.name in fail:
            raise OSError("broken artifact")
        return Versioned(folder.name)

    holder = Holder(Classifier(Versioned(A), CueLexicon.load(), Detector()))
    metrics = SwapMetrics(registry, Info("triage_model", "served", registry=registry))
    return ModelWatcher(tmp_path, holder, load, metrics, 0.01), holder, loaded


async def test_a_new_active_version_replaces_the_served_model(tmp_path: Path) -> None:
    watcher, holder, loaded = _watcher(tmp_path, set())
    before = holder.current
    assert not await watcher.check()  # no pointer yet: keep serving
    write_active(tmp_path, ActivePointer(A))
    assert not await watcher.check() and loaded == []  # the same version: nothing to load
    write_active(tmp_path, ActivePointer(B))
    assert await watcher.check()
    assert holder.version == B and loaded == [tmp_path / B]
    assert before.model.model_version == A  # a batch that took the old one keeps it
    assert holder.current.lexicon is before.lexicon
    assert watcher.metrics.swaps._value.get() == 1


async def test_a_version_that_fails_to_load_is_skipped_and_the_old_one_serves(
    tmp_path: Path,
) -> None:
    watcher, holder, loaded = _watcher(tmp_path, {B})
    write_active(tmp_path, ActivePointer(B))
    assert not await watcher.check() and not await watcher.check()
    assert holder.version == A and len(loaded) == 1  # not retried until the pointer changes
    assert watcher.metrics.failures._value.get() == 1


async def test_shadow_candidates_are_loaded_scored_and_dropped(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from services.classifier.swap import score_shadows
    from shared.events import RequestReceived, request_id_for

    watcher, holder, _ = _watcher(tmp_path, set())
    write_active(tmp_path, ActivePointer(A, (B,)))
    assert not await watcher.check()  # A stays; B is loaded beside it
    assert holder.version == A and list(holder.shadows) == [B]
    event = RequestReceived(
        request_id=request_id_for("demo", "x"), source="demo", external_id="x",
        channel="email", body="Coupure d'électricité demain", received_at=datetime.now(UTC),
    )  # fmt: skip
    results = holder.current.classify([event])
    score_shadows(holder.current, holder.shadows, [event], results, watcher.metrics)
    agreed = watcher.metrics.shadow.labels(B, "type", "true")._value.get()
    assert agreed == 1  # the fake models agree
    write_active(tmp_path, ActivePointer(A))
    await watcher.check()
    assert holder.shadows == {}
