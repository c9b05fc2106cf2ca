"""``python -m benchmarks.e2e.embedder_speed``: int8 embedder variants against the reference.

Each variant (an ONNX build folder, a grouping ratio, a thread count) encodes
the end-to-end benchmark's texts in the consumer's batches of 64, right after
plain sentence-transformers (the reference of ``reference.py``) encoded the
same texts: the ratio, not the absolute rate, is what compares across runs on
shared cores. Agreement: the cosine of each text's vector with the float e5
model's (the ``sentence-transformers`` backend, same prefix).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.e2e.corpus import requests_for
from benchmarks.e2e.measure import masked_texts, received_event
from benchmarks.e2e.reference import float_e5_folder, measure_reference

log = logging.getLogger("benchmarks.e2e.embedder_speed")
BATCH = 64


@dataclass(frozen=True)
class Variant:
    folder: str
    group_ratio: float
    threads: int
    texts_per_s: float
    ratio_to_reference: float
    cosine_to_float_mean: float
    cosine_to_float_min: float


def bench_texts(n: int) -> list[str]:
    return masked_texts([received_event(b) for b in requests_for("bench-speed-e2e", n)])


def timed_encode(embedder: Any, texts: list[str]) -> tuple[float, np.ndarray]:
    """Seconds to encode ``texts`` in the consumer's batches, and the vectors."""
    embedder.encode(texts[:BATCH])  # warm-up: onnxruntime's arena, lazy kernels
    start = time.perf_counter()
    parts = [embedder.encode(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
    return time.perf_counter() - start, np.vstack(parts)


def float_vectors(texts: list[str]) -> np.ndarray:
    from services.classifier.embedding.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(float_e5_folder()).encode(texts, batch_size=BATCH)


def run(folders: list[Path], ratios: list[float], threads: list[int], n: int) -> dict[str, Any]:
    from services.classifier.embedding.onnx_embedder import OnnxEmbedder

    texts = bench_texts(n)
    truth = float_vectors(texts)
    variants = []
    for folder in folders:
        for thread_count in threads:
            for ratio in ratios:
                reference = measure_reference(texts)
                embedder = OnnxEmbedder(folder, threads=thread_count, group_ratio=ratio)
                seconds, vectors = timed_encode(embedder, texts)
                cosines = np.sum(vectors * truth, axis=1)
                rate = len(texts) / seconds
                variant = Variant(
                    folder.name,
                    ratio,
                    thread_count,
                    round(rate, 1),
                    round(rate / reference.texts_per_s, 2),
                    round(float(cosines.mean()), 4),
                    round(float(cosines.min()), 4),
                )
                log.info("%s (reference %.1f texts/s)", variant, reference.texts_per_s)
                variants.append(asdict(variant))
    return {"texts": n, "load_average_1m": round(os.getloadavg()[0], 2), "variants": variants}


def main(argv: list[str] | None = None) -> int:
    from services.classifier.embedding import formats
    from services.classifier.embedding.onnx_embedder import GROUP_RATIO
    from services.classifier.settings import ModelPaths

    p = argparse.ArgumentParser(prog="python -m benchmarks.e2e.embedder_speed", description=__doc__)
    p.add_argument("--texts", type=int, default=1000)
    p.add_argument("--folder", type=Path, action="append", help="int8 builds (default: served)")
    p.add_argument("--ratio", type=float, action="append", help=f"default {GROUP_RATIO}")
    p.add_argument("--threads", type=int, action="append", help="default: every core")
    p.add_argument("--json", type=Path, default=Path("embedder-speed.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s speed: %(message)s")
    folders = args.folder or [formats.onnx_dir(ModelPaths().models_dir)]
    threads = args.threads or [os.cpu_count() or 1]
    data = run(folders, args.ratio or [GROUP_RATIO], threads, args.texts)
    args.json.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
