"""What the training CLIs (train, evaluate, default-model) share.

Each one runs an action, maps the errors a user can fix to an exit code and a
message on stderr, and prints a summary of what it did; trained models are
written next to their target and swapped in, so a failed run leaves the old
model in place.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from services.classifier.embedding.base import Embedder
from services.classifier.embedding.build import folders
from services.classifier.embedding.factory import ALL_BACKENDS, FALLBACK_BACKEND, PREFERRED_BACKEND
from services.classifier.model.artifact import MANIFEST, ArtifactError
from services.classifier.training.data import CaseSet, DataError
from services.classifier.training.trainer import TrainOptions, train_model

T = TypeVar("T")


def add_embedder_arguments(parser: argparse.ArgumentParser) -> None:
    """``--embedder`` and ``--embedder-path`` of train and default-model."""
    parser.add_argument(
        "--embedder",
        choices=ALL_BACKENDS,
        default=None,
        help=f"embedding backend (default: {PREFERRED_BACKEND} when built, else "
        f"{FALLBACK_BACKEND}; 'hashing' is for tests only)",
    )
    parser.add_argument(
        "--embedder-path",
        default=None,
        help="local model folder of the backend (default: the backend's own default)",
    )


def setup_cli_logging(level: str) -> None:
    from shared.logs import setup_logging

    setup_logging(level, "text", service="triage")


def run_reporting(
    prog: str, action: Callable[[], T], report: Callable[[T], None], data_word: str = "data"
) -> int:
    """Exit code of ``action``: 2 for bad input data, 1 for other failures, else 0.

    ``report`` runs only on success, outside the error mapping: a failure while
    writing the outputs is a bug to see in full, not a user error.
    """
    try:
        result = action()
    except DataError as exc:
        print(f"{prog}: invalid {data_word}:\n{exc}", file=sys.stderr)
        return 2
    except (ArtifactError, OSError, RuntimeError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    report(result)
    return 0


def replace_dir(tmp: Path, out: Path) -> None:
    """Move a freshly written model ``tmp`` to ``out``, replacing an older model."""
    # Only a model (or an empty folder) may be replaced: --out pointing at the
    # wrong folder must not delete someone's files.
    if out.exists() and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise ArtifactError(f"{out}: exists, is not empty and is not a model directory")
    folders.replace_dir(tmp, out)


def train_into(
    cases: CaseSet, embedder: Embedder, out: Path, options: TrainOptions
) -> dict[str, Any]:
    """Train a model and put it at ``out`` atomically; return its manifest."""
    return folders.write_atomically(
        out, lambda tmp: train_model(cases, embedder, tmp, options), replace_dir
    )
