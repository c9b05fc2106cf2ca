"""``make eval-benchmarks``: train and evaluate on real labelled data, one run.

For each dataset in ``../shared/datasets`` (Banking77, CLINC150, tickets v4/v5)
it trains the production heads (calibrated, class-balanced logistic regression)
on TF-IDF alone (the baseline), on each embedder alone, and on TF-IDF +
embeddings, and the heads as ``triage train`` builds them (a recipe per head
chosen by cross-validation, the unknown-type rule: ``heads.py``); scores them on
a held-out split; measures each embedder's speed and peak memory in its own
process; compares the demo model's recipe before and now per language; and
writes the tables into ``docs/benchmarks.md``. By default only the served
embedder (int8 e5) runs; ``--embedders`` adds others. The tickets data is
CC BY-NC: evaluation only, nothing trained here is saved.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.models import heads as bh
from benchmarks.models.heads import subset
from services.classifier.model.features import FeatureConfig, ModelConfig
from services.classifier.model.gate import UnknownRule
from services.classifier.training.data import CaseSet, concat_cases, load_cases
from services.classifier.training.default_model import CORPUS_DIR, corpus_files
from services.classifier.training.trainer import fit_heads, mask_texts, stratified_split
from services.classifier.training.unknown import unknown_labels

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
DEFAULT_EMBEDDERS = ("sentence-transformers-onnx",)  # the served one; others: --embedders


@dataclass(frozen=True)
class Task:
    name: str
    train_file: str
    test_file: str | None  # None: stratified 80/20 split of train_file
    targets: tuple[str, ...]


TASKS = (
    Task("banking77", "banking77_train.csv", None, ("type",)),
    Task("clinc150", "clinc150_train.csv", "clinc150_val.csv", ("type",)),
    Task("tickets_v4", "tickets_v4.csv", None, ("type", "urgency")),
    Task("tickets_v5", "tickets_v5.csv", None, ("type", "urgency")),
)


def _files(tasks: tuple[Task, ...]) -> list[str]:
    names = [f for t in tasks for f in (t.train_file, t.test_file) if f]
    return list(dict.fromkeys(names))


def embed_with(
    backend: str, datasets: Path, files: list[str], cache: Path, speed: bool = True
) -> dict[str, Any]:
    """Run bench_embed for ``backend`` in a child process; its result or an error."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.models.embed",
            "--backend",
            backend,
            "--datasets",
            str(datasets),
            "--files",
            ",".join(files),
            "--cache",
            str(cache),
            "--result",
            str(result),
            *([] if speed else ["--no-speed"]),
        ]
        log.info("embedding %d files with %s (child process)", len(files), backend)
        proc = subprocess.run(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0 or not result.is_file():
            tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
            log.warning("embedder %s unavailable: %s", backend, tail[0])
            return {"backend": backend, "error": tail[0]}
        data: dict[str, Any] = json.loads(result.read_text())
        return data


@dataclass
class Split:
    train: CaseSet
    train_texts: list[str]
    test: CaseSet
    test_texts: list[str]
    train_rows: np.ndarray
    test_rows: np.ndarray
    same_file: bool


def make_split(task: Task, datasets: Path, seed: int) -> Split:
    train = load_cases(datasets / task.train_file, min_examples=None)
    if task.test_file is None:
        tr, te = stratified_split(train.types, 0.2, seed)
        test = subset(train, te)
        train = subset(train, tr)
        texts = mask_texts(train.texts), mask_texts(test.texts)
        return Split(train, texts[0], test, texts[1], tr, te, True)
    test = load_cases(datasets / task.test_file, min_examples=None)
    rows_tr, rows_te = np.arange(len(train)), np.arange(len(test))
    return Split(
        train, mask_texts(train.texts), test, mask_texts(test.texts), rows_tr, rows_te, False
    )


def _vectors(embedded: dict[str, Any], task: Task, split: Split) -> tuple[np.ndarray, np.ndarray]:
    files = embedded["files"]
    train_all = np.load(files[task.train_file]["path"])
    if split.same_file:
        return train_all[split.train_rows], train_all[split.test_rows]
    assert task.test_file is not None
    return train_all, np.load(files[task.test_file]["path"])


def score_variant(
    task: Task, split: Split, mode: str, vectors: tuple[np.ndarray, np.ndarray], seed: int
) -> dict[str, Any]:
    config = ModelConfig(features=FeatureConfig(mode=mode))  # type: ignore[arg-type]
    urgencies = split.train.urgencies if "urgency" in task.targets else None
    start = time.perf_counter()
    heads = fit_heads(config, split.train_texts, vectors[0], split.train.types, urgencies, seed)
    fit_s = time.perf_counter() - start
    type_p, urgency_p = heads.predict_proba(split.test_texts, vectors[1])
    out: dict[str, Any] = {"fit_s": fit_s}
    for target, proba, head in (
        ("type", type_p, heads.type_head),
        ("urgency", urgency_p, heads.urgency_head),
    ):
        truth = split.test.types if target == "type" else split.test.urgencies
        if proba is None or truth is None or head is None:
            continue
        classes = [str(c) for c in head.classes_]
        out[target] = bh.head_block(truth, proba, classes, "argmax")
        if target == "type" and unknown_labels(classes):
            rule = UnknownRule(0.0, unknown_labels(classes))
            out["unknown"] = bh.unknown_scores(truth, proba, classes, rule)
    return out


def run_task(
    task: Task,
    datasets: Path,
    embedded: list[dict[str, Any]],
    seed: int,
    select_rows: int,
    baseline_only: bool = False,
) -> dict[str, Any]:
    split = make_split(task, datasets, seed)
    result: dict[str, Any] = {
        "train_rows": len(split.train),
        "test_rows": len(split.test),
        "labels": {
            "type": len(set(split.train.types)),
            "urgency": len(set(split.train.urgencies or [])),
        },
        "targets": list(task.targets),
        "variants": {},
    }
    none = (np.zeros((len(split.train), 1), np.float32), np.zeros((len(split.test), 1), np.float32))
    variants: list[tuple[str, str, tuple[np.ndarray, np.ndarray]]] = [("tfidf", "tfidf", none)]
    for emb in embedded if not baseline_only else []:
        if "error" not in emb:
            vectors = _vectors(emb, task, split)
            variants += [
                (f"{emb['backend']}", "embedding", vectors),
                (f"tfidf+{emb['backend']}", "concat", vectors),
            ]
    for name, mode, vectors in variants:
        log.info("%s: fitting %s", task.name, name)
        result["variants"][name] = score_variant(task, split, mode, vectors, seed)
    served = next((e for e in embedded if "error" not in e), None)
    if served is not None:
        log.info("%s: choosing recipes per head (%s)", task.name, served["backend"])
        chosen = bh.score_chosen(split, _vectors(served, task, split), seed, select_rows)
        result["chosen"] = {"embedder": served["backend"], **chosen}
    return result


def run_demo(
    backend: str, cache: Path, seed: int, corpus: Path = CORPUS_DIR, speed: bool = True
) -> dict[str, Any]:
    """The demo corpus: the default model's recipe before and now (``heads.demo_corpus``)."""
    files = [f.name for f in corpus_files(corpus)]
    embedded = embed_with(backend, corpus, files, cache / "embeddings", speed)
    if "error" in embedded:
        return {"error": embedded["error"]}
    cases = concat_cases([load_cases(corpus / f, min_examples=None) for f in files])
    emb = np.concatenate([np.load(embedded["files"][f]["path"]) for f in files])
    return {"embedder": backend, **bh.demo_corpus(cases, mask_texts(cases.texts), emb, seed)}


def run(
    datasets: Path,
    backends: list[str],
    cache: Path,
    seed: int,
    tasks: tuple[Task, ...] = TASKS,
    select_rows: int = 3000,
    corpus: Path | None = CORPUS_DIR,
    baseline_only: bool = False,
    speed: bool = True,
) -> dict[str, Any]:
    present = tuple(t for t in tasks if (datasets / t.train_file).is_file())
    files = _files(present)
    embedded = [embed_with(b, datasets, files, cache / "embeddings", speed) for b in backends]
    results: dict[str, Any] = {
        "datasets": str(datasets),
        "seed": seed,
        "embedders": embedded,
        "tasks": {},
    }
    for task in present:
        results["tasks"][task.name] = run_task(
            task, datasets, embedded, seed, select_rows, baseline_only
        )
    served = next((e for e in embedded if "error" not in e), None)
    if served is not None and corpus is not None:
        results["demo"] = run_demo(served["backend"], cache, seed, corpus, speed)
    return results


def main(argv: list[str] | None = None) -> int:
    from benchmarks.models import report as bench_report
    from services.classifier.settings import ModelPaths

    p = argparse.ArgumentParser(prog="eval-benchmarks", description=__doc__)
    p.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument(
        "--embedders",
        default=",".join(DEFAULT_EMBEDDERS),
        help="comma-separated backends (sentence-transformers, use-multilingual, hashing)",
    )
    p.add_argument("--docs", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--json", type=Path, default=None, help="results JSON (default under cache)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--select-rows",
        type=int,
        default=3000,
        help="rows the per-head recipe choice cross-validates on (as triage train)",
    )
    p.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="the demo corpus folder")
    p.add_argument("--no-demo", action="store_true", help="skip the demo corpus")
    p.add_argument("--no-speed", action="store_true", help="do not time the embedders")
    p.add_argument(
        "--baseline-only",
        action="store_true",
        help="of the fixed recipes, fit TF-IDF alone only (not each embedder alone or + TF-IDF)",
    )
    p.add_argument(
        "--tasks",
        default=",".join(t.name for t in TASKS),
        help="comma-separated datasets to run (default: all)",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if not args.datasets.is_dir():
        print(f"eval-benchmarks: {args.datasets} not found; nothing to do", file=sys.stderr)
        return 0
    cache = ModelPaths().cache_dir
    backends = [b for b in args.embedders.split(",") if b]
    tasks = tuple(t for t in TASKS if t.name in args.tasks.split(","))
    results = run(
        args.datasets,
        backends,
        cache,
        args.seed,
        tasks,
        args.select_rows,
        None if args.no_demo else args.corpus,
        args.baseline_only,
        not args.no_speed,
    )
    results["machine"] = bench_report.machine_info()
    out_json = args.json or cache / "benchmarks" / "classifier.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=2) + "\n")
    bench_report.update_docs(args.docs, bench_report.render(results))
    print(bench_report.render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
