"""``triage train --data cases.csv --out DIR``: train and write a model artifact."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from services.classifier.embedding.factory import load_embedder
from services.classifier.model.features import (
    FEATURE_MODES,
    FeatureConfig,
    HeadConfig,
    ModelConfig,
)
from services.classifier.settings import ModelPaths
from services.classifier.training.cli_support import (
    add_embedder_arguments,
    run_reporting,
    setup_cli_logging,
    train_into,
)
from services.classifier.training.data import DEFAULT_MIN_EXAMPLES, load_cases
from services.classifier.training.trainer import TrainOptions
from services.classifier.training.unknown import DEFAULT_RATE

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="triage train", description=__doc__)
    p.add_argument("--data", required=True, type=Path, help="cases CSV (text,type[,urgency,...])")
    p.add_argument("--out", required=True, type=Path, help="model directory to write")
    add_embedder_arguments(p)
    p.add_argument(
        "--target-precision",
        type=float,
        default=0.9,
        help="precision the confidence gate aims at per type (default 0.9)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--features",
        choices=("auto", *FEATURE_MODES),
        default="auto",
        help="head input: 'auto' (default) chooses per head by cross-validation among "
        "TF-IDF, embeddings, both and a grid of C; otherwise this one for both heads",
    )
    p.add_argument(
        "--c",
        type=float,
        default=HeadConfig.c,
        help="inverse regularisation (with a fixed --features)",
    )
    p.add_argument(
        "--unknown-rate",
        type=float,
        default=DEFAULT_RATE,
        help="share of held-out requests of known types that the unknown-type threshold "
        "sends to review (default %(default)s; 0 disables it)",
    )
    p.add_argument("--validation-fraction", type=float, default=0.2)
    p.add_argument(
        "--min-examples",
        type=int,
        default=DEFAULT_MIN_EXAMPLES,
        help="fewest rows per type/urgency label (default %(default)s)",
    )
    p.add_argument(
        "--no-refit",
        action="store_true",
        help="serve the heads fitted on the training split (no refit on all rows)",
    )
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--log-level", default="INFO")
    return p


def print_summary(manifest: dict[str, Any], out: Path) -> None:
    val = manifest["metrics"]["validation"]
    lines = [
        f"model {manifest['model_version']} written to {out}",
        f"  embedder: {manifest['embedder']['backend']} / {manifest['embedder']['name']}",
        f"  trained on {manifest['training']['rows']} rows; validation on {val['rows']} rows",
    ]
    for head in ("type", "urgency"):
        if head in val:
            block = val[head]
            lines.append(
                f"  {head:8s} accuracy {block['accuracy']:.3f}  "
                f"macro-F1 {block['macro_f1']:.3f}  ECE {block['ece']:.3f}"
            )
    for lang, block in val.get("per_language", {}).items():
        lines.append(
            f"  [{lang}] type accuracy {block['accuracy']:.3f} "
            f"macro-F1 {block['macro_f1']:.3f} ({block['rows']} rows)"
        )
    for head, block in (manifest.get("selection") or {}).get("heads", {}).items():
        best = block["table"][0]
        lines.append(
            f"  {head:8s} recipe {block['best']} (cross-validated macro-F1 "
            f"{best['macro_f1']:.3f} ± {best['std']:.3f}; TF-IDF alone: {block['baseline']})"
        )
    gate = manifest["gate"]
    unknown = gate.get("unknown")
    if unknown:
        lines.append(
            f"  unknown type below top probability {unknown['threshold']:.3f}"
            + (f" or labelled {', '.join(unknown['labels'])}" if unknown["labels"] else "")
        )
    lines.append(
        f"  gate @ precision {gate['target_precision']:.2f}: review rate "
        f"{gate['validation']['review_rate']:.1%}, accuracy of accepted "
        f"{gate['validation']['accepted_accuracy']:.3f}, margin {gate['margin']:.2f}"
    )
    print("\n".join(lines))


def run(args: argparse.Namespace, models_dir: Path) -> dict[str, Any]:
    cases = load_cases(args.data, min_examples=args.min_examples)
    embedder = load_embedder(args.embedder, args.embedder_path, models_dir=models_dir)
    select = args.features == "auto"
    mode = FeatureConfig.mode if select else args.features
    config = ModelConfig(FeatureConfig(mode=mode), HeadConfig(c=args.c))
    options = TrainOptions(
        config=config,
        select=select,
        unknown_rate=args.unknown_rate,
        target_precision=args.target_precision,
        validation_fraction=args.validation_fraction,
        seed=args.seed,
        refit_full=not args.no_refit,
        batch_size=args.batch_size,
        show_progress=not args.no_progress,
    )
    return train_into(cases, embedder, args.out, options)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_cli_logging(args.log_level)
    if not 0.0 < args.target_precision < 1.0:
        print("triage train: --target-precision must be between 0 and 1", file=sys.stderr)
        return 2
    if not 0.0 <= args.unknown_rate < 0.5:
        print("triage train: --unknown-rate must be at least 0 and below 0.5", file=sys.stderr)
        return 2
    models_dir = ModelPaths().models_dir
    return run_reporting(
        "triage train",
        lambda: run(args, models_dir),
        lambda manifest: print_summary(manifest, args.out),
    )
