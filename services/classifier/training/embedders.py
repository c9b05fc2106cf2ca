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
# Chosen from docs/benchmarks.md ("Classifier model: choice of defaults"): e5-small,
# as its int8 ONNX build when `triage build-embedder` made one (same accuracy within
# 0.5 point, several times faster, less memory), else the float sentence-transformers one.
PREFERRED_BACKEND = "sentence-transformers-onnx"
FALLBACK_BACKEND = "sentence-transformers"


def default_backend() -> str:
    from services.classifier.embedding.build.cli import default_onnx_dir

    try:
        built = (default_onnx_dir() / "modules.json").is_file()
    except ImportError:  # ONNX tooling absent from this install
        built = False
    return PREFERRED_BACKEND if built else FALLBACK_BACKEND


def load_embedder(
    backend: str | None, location: str | None = None, *, threads: int | None = None
) -> Embedder:
    """An Embedder for ``backend`` (None: the default); ``location`` is a folder
    (or, for hashing, a dimension); ``threads`` caps inference threads (None: cores)."""
    backend = backend or default_backend()
    if backend == "hashing":
        from testing.hashing import HashingEmbedder

        return HashingEmbedder(int(location) if location else 256)
    # Local folders only: a hub download must fail fast instead of hanging offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from services.classifier.embedding.factory import load_embedder as factory

    return factory(backend, location, threads=threads)


def add_embedder_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embedder",
        choices=BACKENDS,
        default=None,
        help=f"embedding backend (default: {PREFERRED_BACKEND} when built, else "
        f"{FALLBACK_BACKEND}; 'hashing' is for tests only)",
    )
    parser.add_argument(
        "--embedder-path",
        default=None,
        help="local model folder of the backend (default: the backend's own default)",
    )
