"""``triage default-model``: train (or reuse) the default model from the demo corpus.

The model is keyed by the corpus files, the embedder checksum and the training
recipe, and lives in ``$TRIAGE_CACHE_DIR/models/default-<key>``; a second run
with the same inputs reuses it in a second. ``models/current.json`` (and the
``models/default`` symlink) point at the last one built, for the classifier
service. Only the demo corpus trains it: the benchmark datasets are licensed
for evaluation only.

stdout carries only the model path, so ``MODEL=$(triage default-model)`` works.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from services.classifier.embedding.base import EmbedderSpec
from services.classifier.embedding.factory import load_embedder
from services.classifier.model.artifact import ArtifactError, read_manifest, verify
from services.classifier.model.features import ModelConfig
from services.classifier.model.paths import LINK, POINTER
from services.classifier.settings import ModelPaths
from services.classifier.training.cli_support import (
    add_embedder_arguments,
    run_reporting,
    setup_cli_logging,
    train_into,
)
from services.classifier.training.data import DataError, concat_cases, load_cases
from services.classifier.training.train_cli import print_summary
from services.classifier.training.trainer import TrainOptions

log = logging.getLogger(__name__)

# Bump when the training code changes in a way that should rebuild default models.
RECIPE = "default-v2"  # v2: per-head recipes chosen by cross-validation, unknown type
CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "corpus"


def corpus_files(corpus: Path) -> list[Path]:
    files = sorted(corpus.glob("*.csv"))
    if not files:
        raise DataError(f"{corpus}: no corpus CSV files")
    return files


def model_key(files: list[Path], spec: EmbedderSpec, options: TrainOptions) -> str:
    digest = hashlib.sha256()
    recipe = {
        "recipe": RECIPE,
        "embedder": spec.to_dict(),
        "config": options.config.to_dict(),
        "seed": options.seed,
        "target_precision": options.target_precision,
    }
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _reusable(target: Path, key: str) -> bool:
    try:
        manifest = read_manifest(target)
        verify(target, manifest)
    except ArtifactError as exc:
        if target.exists():
            log.info("not reusing %s: %s", target, exc)
        return False
    return bool(manifest.get("notes", {}).get("default_key") == key)


def _write_pointer(models: Path, target: Path, manifest: dict[str, Any]) -> None:
    """Point ``current.json`` and the ``default`` symlink at ``target`` atomically."""
    pointer = {
        "path": str(target),
        "model_version": manifest["model_version"],
        "key": manifest["notes"]["default_key"],
        "embedder": manifest["embedder"],
    }
    tmp = models / f".{POINTER}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(pointer, indent=2) + "\n")
    tmp.replace(models / POINTER)
    link_tmp = models / f".{LINK}.tmp-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    with contextlib.suppress(OSError):  # symlinks are a convenience; current.json is the contract
        link_tmp.symlink_to(target.name, target_is_directory=True)
        link_tmp.replace(models / LINK)


def build_default(
    corpus: Path,
    backend: str | None,
    location: str | None,
    out: Path | None,
    options: TrainOptions,
    *,
    models: Path,
    force: bool = False,
) -> Path:
    """Train or reuse; return the model directory (``models``: ModelPaths.models_dir)."""
    files = corpus_files(corpus)
    embedder = load_embedder(backend, location, models_dir=models)
    key = model_key(files, embedder.spec, options)
    target = out if out is not None else models / f"default-{key}"
    if not force and _reusable(target, key):
        log.info("reusing default model %s", target)
        manifest = read_manifest(target)
    else:
        cases = concat_cases([load_cases(f, min_examples=None) for f in files])
        notes = {**options.notes, "default_key": key, "corpus": [f.name for f in files]}
        options = TrainOptions(**{**options.__dict__, "notes": notes})
        manifest = train_into(cases, embedder, target, options)
        with contextlib.redirect_stdout(sys.stderr):
            print_summary(manifest, target)
    if out is None:
        _write_pointer(models, target, manifest)
    return target


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="triage default-model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="model directory (default: $TRIAGE_CACHE_DIR/models/default-<key>)",
    )
    add_embedder_arguments(p)
    p.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="folder of corpus CSV files")
    p.add_argument("--force", action="store_true", help="retrain even if a model exists")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target-precision", type=float, default=0.9)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_cli_logging(args.log_level)
    options = TrainOptions(
        config=ModelConfig(),
        seed=args.seed,
        target_precision=args.target_precision,
        show_progress=not args.no_progress,
    )
    models = ModelPaths().models_dir
    return run_reporting(
        "triage default-model",
        lambda: build_default(
            args.corpus,
            args.embedder,
            args.embedder_path,
            args.out,
            options,
            models=models,
            force=args.force,
        ),
        print,
        data_word="corpus",
    )
