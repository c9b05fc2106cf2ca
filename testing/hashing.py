"""A deterministic, dependency-free embedder for tests (backend "hashing").

It hashes lower-cased words and character trigrams into a fixed number of
signed buckets (the "hashing trick") and L2-normalises the result. It knows
nothing about meaning across languages, but it is fast, needs no weights and
gives the same vectors on every machine, which is what unit and integration
tests need. Never use it to serve real requests.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from services.classifier.embedding.base import EmbedderSpec, Vectors, normalise_rows

BACKEND = "hashing"
_VERSION = "v1"  # bump when the hashing scheme changes: the spec checksum changes with it
_WORD = re.compile(r"\w+", re.UNICODE)


def _bucket(token: str, dim: int) -> tuple[int, float]:
    # blake2b, not hash(): Python's str hash is salted per process.
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dim, (1.0 if (value >> 63) & 1 else -1.0)


def _tokens(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    grams = [f"#{w}#"[i : i + 3] for w in words for i in range(max(1, len(w)))]
    return [f"w:{w}" for w in words] + [f"c:{g}" for g in grams]


class HashingEmbedder:
    """Implements the ``Embedder`` protocol with the hashing trick."""

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ValueError("dim must be at least 8")
        self._dim = dim
        checksum = hashlib.sha256(f"triage-hashing-{_VERSION}:{dim}".encode()).hexdigest()
        self._spec = EmbedderSpec(
            backend=BACKEND, name=f"hashing-{dim}", weights_sha256=checksum, dim=dim
        )

    @property
    def spec(self) -> EmbedderSpec:
        return self._spec

    def encode(
        self, texts: list[str], *, batch_size: int = 64, show_progress: bool = False
    ) -> Vectors:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _tokens(text):
                index, sign = _bucket(token, self._dim)
                out[row, index] += sign
        return normalise_rows(out)
