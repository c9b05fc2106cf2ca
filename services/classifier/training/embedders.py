"""Choosing an embedder by backend name for the training commands.

"hashing" is built here (tests, no weights); the real backends come from the
embedding package's factory, which imports PyTorch or onnxruntime only when an
embedder is built, so ``triage train --help`` and the tests stay light.
"""

from __future__ import annotations

import argparse
import os

from services.classifier.embedding.base import Embedder
from services.classifier.embedding.factory import BACKENDS as _FACTORY_BACKENDS

BACKENDS = (*_FACTORY_BACKENDS, "hashing")
# Chosen from docs/benchmarks.md ("Classifier model: choice of defaults").
DEFAULT_BACKEND = "sentence-transformers"


def load_embedder(backend: str, location: str | None = None) -> Embedder:
    """An Embedder for ``backend``; ``location`` is a folder (or, for hashing, a dim)."""
    if backend == "hashing":
        from services.classifier.embedding.hashing import HashingEmbedder

        return HashingEmbedder(int(location) if location else 256)
    # Local folders only: a hub download must fail fast instead of hanging offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from services.classifier.embedding.factory import load_embedder as factory

    return factory(backend, location)


def add_embedder_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embedder",
        choices=BACKENDS,
        default=DEFAULT_BACKEND,
        help=f"embedding backend (default {DEFAULT_BACKEND}; 'hashing' is for tests only)",
    )
    parser.add_argument(
        "--embedder-path",
        default=None,
        help="local model folder of the backend (default: the backend's own default)",
    )
