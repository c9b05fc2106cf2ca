"""Score the candidate and the active model on the same held-out human labels,
and write the report (metrics JSON and plots of both) beside the version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.classifier.embedding.base import Embedder
from services.classifier.embedding.factory import HASHING, load_embedder
from services.classifier.model.artifact import read_manifest
from services.classifier.model.predictor import TriageModel
from services.classifier.training.data import CaseSet
from services.classifier.training.evaluate_cli import evaluate, write_report
from triage.lifecycle.gate import Decision, headline


class Embedders:
    """One embedder per recorded spec: two models of one embedder load it once."""

    def __init__(self, models_dir: Path, location: str | None = None) -> None:
        self.models_dir = models_dir
        self.location = location
        self._loaded: dict[str, Embedder] = {}

    def for_manifest(self, manifest: dict[str, Any]) -> Embedder:
        spec = manifest["embedder"]
        key = json.dumps(spec, sort_keys=True)
        if key not in self._loaded:
            location = self.location
            if spec["backend"] == HASHING:
                location = str(spec["dim"])  # the test embedder's only parameter
            self._loaded[key] = load_embedder(spec["backend"], location, models_dir=self.models_dir)
        return self._loaded[key]

    def default(self) -> Embedder:
        """The default embedder (nothing is active yet to take it from)."""
        return load_embedder(None, self.location, models_dir=self.models_dir)

    def load_model(self, folder: Path) -> TriageModel:
        manifest = read_manifest(folder)
        return TriageModel.load(folder, self.for_manifest(manifest), manifest)


def compare(
    candidate: TriageModel,
    active: TriageModel | None,
    holdout: CaseSet | None,
    report: Path,
) -> dict[str, Any]:
    """The ``holdout`` block of the registry: both models' headline numbers; the full
    evaluations and their plots go to ``report/candidate`` and ``report/active``."""
    if holdout is None or len(holdout) == 0:
        return {"rows": 0, "active_version": active.model_version if active else None}
    block: dict[str, Any] = {
        "rows": len(holdout),
        "sha256": holdout.sha256,
        "active_version": active.model_version if active else None,
    }
    for role, model in (("candidate", candidate), ("active", active)):
        if model is None:
            continue
        result = evaluate(model, holdout, progress=False)
        write_report(result, report / role)
        block[role] = headline(result)
    return block


def write_comparison(report: Path, holdout: dict[str, Any], decision: Decision) -> Path:
    report.mkdir(parents=True, exist_ok=True)
    path = report / "comparison.json"
    body = {"holdout": holdout, "gate_preview": decision.to_dict()}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
