"""``make bench-finetune``: does SetFit-style fine-tuning of e5-small beat frozen e5?

Issue 18, item 4: fine-tune the float e5-small on contrastive pairs drawn from
the training rows (CosineSimilarityLoss, one epoch, lr 2e-5, batch 16: SetFit's
recipe written as a plain torch loop, since setfit/datasets/accelerate are not
dependencies), then fit the production heads (``fit_heads``, default
``ModelConfig``) on the tuned embeddings, and compare with the same heads on
the frozen embeddings:

* the demo corpus, one language held out (train on two, score the third);
* Banking77, the stratified 80/20 split of ``benchmarks/models/run.py``
  (fine-tuning sees the 80% only).

Everything but the 250k x 384 word-embedding table (96M of the 118M weights) is
trained: AdamW state for that table would triple the memory and the step time on
2 cores, for rows of a vocabulary the training texts mostly never use. Run it
with ``nice``: it holds both cores for a long time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.models.finetune_loop import Recipe, encode, fine_tune, load_model
from benchmarks.models.finetune_pairs import (
    decide,
    language_folds,
    per_class,
    quiet_seconds,
    sample_pairs,
)
from services.classifier.model.features import FeatureConfig, ModelConfig
from services.classifier.training import metrics as met
from services.classifier.training.data import concat_cases, load_cases
from services.classifier.training.default_model import CORPUS_DIR, corpus_files
from services.classifier.training.trainer import fit_heads, mask_texts, stratified_split

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
Floats = npt.NDArray[np.float32]
MODES = ("concat", "embedding")  # the production default first; embeddings alone isolate them


def encode_rows(model: Any, texts: list[str], rows: npt.NDArray[np.intp]) -> Floats:
    """Vectors of ``rows`` at their index (zeros elsewhere): a sampled split costs its size."""
    vectors = encode(model, [texts[i] for i in rows])
    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
    out[rows] = vectors
    return out


@dataclass
class Rows:
    texts: list[str]  # PII-masked, as training sees them
    types: list[str]
    urgencies: list[str] | None


def _take(values: list[str] | None, rows: npt.NDArray[np.intp]) -> list[str] | None:
    return None if values is None else [values[i] for i in rows]


def score_heads(
    data: Rows, emb: Floats, train: npt.NDArray[np.intp], test: npt.NDArray[np.intp], seed: int
) -> dict[str, Any]:
    """Production heads fitted on ``train`` rows, scored on ``test`` rows, per feature mode."""
    tr_texts, te_texts = [data.texts[i] for i in train], [data.texts[i] for i in test]
    tr_types = [data.types[i] for i in train]
    out: dict[str, Any] = {}
    for mode in MODES:
        config = ModelConfig(features=FeatureConfig(mode=mode))  # type: ignore[arg-type]
        urgencies = _take(data.urgencies, train)
        heads = fit_heads(config, tr_texts, emb[train], tr_types, urgencies, seed)
        type_p, urgency_p = heads.predict_proba(te_texts, emb[test])
        block: dict[str, Any] = {}
        for target, proba, head, truth in (
            ("type", type_p, heads.type_head, _take(data.types, test)),
            ("urgency", urgency_p, heads.urgency_head, _take(data.urgencies, test)),
        ):
            if proba is None or head is None or truth is None:
                continue
            metrics = met.head_metrics(truth, proba, [str(c) for c in head.classes_])
            block[target] = {k: metrics[k] for k in ("accuracy", "macro_f1")}
        out[mode] = block
    return out


def run_fold(
    folder: Path,
    data: Rows,
    frozen: Floats,
    split: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]],
    recipe: Recipe,
    threads: int,
) -> dict[str, Any]:
    """Frozen vs tuned heads on one split; the model is reloaded so each fold starts fresh."""
    train, test = split
    pairs = sample_pairs(
        [data.types[i] for i in train], recipe.pairs_per_row, recipe.seed, recipe.max_pairs
    )
    train_texts = [data.texts[i] for i in train]
    model = load_model(folder, threads, recipe.encode_max_tokens)
    load_before = os.getloadavg()[0]
    training = fine_tune(model, train_texts, pairs, recipe)  # pairs index train_texts
    training["load_average_1m_before"] = load_before
    training["load_average_1m_after"] = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    tuned = encode_rows(model, data.texts, np.union1d(train, test))
    training["encode_s"] = time.perf_counter() - start
    training["encode_cpu_s"] = time.process_time() - cpu_start
    return {
        "train_rows": len(train),
        "test_rows": len(test),
        "training": training,
        "frozen": score_heads(data, frozen, train, test, recipe.seed),
        "tuned": score_heads(data, tuned, train, test, recipe.seed),
    }


def _mean_block(folds: list[dict[str, Any]], side: str) -> dict[str, Any]:
    """Per mode and target, the mean of each metric over the folds."""
    out: dict[str, Any] = {}
    for mode, block in folds[0][side].items():
        out[mode] = {
            target: {k: float(np.mean([f[side][mode][target][k] for f in folds])) for k in metrics}
            for target, metrics in block.items()
        }
    return out


def demo_task(
    folder: Path, recipe: Recipe, threads: int, frozen_model: Any, held_out: set[str] | None
) -> dict[str, Any]:
    cases = concat_cases([load_cases(f, min_examples=None) for f in corpus_files(CORPUS_DIR)])
    data = Rows(mask_texts(cases.texts), cases.types, cases.urgencies)
    frozen = encode(frozen_model, data.texts)
    folds: dict[str, Any] = {}
    for language, train, test in language_folds(cases.languages or []):
        if held_out is not None and language not in held_out:
            continue  # a partial run (--languages): the docs say which folds ran
        log.info("demo corpus: %s held out (%d train rows)", language, len(train))
        folds[language] = run_fold(folder, data, frozen, (train, test), recipe, threads)
    listed = list(folds.values())
    return {
        "recipe": asdict(recipe),
        "folds": folds,
        "frozen": _mean_block(listed, "frozen"),
        "tuned": _mean_block(listed, "tuned"),
        "train_s": float(np.mean([f["training"]["train_s"] for f in listed])),
        "train_cpu_s": float(np.mean([f["training"]["train_cpu_s"] for f in listed])),
    }


def banking_task(
    datasets: Path,
    folder: Path,
    recipe: Recipe,
    threads: int,
    frozen_model: Any,
    per_class_n: tuple[int | None, int | None] = (None, None),
) -> dict[str, Any]:
    cases = load_cases(datasets / "banking77_train.csv", min_examples=None)
    data = Rows(mask_texts(cases.texts), cases.types, None)
    train, test = stratified_split(cases.types, 0.2, recipe.seed)  # as benchmarks/models/run.py
    # --banking-per-class: a smaller, still stratified, sample of each side (loaded machine).
    split = (
        per_class(cases.types, train, per_class_n[0], recipe.seed),
        per_class(cases.types, test, per_class_n[1], recipe.seed),
    )
    frozen = encode_rows(frozen_model, data.texts, np.union1d(*split))
    fold = run_fold(folder, data, frozen, split, recipe, threads)
    return {
        "recipe": asdict(recipe),
        "full_train_rows": len(train),  # before --banking-train-per-class
        "folds": {"80/20": fold},
        "frozen": fold["frozen"],
        "tuned": fold["tuned"],
        "train_s": fold["training"]["train_s"],
        "train_cpu_s": fold["training"]["train_cpu_s"],
    }


def verdict(results: dict[str, Any], max_seconds: float) -> dict[str, Any]:
    """Decide on type accuracy with the production (concat) heads, and on the training
    time an idle machine would take (the shared machine's wall clock is not that)."""
    tasks, threads = results["tasks"], results["machine"]["threads"]

    def score(side: str) -> dict[str, float]:
        return {n: t[side]["concat"]["type"]["accuracy"] for n, t in tasks.items()}

    seconds = {n: quiet_seconds(t["train_cpu_s"], threads) for n, t in tasks.items()}
    return asdict(decide(score("frozen"), score("tuned"), seconds, max_seconds=max_seconds))


def run(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.models.report import machine_info
    from services.classifier.embedding.sentence_transformer import force_offline

    force_offline()
    frozen_model = load_model(args.model, args.threads, args.encode_max_tokens)
    tasks: dict[str, Any] = {}
    for name in args.tasks.split(","):
        recipe = Recipe(
            pairs_per_row=args.pairs_per_row,
            max_pairs=args.max_pairs_demo if name == "demo" else args.max_pairs_banking,
            encode_max_tokens=args.encode_max_tokens,
            seed=args.seed,
        )
        if name == "demo":
            held_out = set(args.languages.split(",")) if args.languages else None
            tasks[name] = demo_task(args.model, recipe, args.threads, frozen_model, held_out)
        elif name == "banking77":
            sizes = (args.banking_train_per_class, args.banking_test_per_class)
            tasks[name] = banking_task(
                args.datasets, args.model, recipe, args.threads, frozen_model, sizes
            )
        else:
            raise SystemExit(f"bench-finetune: unknown task {name!r} (demo, banking77)")
    max_train_s = 60 * args.max_train_minutes
    results = {
        "machine": {**machine_info(), "threads": args.threads},
        "tasks": tasks,
        "max_train_s": max_train_s,
    }
    results["verdict"] = verdict(results, max_train_s)
    return results


def build_parser() -> argparse.ArgumentParser:
    from services.classifier.settings import ModelPaths

    cache = ModelPaths().cache_dir
    p = argparse.ArgumentParser(prog="bench-finetune", description=__doc__)
    p.add_argument("--model", type=Path, default=cache / "models" / "multilingual-e5-small-st")
    p.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--tasks", default="demo,banking77")
    p.add_argument("--pairs-per-row", type=int, default=20, help="SetFit's default budget")
    p.add_argument("--max-pairs-demo", type=int, default=None, help="cap per fold")
    p.add_argument("--max-pairs-banking", type=int, default=None, help="cap on Banking77")
    p.add_argument("--languages", default=None, help="held-out languages to run (default all)")
    p.add_argument(
        "--encode-max-tokens",
        type=int,
        default=None,
        help="cut texts when encoding, frozen and tuned alike (default: the model's 512)",
    )
    p.add_argument("--banking-train-per-class", type=int, default=None, help="sample")
    p.add_argument("--banking-test-per-class", type=int, default=None, help="sample")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument(
        "--max-train-minutes",
        type=float,
        default=60,
        help="longest fine-tuning an administration is assumed to afford (per benchmark)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--json", type=Path, default=cache / "benchmarks" / "finetune.json")
    p.add_argument(
        "--render",
        type=Path,
        nargs="+",
        default=None,
        help="no training: merge these results JSON files (e.g. one per task), decide, write docs",
    )
    return p


def merge(paths: list[Path], max_train_s: float) -> dict[str, Any]:
    """Several partial runs as one result (the machine of the first), re-decided."""
    runs = [json.loads(p.read_text()) for p in paths]
    results = {**runs[0], "tasks": {k: v for r in runs for k, v in r["tasks"].items()}}
    results["max_train_s"] = max_train_s
    results["verdict"] = verdict(results, max_train_s)
    return results


def main(argv: list[str] | None = None) -> int:
    from benchmarks.e2e.report import update_docs
    from benchmarks.models.finetune_report import SECTION, markdown

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    results = merge(args.render, 60 * args.max_train_minutes) if args.render else run(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    section = markdown(results)
    update_docs(args.docs, section, SECTION)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
