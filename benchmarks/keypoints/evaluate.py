"""Recall@k of key-point methods against the marked sentences (pure given an embedder)."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import replace

from benchmarks.keypoints.data import Case, normalise
from services.classifier.keypoints import Embed, KeyPointer, Params, eligible_sentences

Method = Callable[[Sequence[Case]], list[list[str]]]
K = 5
RANDOM_SEEDS = 20


def recall(chosen: Sequence[str], essential: Sequence[str]) -> float:
    """Share of the essential sentences among ``chosen`` (a cut point matches its start)."""
    picked = [normalise(c).removesuffix("…") for c in chosen]
    hits = sum(any(e.startswith(p) for p in picked) for e in essential)
    return hits / len(essential)


def mean_recall(cases: Sequence[Case], chosen: Sequence[Sequence[str]]) -> float:
    return statistics.fmean(
        recall(c, case.essential) for case, c in zip(cases, chosen, strict=True)
    )


def bench_params(params: Params, k: int = K) -> Params:
    """The service's parameters, but exactly ``k`` points for every request."""
    return replace(
        params, min_words=0, min_points=k, max_points=k, candidates=max(k, params.candidates)
    )


def method(embed: Embed, params: Params) -> Method:
    pointer = KeyPointer(embed, bench_params(params))

    def run(cases: Sequence[Case]) -> list[list[str]]:
        points = pointer.extract_many([(c.subject, c.segments) for c in cases])
        return [[p.text for p in ps] for ps in points]

    return run


def _pool(case: Case, params: Params) -> list[str]:
    return [s.text for s in eligible_sentences(case.segments, params)]


def lead(params: Params, k: int = K) -> Method:
    """The first k sentences that could be key points (salutations already left out)."""
    return lambda cases: [_pool(c, params)[:k] for c in cases]


def random_recall(cases: Sequence[Case], params: Params, k: int = K) -> float:
    """Recall of k random eligible sentences, averaged over seeded draws."""
    runs = []
    for seed in range(RANDOM_SEEDS):
        rng = random.Random(seed)
        chosen = []
        for case in cases:
            pool = _pool(case, params)
            chosen.append(rng.sample(pool, min(k, len(pool))))
        runs.append(mean_recall(cases, chosen))
    return statistics.fmean(runs)
