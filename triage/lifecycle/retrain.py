"""``triage retrain --since DATE``: a candidate model from the base training set plus
every human label (corrections and confirmations) since DATE.

The most recent human labels are held out (``TRIAGE_RETRAIN_HOLDOUT_FRACTION``):
the candidate never trains on them, and the candidate and the active model are
both scored on them. The candidate is written to the model store (an immutable
folder named by its version), its report (metrics JSON and plots of both models)
to ``reports/<version>/``, and it is registered as a candidate. Promotion stays
a separate, human decision: ``triage promote VERSION``.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.classifier.model.features import ModelConfig
from services.classifier.model.predictor import TriageModel
from services.classifier.model.store import report_dir, version_dir
from services.classifier.training.data import CaseSet, concat_cases, load_cases
from services.classifier.training.default_model import CORPUS_DIR, corpus_files
from services.classifier.training.trainer import TrainOptions, train_model
from triage.lifecycle import common
from triage.lifecycle.evaluation import Embedders, compare, write_comparison
from triage.lifecycle.gate import decide
from triage.lifecycle.labels import case_set, fetch_labels, split_holdout
from triage.lifecycle.registry import Registry
from triage.lifecycle.settings import LifecycleSettings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="triage retrain", description=__doc__.split("\n\n")[0])
    since = p.add_mutually_exclusive_group(required=True)
    since.add_argument("--since", type=common.day, help="labels since this date (YYYY-MM-DD)")
    since.add_argument("--days", type=int, help="labels of the last DAYS days (for schedules)")
    p.add_argument(
        "--base",
        type=Path,
        action="append",
        help="base training cases CSV (repeatable; default: the demo corpus files)",
    )
    p.add_argument("--holdout-fraction", type=float, help="default: the setting")
    p.add_argument("--embedder-path", help="embedder folder (default: the active model's)")
    common.add_actor(p)
    return p


def recipe(active: TriageModel | None, notes: dict[str, Any]) -> TrainOptions:
    """The active model's recipe (features, head, gate precision, refit): the candidate
    differs by its data only, so the comparison says what the new labels changed."""
    if active is None:
        return TrainOptions(show_progress=False, notes=notes)
    training = active.manifest.get("training", {})
    return TrainOptions(
        config=ModelConfig.from_dict(active.manifest["config"]),
        target_precision=float(active.manifest["gate"]["target_precision"]),
        validation_fraction=float(training.get("validation_fraction", 0.2)),
        refit_full=bool(training.get("refit_full", True)),
        show_progress=False,
        notes=notes,
    )


def train_candidate(cases: CaseSet, embedders: Embedders, active: TriageModel | None,
                    store: Path, notes: dict[str, Any]) -> TriageModel:  # fmt: skip
    """Train into a temporary folder of the store, then move it to its version's name."""
    embedder = active.embedder if active else embedders.default()
    incoming = store / ".incoming"
    shutil.rmtree(incoming, ignore_errors=True)
    options = recipe(active, notes)
    manifest = train_model(cases, embedder, incoming, options)
    target = version_dir(store, manifest["model_version"])
    if target.exists():  # the same model was trained before: keep the first, untouched
        shutil.rmtree(incoming)
    else:
        incoming.rename(target)
    return TriageModel.load(target, embedder)


async def retrain(args: argparse.Namespace, settings: LifecycleSettings, reg: Registry) -> int:
    fraction = args.holdout_fraction or settings.retrain_holdout_fraction
    labels = await fetch_labels(reg.conn, reg.q.human_labels, args.since)
    train_labels, held = split_holdout(labels, fraction)
    bases = args.base or corpus_files(CORPUS_DIR)
    parts = [concat_cases([load_cases(p) for p in bases])]
    if train_labels:
        parts.append(case_set(train_labels, "human-labels"))
    cases = concat_cases(parts)
    embedders = Embedders(settings.models_dir, args.embedder_path)
    active_row = await reg.active()
    active = embedders.load_model(Path(active_row["artifact"])) if active_row else None
    notes = {"labels_since": args.since.date().isoformat(), "base": [p.name for p in bases],
             "human_labels": len(train_labels), "held_out": len(held)}  # fmt: skip
    candidate = train_candidate(cases, embedders, active, reg.store, notes)
    report = report_dir(reg.store, candidate.model_version)
    holdout = compare(candidate, active, case_set(held, "held-out") if held else None, report)
    decision = decide(
        holdout, active.model_version if active else None, common.margins_of(settings)
    )
    write_comparison(report, holdout, decision)
    metrics = {"validation": candidate.manifest["metrics"]["validation"], "holdout": holdout}
    await reg.register(candidate.manifest, candidate.model_dir, metrics, report,
                       common.actor_of(args.by))  # fmt: skip
    _print(candidate, cases, len(train_labels), holdout, decision.describe(), report)
    return 0


def _print(candidate: TriageModel, cases: CaseSet, n_labels: int, holdout: dict[str, Any],
           gate: str, report: Path) -> None:  # fmt: skip
    print(f"candidate {candidate.model_version} registered ({candidate.model_dir})")
    print(f"  trained on {len(cases)} cases, {n_labels} of them human labels")
    print(f"  held out {holdout['rows']} recent human labels; active: {holdout['active_version']}")
    if gate:
        print("  " + gate.replace("\n", "\n  "))
    print(f"  report: {report}")
    print(f"promote it with: triage promote {candidate.model_version}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.since is None:
        args.since = datetime.now(UTC) - timedelta(days=args.days)
    settings = common.load_settings()

    async def action() -> int:
        return await common.with_registry(settings, lambda reg: retrain(args, settings, reg))

    return common.run("triage retrain", action)
