"""Load a model artifact together with the embedder it was trained with."""

from __future__ import annotations

import logging
from pathlib import Path

from services.classifier.embedding.base import Embedder, EmbedderSpec
from services.classifier.embedding.factory import load_embedder
from services.classifier.model.artifact import MANIFEST, read_manifest
from services.classifier.model.predictor import TriageModel

log = logging.getLogger(__name__)


def load_model(
    model_dir: Path,
    *,
    models_dir: Path,
    embedder_path: str | None,
    threads: int | None,
    reuse: Embedder | None = None,
) -> TriageModel:
    """The artifact at ``model_dir``, checksums verified, with its embedder.

    The embedder is chosen by the artifact's manifest, so a model never runs with
    another embedder than the one it was trained with (TriageModel.load refuses).
    ``models_dir`` holds the default embedder folders (``ModelPaths.models_dir``).
    ``reuse``: an embedder already loaded (the model in service), taken when it is the
    recorded one, so that a hot swap does not hold the embedder twice in memory.
    """
    folder = model_dir.resolve()
    if not (folder / MANIFEST).is_file():
        raise FileNotFoundError(
            f"no model at {folder}: train one with `triage train` or run `make model`"
        )
    manifest = read_manifest(folder)  # the one read: passed along to the model
    backend = manifest["embedder"]["backend"]
    if reuse is not None and reuse.spec == EmbedderSpec.from_dict(manifest["embedder"]):
        embedder = reuse
    else:
        embedder = load_embedder(backend, embedder_path, models_dir=models_dir, threads=threads)
    log.info("loading model from %s with embedder %s", folder, backend)
    return TriageModel.load(folder, embedder, manifest)
