"""Key points benchmark: recall@5 of the method vs lead-5 and random-5, and its speed.

``make bench-keypoints`` (``python -m benchmarks.keypoints.run --docs docs/benchmarks.md``):
loads the service's embedder (the default model's, built by ``make model``) and the
service's default parameters, evaluates on ``benchmarks/keypoints/requests_*.yaml``
and times 2,000-word requests. Writes ``bench-keypoints.json`` and, with ``--docs``,
the "Key points benchmark" section.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.e2e.report import update_docs
from benchmarks.keypoints.data import LANGUAGES, Case, load_cases
from benchmarks.keypoints.evaluate import K, lead, mean_recall, method, random_recall
from benchmarks.keypoints.report import SECTION, markdown
from benchmarks.keypoints.timing import (
    every_sentence,
    lexical_cpu_ms,
    long_requests,
    masking_cpu_ms,
    previous_defaults,
    time_requests,
    time_variants,
)
from benchmarks.machine import cpu_name
from services.classifier.keypoints import Embed, Params, Weights
from services.classifier.settings import ClassifierSettings

# What each signal is worth: the method without it (the rest unchanged).
ABLATIONS: dict[str, Weights] = {
    "without TF-IDF centrality": Weights(centrality=0),
    "without the cue words": Weights(cue=0),
    "without the digit bonus": Weights(digit=0),
    "without the anchors (embedder)": Weights(anchors=0),
    "without the subject's vector (embedder)": Weights(embedding_subject=0),
    "lexical only (no embedder signal)": Weights(anchors=0, embedding_subject=0),
    "embedder only (anchors + subject)": Weights(
        centrality=0, subject_words=0, cue=0, digit=0, courtesy=0
    ),
}


def recalls(cases: list[Case], embed: Embed, params: Params) -> dict[str, Any]:
    chosen = method(embed, params)(cases)
    per_language = {
        lang: {
            "method": mean_recall(
                [c for c in cases if c.language == lang],
                [ch for c, ch in zip(cases, chosen, strict=True) if c.language == lang],
            ),
            "lead": mean_recall(
                [c for c in cases if c.language == lang],
                lead(params)([c for c in cases if c.language == lang]),
            ),
            "random": random_recall([c for c in cases if c.language == lang], params),
        }
        for lang in LANGUAGES
    }
    ablations = {
        name: mean_recall(cases, method(embed, replace(params, weights=w))(cases))
        for name, w in ABLATIONS.items()
    }
    return {
        "method": mean_recall(cases, chosen),
        "lead": mean_recall(cases, lead(params)(cases)),
        "random": random_recall(cases, params),
        "per_language": per_language,
        "ablations": ablations,
        "no_mmr": mean_recall(cases, method(embed, replace(params, mmr_lambda=1.0))(cases)),
    }


def memoised(embed: Embed) -> Embed:
    """The recall runs embed the same sentences again and again: embed each once."""
    seen: dict[str, Any] = {}

    def run(texts: list[str]) -> Any:
        missing = [t for t in dict.fromkeys(texts) if t not in seen]
        if missing:
            seen.update(zip(missing, embed(missing), strict=True))
        return np.stack([seen[t] for t in texts])

    return run


def run(args: argparse.Namespace) -> dict[str, Any]:
    from services.classifier.embedding.factory import load_embedder

    settings = ClassifierSettings()
    params = settings.key_point_params()
    embedder = load_embedder(
        None, models_dir=settings.models_dir, threads=settings.classifier_threads
    )
    cases = load_cases()
    load_start = os.getloadavg()[0]  # other work on the shared machine skews the timing
    requests = long_requests(cases, args.requests)
    variants = {"now": params, "previous": previous_defaults(params)}
    timing = time_variants(embedder.encode, variants, requests, args.repeats)
    unbounded = time_requests(embedder.encode, every_sentence(params), requests[:2], 1)
    return {
        "k": K,
        "cases": len(cases),
        "essential": sum(len(c.essential) for c in cases),
        "by_language": {lang: sum(c.language == lang for c in cases) for lang in LANGUAGES},
        "embedder": embedder.spec.name,
        "params": {
            "candidates": params.candidates,
            "embed_words": params.embed_words,
            "mmr_lambda": params.mmr_lambda,
        },
        "recall": recalls(cases, memoised(embedder.encode), params),
        # embedded afresh: int8 activations are quantised per call, so a vector
        # depends a little on the batch it was computed in (±1-2 points of recall)
        "recall_previous_defaults": mean_recall(
            cases, method(embedder.encode, previous_defaults(params))(cases)
        ),
        "timing_2000_words": timing["now"],
        "timing_2000_words_previous_defaults": timing["previous"],
        "lexical_cpu_ms_2000_words": lexical_cpu_ms(params, requests),
        "masking_cpu_ms_2000_words": masking_cpu_ms(requests),
        "timing_2000_words_every_sentence": unbounded,
        "machine": {
            "cpu": cpu_name(platform.processor() or platform.machine()),
            "cores": os.cpu_count(),
            "load_average_1m_at_start": round(load_start, 2),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-keypoints", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="2,000-word requests timed")
    parser.add_argument("--repeats", type=int, default=2, help="passes over them")
    parser.add_argument("--out", type=Path, default=Path("bench-keypoints.json"))
    parser.add_argument("--docs", type=Path, default=None, help="update this markdown section")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite --docs from --out, measure nothing"
    )
    args = parser.parse_args(argv)
    if args.report_only:
        result = json.loads(args.out.read_text())
    else:
        result = run(args)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    if args.docs:
        update_docs(args.docs, markdown(result), SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
