"""``make bench-related``: duplicate detection quality and lookup time of related cases.

1. Pairs (``pairs.py``) are masked as the classifier masks, embedded with the
   serving embedder (the demo model's), and scored by cosine; precision and
   recall are swept over thresholds and the threshold is chosen (``choose``).
2. The demo corpus against itself: how many other requests of the corpus a
   request finds above the threshold (false suggestions in a queue of ~2,500
   different requests).
3. Lookup time of ``VectorIndex.search`` with 10,000 to 200,000 open items.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.e2e.report import update_docs
from benchmarks.machine import cpu_name
from benchmarks.related.pairs import CORPUS, Pair, build, read_csv
from benchmarks.related.report import SECTION, markdown
from services.router.related_index import VectorIndex
from shared.pii import mask

log = logging.getLogger("bench-related")
THRESHOLDS = [round(0.80 + 0.005 * i, 3) for i in range(40)]
MIN_PRECISION = 0.95
SIZES = (10_000, 50_000, 100_000)
DIM = 384
CACHE = Path(".cache/bench-related")  # the checkout's cache folder (git-ignored)


def embed(texts: list[str]) -> tuple[dict[str, npt.NDArray[np.float32]], str, float]:
    """Unit vectors of the masked texts with the demo model's embedder; texts per second."""
    from services.classifier.model.loading import load_model
    from services.classifier.model.paths import default_model_dir
    from services.classifier.settings import ModelPaths

    models_dir = ModelPaths().models_dir  # type: ignore[call-arg]
    model = load_model(
        default_model_dir(models_dir), models_dir=models_dir, embedder_path=None, threads=None
    )
    masked = [mask(t) for t in texts]
    spec = model.embedder_spec
    cache = _cache_file(CACHE, masked, spec.weights_sha256)
    start = time.perf_counter()
    if cache.exists():  # a rerun re-measures lookups, not the slow embedding
        vectors, rate = np.load(cache), float("nan")
    else:
        vectors = np.asarray(model.embedder.encode(masked, batch_size=32), dtype=np.float32)
        rate = len(texts) / (time.perf_counter() - start)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return dict(zip(texts, vectors, strict=True)), f"{spec.backend} {spec.name}", rate


def _cache_file(cache_dir: Path, texts: list[str], weights: str) -> Path:
    digest = hashlib.sha256(weights.encode())
    for text in texts:
        digest.update(text.encode() + b"\0")
    return cache_dir / f"embeddings-{digest.hexdigest()[:16]}.npy"


