"""``make eval-benchmarks``: train and evaluate on real labelled data, one run.

For each dataset in ``../shared/datasets`` (Banking77, CLINC150, tickets v4/v5)
it trains the production heads (calibrated, class-balanced logistic regression)
on TF-IDF alone (the baseline), on each embedder alone, and on TF-IDF +
embeddings, scores them on a held-out split, measures each embedder's speed
and peak memory in its own process, and writes the tables into
``docs/benchmarks.md``. The tickets data is CC BY-NC: evaluation only, nothing
trained here is saved.
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

from services.classifier.model.features import FeatureConfig, ModelConfig
from services.classifier.training import metrics as met
from services.classifier.training.data import CaseSet, load_cases
from services.classifier.training.trainer import fit_heads, mask_texts, stratified_split

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
DEFAULT_EMBEDDERS = ("use-multilingual", "sentence-transformers", "sentence-transformers-onnx")


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


def embed_with(backend: str, datasets: Path, files: list[str], cache: Path) -> dict[str, Any]:
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


def _subset(cases: CaseSet, rows: np.ndarray) -> CaseSet:
    def pick(values: list[str] | None) -> list[str] | None:
        return None if values is None else [values[i] for i in rows]

    return CaseSet(
        cases.source,
        cases.sha256,
        [cases.ids[i] for i in rows],
        [cases.texts[i] for i in rows],
        [cases.types[i] for i in rows],
        pick(cases.urgencies),
        pick(cases.languages),
    )


def make_split(task: Task, datasets: Path, seed: int) -> Split:
    train = load_cases(datasets / task.train_file, min_examples=None)
    if task.test_file is None:
        tr, te = stratified_split(train.types, 0.2, seed)
        test = _subset(train, te)
        train = _subset(train, tr)
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
        block = met.head_metrics(truth, proba, [str(c) for c in head.classes_])
        out[target] = {k: block[k] for k in ("accuracy", "macro_f1", "ece")}
    return out


def run_task(
    task: Task, datasets: Path, embedded: list[dict[str, Any]], seed: int
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
    for emb in embedded:
        if "error" not in emb:
            vectors = _vectors(emb, task, split)
            variants += [
                (f"{emb['backend']}", "embedding", vectors),
                (f"tfidf+{emb['backend']}", "concat", vectors),
            ]
    for name, mode, vectors in variants:
        log.info("%s: fitting %s", task.name, name)
        result["variants"][name] = score_variant(task, split, mode, vectors, seed)
    return result


def run(
    datasets: Path, backends: list[str], cache: Path, seed: int, tasks: tuple[Task, ...] = TASKS
) -> dict[str, Any]:
    present = tuple(t for t in tasks if (datasets / t.train_file).is_file())
    files = _files(present)
    embedded = [embed_with(b, datasets, files, cache / "embeddings") for b in backends]
    results: dict[str, Any] = {
        "datasets": str(datasets),
        "seed": seed,
        "embedders": embedded,
        "tasks": {},
    }
    for task in present:
        results["tasks"][task.name] = run_task(task, datasets, embedded, seed)
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
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if not args.datasets.is_dir():
        print(f"eval-benchmarks: {args.datasets} not found; nothing to do", file=sys.stderr)
        return 0
    cache = ModelPaths().cache_dir
    results = run(args.datasets, [b for b in args.embedders.split(",") if b], cache, args.seed)
    results["machine"] = bench_report.machine_info()
    out_json = args.json or cache / "benchmarks" / "classifier.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=2) + "\n")
    bench_report.update_docs(args.docs, bench_report.render(results))
    print(bench_report.render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
