"""``triage evaluate --model DIR --data test.csv [--json out.json] [--report dir/]``.

JSON keys are stable (other tools read them): ``type.accuracy``,
``type.macro_f1``, ``urgency.accuracy``, ``urgency.macro_f1`` (nested objects),
``per_language.<lang>.type|urgency``, ``gate`` and ``model``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from services.classifier.embedding.factory import ALL_BACKENDS, HASHING, load_embedder
from services.classifier.model.artifact import read_manifest
from services.classifier.model.gate import top_two
from services.classifier.model.ordinal import decide
from services.classifier.settings import ModelPaths
from services.classifier.training import metrics as met
from services.classifier.training import thresholds as thr
from services.classifier.training.cli_support import run_reporting, setup_cli_logging
from services.classifier.training.data import CaseSet, load_cases
from services.classifier.training.trainer import mask_texts


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="triage evaluate", description=__doc__)
    p.add_argument("--model", required=True, type=Path, help="model directory")
    p.add_argument("--data", required=True, type=Path, help="test CSV (same format as train)")
    p.add_argument("--json", type=Path, help="write the metrics as JSON to this file")
    p.add_argument("--report", type=Path, help="directory for PNG figures and curves")
    p.add_argument(
        "--embedder",
        choices=ALL_BACKENDS,
        default=None,
        help="embedding backend (default: the one recorded in the model)",
    )
    p.add_argument("--embedder-path", default=None, help="local folder of the embedder")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--log-level", default="WARNING")
    return p


def _gate_block(model: Any, proba: npt.NDArray[np.float64], y_true: list[str]) -> dict[str, Any]:
    top, confidence, margin = top_two(proba)
    predicted = np.asarray(model.type_labels)[top]
    correct = predicted == np.asarray(y_true)
    gate = model.manifest["gate"]
    summary = thr.gate_summary(
        predicted, confidence, margin, correct, gate["type_thresholds"], float(gate["margin"])
    )
    return {"target_precision": gate["target_precision"], **summary}


def _per_language(
    cases: CaseSet, type_pred: list[str], urgency_pred: list[str] | None
) -> dict[str, Any]:
    if cases.languages is None:
        return {}
    out: dict[str, Any] = {}
    for lang in sorted(set(cases.languages)):
        rows = [i for i, value in enumerate(cases.languages) if value == lang]
        block: dict[str, Any] = {"rows": len(rows)}
        block["type"] = met.summary([cases.types[i] for i in rows], [type_pred[i] for i in rows])
        if urgency_pred is not None and cases.urgencies is not None:
            block["urgency"] = met.summary(
                [cases.urgencies[i] for i in rows], [urgency_pred[i] for i in rows]
            )
        out[lang] = block
    return out


def evaluate(
    model: Any, cases: CaseSet, batch_size: int = 64, progress: bool = True
) -> dict[str, Any]:
    """All metrics of ``model`` on ``cases`` (texts are masked here first)."""
    scores = model.score(mask_texts(cases.texts), batch_size=batch_size, show_progress=progress)
    result: dict[str, Any] = {
        "model": {
            "model_version": model.model_version,
            "dir": str(model.model_dir),
            "embedder": model.manifest["embedder"],
        },
        "data": {"file": cases.source, "sha256": cases.sha256, "rows": len(cases)},
    }
    result["type"] = met.head_metrics(cases.types, scores.type_proba, model.type_labels)
    type_pred = [model.type_labels[i] for i in scores.type_proba.argmax(axis=1)]
    urgency_pred = None
    if cases.urgencies is not None and scores.urgency_proba is not None:
        # Decided as the model decides in service (argmax, or the ordinal median).
        decision = model.urgency_recipe.decision if model.urgency_recipe else "argmax"
        result["urgency"] = met.head_metrics(
            cases.urgencies, scores.urgency_proba, model.urgency_labels, decision
        )
        chosen = decide(scores.urgency_proba, model.urgency_labels, decision)
        urgency_pred = [model.urgency_labels[i] for i in chosen]
    result["per_language"] = _per_language(cases, type_pred, urgency_pred)
    result["gate"] = _gate_block(model, scores.type_proba, cases.types)
    return result


def write_report(result: dict[str, Any], report: Path) -> list[Path]:
    from services.classifier.training import plots

    report.mkdir(parents=True, exist_ok=True)
    written = []
    for head in ("type", "urgency"):
        if head not in result:
            continue
        block = result[head]
        figures = (
            (
                plots.confusion_png,
                f"{head}_confusion.png",
                f"{head}: confusion matrix (row-normalised)",
            ),
            (plots.reliability_png, f"{head}_reliability.png", f"{head}: reliability"),
            (plots.coverage_png, f"{head}_coverage.png", f"{head}: coverage vs accuracy"),
        )
        for draw, name, title in figures:
            draw(block, title, report / name)
            written.append(report / name)
        curve = report / f"{head}_coverage.json"
        curve.write_text(json.dumps(block["coverage_curve"], indent=2) + "\n")
        written.append(curve)
    (report / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    written.append(report / "metrics.json")
    return written


def print_summary(result: dict[str, Any]) -> None:
    print(
        f"model {result['model']['model_version']} on {result['data']['file']} "
        f"({result['data']['rows']} rows)"
    )
    for head in ("type", "urgency"):
        if head in result:
            b = result[head]
            print(
                f"  {head:8s} accuracy {b['accuracy']:.3f}  macro-F1 {b['macro_f1']:.3f}  "
                f"ECE {b['ece']:.3f}"
            )
    for lang, block in result["per_language"].items():
        print(
            f"  [{lang}] {block['rows']} rows, type accuracy {block['type']['accuracy']:.3f} "
            f"macro-F1 {block['type']['macro_f1']:.3f}"
        )
    g = result["gate"]
    print(
        f"  gate: review rate {g['review_rate']:.1%}, accuracy of accepted "
        f"{g['accepted_accuracy']:.3f} (target precision {g['target_precision']:.2f})"
    )


def run(args: argparse.Namespace, models_dir: Path) -> dict[str, Any]:
    from services.classifier.model.predictor import TriageModel

    manifest = read_manifest(args.model)
    backend = args.embedder or manifest["embedder"]["backend"]
    location = args.embedder_path
    if backend == HASHING and location is None:
        location = str(manifest["embedder"]["dim"])
    embedder = load_embedder(backend, location, models_dir=models_dir)
    model = TriageModel.load(args.model, embedder, manifest)
    cases = load_cases(args.data, min_examples=None)
    return evaluate(model, cases, args.batch_size, progress=not args.no_progress)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_cli_logging(args.log_level)
    models_dir = ModelPaths().models_dir
    return run_reporting(
        "triage evaluate", lambda: run(args, models_dir), lambda r: _write_outputs(args, r)
    )


def _write_outputs(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if args.report:
        write_report(result, args.report)
    print_summary(result)