def sweep(scores: npt.NDArray[np.float64], truth: npt.NDArray[np.bool_]) -> list[dict[str, float]]:
    rows = []
    for t in THRESHOLDS:
        found = scores >= t
        tp = int((found & truth).sum())
        fp = int((found & ~truth).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        rows.append({"threshold": t, "precision": precision, "recall": tp / int(truth.sum())})
    return rows


def choose(rows: list[dict[str, float]]) -> dict[str, float]:
    """The lowest threshold whose precision is at least MIN_PRECISION: the most duplicates
    found while at most 1 suggestion in 20 is wrong (agents check each suggestion)."""
    ok = [r for r in rows if r["precision"] >= MIN_PRECISION]
    return min(ok, key=lambda r: r["threshold"]) if ok else rows[-1]


def by_family(pairs: list[Pair], scores: npt.NDArray[np.float64], t: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for family in sorted({p.family for p in pairs}):
        idx = [i for i, p in enumerate(pairs) if p.family == family]
        s = scores[idx]
        share = float((s >= t).mean())
        out[family] = {
            "pairs": len(idx),
            "above": share,
            "median_cosine": float(np.median(s)),
            "p05_cosine": float(np.percentile(s, 5)),
            "p95_cosine": float(np.percentile(s, 95)),
        }
    return out


def corpus_false_suggestions(vectors: npt.NDArray[np.float32], t: float) -> dict[str, float]:
    """Each demo request against every other: suggestions above ``t`` per request."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    hits = (sims >= t).sum(axis=1)
    return {
        "requests": len(vectors),
        "mean_suggestions": float(hits.mean()),
        "share_with_any": float((hits > 0).mean()),
    }


def lookup_times(threshold: float, queries: int, seed: int = 0) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    out = []
    for size in SIZES:
        index = VectorIndex()
        vectors = rng.normal(size=(size, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        start = time.perf_counter()
        for v in vectors:
            index.add(uuid.uuid4(), "e5", now, v)
        build_s = time.perf_counter() - start
        probes = vectors[rng.integers(0, size, queries)]
        times, cpu = [], []
        for v in probes:
            t0, c0 = time.perf_counter(), time.thread_time()
            index.search(v, "e5", since=now - timedelta(days=30), threshold=threshold, limit=5)
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        times.sort()
        cpu.sort()
        out.append(
            {
                "items": size,
                "p50_ms": 1000 * statistics.median(times),
                "p99_ms": 1000 * times[int(0.99 * len(times)) - 1],
                "max_ms": 1000 * times[-1],
                # CPU time of the searching thread: what a search costs when it is not
                # waiting for a core (BLAS single-threaded: OPENBLAS_NUM_THREADS=1)
                "cpu_p50_ms": 1000 * statistics.median(cpu),
                "cpu_p99_ms": 1000 * cpu[int(0.99 * len(cpu)) - 1],
                "build_s": build_s,
                "memory_mb": size * DIM * 4 / 1e6,
            }
        )
        log.info("lookup at %d items: p99 %.1f ms", size, out[-1]["p99_ms"])
    return out


def run(datasets: Path | None, scale: float, queries: int, out: Path) -> dict[str, Any]:
    pairs = build(datasets, scale=scale)
    demo = [t.text for lang in ("en", "fr", "nl") for t in read_csv(CORPUS / f"demo_{lang}.csv")]
    texts = sorted({t for p in pairs for t in (p.a, p.b)} | set(demo))
    log.info("%d pairs, %d distinct texts to embed", len(pairs), len(texts))
    vectors, embedder, rate = embed(texts)
    scores = np.array([float(vectors[p.a] @ vectors[p.b]) for p in pairs])
    truth = np.array([p.duplicate for p in pairs])
    rows = sweep(scores, truth)
    chosen = choose(rows)
    t = chosen["threshold"]
    edits = [
        i for i, p in enumerate(pairs) if p.family in ("resubmission", "forwarded", "same_type")
    ]
    result = {
        "embedder": embedder,
        "embed_texts_per_s": rate,
        "pairs": len(pairs),
        "duplicates": int(truth.sum()),
        "min_precision": MIN_PRECISION,
        "chosen": chosen,
        "without_other_words": sweep(scores[edits], truth[edits])[THRESHOLDS.index(t)],
        "families": by_family(pairs, scores, t),
        "sweep": rows,
        "corpus": corpus_false_suggestions(np.stack([vectors[x] for x in demo]), t),
        "datasets": datasets is not None,
        "machine": f"{cpu_name('unknown CPU')}, 2 cores shared with other jobs",
    }
    out.write_text(json.dumps(result, indent=2) + "\n")  # the slow part is saved already
    result["lookup"] = lookup_times(t, queries)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-related", description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the pairs")
    parser.add_argument("--queries", type=int, default=1000, help="lookups per index size")
    parser.add_argument("--out", type=Path, default=Path("bench-related.json"))
    parser.add_argument("--docs", type=Path, default=None, help="update this markdown section")
    parser.add_argument("--from-json", type=Path, default=None, help="a saved run's results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench-related: %(message)s")
    if args.from_json is not None:  # only rewrite the docs section from a saved run
        result = json.loads(args.from_json.read_text())
    else:
        datasets = args.datasets if args.datasets.is_dir() else None
        result = run(datasets, args.scale, args.queries, args.out)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "sweep"}, indent=2))
    if args.docs is not None:
        update_docs(args.docs, markdown(result), SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
