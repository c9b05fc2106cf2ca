"""Child process of the benchmarks: embed datasets with ONE embedder, measure it.

Running each embedder in its own process gives honest numbers: peak RSS is the
process's own high-water mark (model + inference), not the sum of every
backend loaded so far. Embeddings are cached on disk, keyed by the masked texts
and the embedder checksum, so a rerun only measures speed again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from services.classifier.embedding.base import Embedder, EmbedderSpec
from services.classifier.embedding.factory import load_embedder
from services.classifier.settings import ModelPaths
from services.classifier.training.data import load_cases
from services.classifier.training.trainer import mask_texts

log = logging.getLogger(__name__)
PROBE_TEXTS = 512
SINGLE_TEXTS = 20


def cache_path(cache: Path, file_stem: str, texts: list[str], spec: EmbedderSpec) -> Path:
    digest = hashlib.sha256()
    digest.update(json.dumps(spec.to_dict(), sort_keys=True).encode())
    for text in texts:
        digest.update(text.encode() + b"\0")
    return cache / f"{file_stem}-{spec.backend}-{digest.hexdigest()[:16]}.npy"


def load_masked(datasets: Path, name: str) -> list[str]:
    return mask_texts(load_cases(datasets / name, min_examples=None).texts)


def probe_texts(all_texts: list[list[str]], n: int = PROBE_TEXTS) -> list[str]:
    """A fixed, deterministic mix of texts from every dataset (same for each embedder)."""
    per = max(1, n // max(1, len(all_texts)))
    probe: list[str] = []
    for texts in all_texts:
        step = max(1, len(texts) // per)
        probe += texts[::step][:per]
    return probe


def measure_speed(embedder: Embedder, probe: list[str]) -> dict[str, float]:
    embedder.encode(probe[:16], batch_size=16)  # warm-up: first call pays lazy init
    load_before = os.getloadavg()[0]  # other work on the machine skews the numbers: record it
    # Best of two passes: other work on a shared machine only ever slows a pass down.
    passes = []
    for _ in range(2):
        start = time.perf_counter()
        embedder.encode(probe, batch_size=64)
        passes.append(time.perf_counter() - start)
    batch_s = min(passes)
    singles = []
    for text in probe[:SINGLE_TEXTS]:
        t0 = time.perf_counter()
        embedder.encode([text], batch_size=1)
        singles.append(time.perf_counter() - t0)
    return {
        "texts_per_s": len(probe) / batch_s,
        "single_ms_p50": 1000 * statistics.median(singles),
        "probe_texts": len(probe),
        "probe_mean_chars": statistics.mean(len(t) for t in probe),
        "load_average_1m": load_before,
    }


def embed_files(
    embedder: Embedder, datasets: Path, files: list[str], texts: list[list[str]], cache: Path
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cache.mkdir(parents=True, exist_ok=True)
    for name, file_texts in zip(files, texts, strict=True):
        path = cache_path(cache, Path(name).stem, file_texts, embedder.spec)
        entry: dict[str, Any] = {"path": str(path), "rows": len(file_texts), "cached": True}
        if not path.is_file():
            start = time.perf_counter()
            vectors = embedder.encode(file_texts, batch_size=64, show_progress=True)
            entry.update(cached=False, seconds=time.perf_counter() - start)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, np.asarray(vectors, dtype=np.float32))
            tmp.replace(path)
        out[name] = entry
    return out


def run(
    backend: str,
    location: str | None,
    datasets: Path,
    files: list[str],
    cache: Path,
    models_dir: Path,
    speed: bool = True,
) -> dict[str, Any]:
    texts = [load_masked(datasets, name) for name in files]
    start = time.perf_counter()
    embedder = load_embedder(backend, location, models_dir=models_dir)
    load_s = time.perf_counter() - start
    # Without speed (a loaded machine): only the vectors, the speed would mean nothing.
    measured = measure_speed(embedder, probe_texts(texts)) if speed else {}
    embedded = embed_files(embedder, datasets, files, texts, cache)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "backend": backend,
        "spec": embedder.spec.to_dict(),
        "load_s": load_s,
        **measured,
        "peak_rss_mb": peak_kb / 1024,
        "files": embedded,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_embed")
    p.add_argument("--backend", required=True)
    p.add_argument("--location", default=None)
    p.add_argument("--datasets", required=True, type=Path)
    p.add_argument("--files", required=True, help="comma-separated CSV names")
    p.add_argument("--cache", required=True, type=Path)
    p.add_argument("--result", required=True, type=Path)
    p.add_argument("--no-speed", action="store_true", help="embed only, do not time")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    files = args.files.split(",")
    models_dir = ModelPaths().models_dir
    result = run(
        args.backend, args.location, args.datasets, files, args.cache, models_dir, not args.no_speed
    )
    args.result.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
