"""The Embedder interface shared by training, evaluation and the service.

An embedder turns texts into L2-normalised float32 vectors. Its ``spec``
identifies it completely (backend + weights checksum) and is recorded in every
model artifact; an artifact refuses to serve with an embedder whose spec differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
# Rows shorter than this are left as (near) zero instead of blowing up to noise.
_MIN_NORM = 1e-12


def normalise_rows(vectors: npt.NDArray[np.floating]) -> Vectors:
    """Each row scaled to unit L2 length (all-zero rows stay zero), as float32."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, _MIN_NORM)).astype(np.float32, copy=False)


@dataclass(frozen=True)
class EmbedderSpec:
    """What an artifact records about the embedder it was trained with."""

    backend: str  # "sentence-transformers" | "use-multilingual" | "hashing" (tests)
    name: str  # human name, e.g. "multilingual-e5-small"
    weights_sha256: str  # checksum of the weights actually loaded
    dim: int

    def to_dict(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "name": self.name,
            "weights_sha256": self.weights_sha256,
            "dim": self.dim,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> EmbedderSpec:
        return cls(
            backend=str(data["backend"]),
            name=str(data["name"]),
            weights_sha256=str(data["weights_sha256"]),
            dim=int(str(data["dim"])),
        )


class Embedder(Protocol):
    @property
    def spec(self) -> EmbedderSpec: ...

    def encode(
        self, texts: list[str], *, batch_size: int = 64, show_progress: bool = False
    ) -> Vectors:
        """Return an array of shape (len(texts), dim), float32, rows L2-normalised."""
        ...
