"""Load a model artifact together with the embedder it was trained with."""

from __future__ import annotations

import logging
from pathlib import Path

from services.classifier.model.predictor import TriageModel

log = logging.getLogger(__name__)


def default_model_dir() -> Path:
    """The demo model `make model` built last (``models/current.json``)."""
    from services.classifier.training.default_model import models_dir, resolve_default_model

    return resolve_default_model() or models_dir() / "default"


def load_model(
    model_dir: Path | None, embedder_path: str | None, threads: int | None
) -> TriageModel:
    """The artifact at ``model_dir`` (default: the demo model), checksums verified.

    The embedder is chosen by the artifact's manifest, so a model never runs with
    another embedder than the one it was trained with (TriageModel.load refuses).
    """
    from services.classifier.model.artifact import read_manifest
    from services.classifier.training.embedders import load_embedder

    folder = (model_dir or default_model_dir()).resolve()
    if not (folder / "manifest.json").is_file():
        raise FileNotFoundError(
            f"no model at {folder}: train one with `triage train` or run `make model`"
        )
    spec = read_manifest(folder)["embedder"]
    embedder = load_embedder(spec["backend"], embedder_path, threads=threads)
    log.info("loading model from %s with embedder %s", folder, spec["backend"])
    return TriageModel.load(folder, embedder)
