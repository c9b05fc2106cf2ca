"""Pure parts of ``make bench-finetune``: contrastive pairs, folds and the verdict.

SetFit's recipe: each row is paired with a random row of its own type (target
cosine 1) and a random row of another type (target 0), repeated until every
row has ``pairs_per_row`` pairs; the whole list is then capped, complete
rounds first, so that every row keeps the same share when the cap bites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Index = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Pair:
    left: int
    right: int
    target: float  # 1.0: same type, 0.0: different types


def _groups(labels: list[str]) -> tuple[Index, dict[str, tuple[int, int]]]:
    """Row indices sorted by label and each label's [start, end) range in that order."""
    order = np.argsort(np.asarray(labels, dtype=object), kind="stable").astype(np.intp)
    ranges: dict[str, tuple[int, int]] = {}
    for position, row in enumerate(order):
        start, _ = ranges.get(labels[row], (position, position))
        ranges[labels[row]] = (start, position + 1)
    return order, ranges


def sample_pairs(
    labels: list[str], pairs_per_row: int, seed: int, max_pairs: int | None = None
) -> list[Pair]:
    """Balanced positive/negative pairs, ``pairs_per_row`` per row, at most ``max_pairs``.

    A row whose type has no other row gets no positive pair (there is none).
    """
    if len(set(labels)) < 2:
        raise ValueError("contrastive pairs need at least two types")
    if pairs_per_row < 1:
        raise ValueError("pairs_per_row must be at least 1")
    rng = np.random.default_rng(seed)
    order, ranges = _groups(labels)
    n = len(labels)
    pairs: list[Pair] = []
    for round_ in range(pairs_per_row):
        for position, anchor in enumerate(rng.permutation(n)):
            start, end = ranges[labels[anchor]]
            # Alternate within a round and across rounds: any cap keeps pairs half positive.
            if (round_ + position) % 2 == 0:
                pair = _positive(rng, order, start, end, int(anchor))
            else:
                pair = _negative(rng, order, start, end, n, int(anchor))
            if pair is not None:
                pairs.append(pair)
        if max_pairs is not None and len(pairs) >= max_pairs:
            break
    pairs = pairs[:max_pairs] if max_pairs is not None else pairs
    return [pairs[i] for i in rng.permutation(len(pairs))]


def _positive(
    rng: np.random.Generator, order: Index, start: int, end: int, anchor: int
) -> Pair | None:
    if end - start < 2:
        return None
    while True:  # terminates: the type has another row
        other = int(order[rng.integers(start, end)])
        if other != anchor:
            return Pair(anchor, other, 1.0)


def _negative(
    rng: np.random.Generator, order: Index, start: int, end: int, n: int, anchor: int
) -> Pair:
    # Draw among the rows outside [start, end) of the sorted order, without rejection.
    k = int(rng.integers(0, n - (end - start)))
    position = k if k < start else k + (end - start)
    return Pair(anchor, int(order[position]), 0.0)


def language_folds(languages: list[str]) -> list[tuple[str, Index, Index]]:
    """(held-out language, train rows, test rows): train on the others, score that one."""
    values = np.asarray(languages)
    folds = []
    for language in sorted(set(languages)):
        test = np.flatnonzero(values == language).astype(np.intp)
        train = np.flatnonzero(values != language).astype(np.intp)
        folds.append((language, train, test))
    return folds


@dataclass(frozen=True)
class Verdict:
    gains: dict[str, float]  # tuned minus frozen, per benchmark measured
    train_seconds: dict[str, float]
    missing: list[str]  # required benchmarks that were not measured
    affordable: bool
    keep: bool


def decide(
    frozen: dict[str, float],
    tuned: dict[str, float],
    train_seconds: dict[str, float],
    *,
    required: tuple[str, ...] = ("demo", "banking77"),
    min_gain: float = 0.01,
    max_seconds: float = 3600.0,
) -> Verdict:
    """Issue 18's rule: keep fine-tuning only if it gains ``min_gain`` on EVERY required
    benchmark within ``max_seconds`` of training on each (what an administration can wait
    for on 2 cores). A benchmark not measured counts as not won."""
    gains = {name: tuned[name] - frozen[name] for name in frozen}
    missing = [name for name in required if name not in gains]
    affordable = all(s <= max_seconds for s in train_seconds.values())
    # A small epsilon: a gain of exactly one point must not fail on float rounding.
    wins = not missing and bool(gains) and all(g >= min_gain - 1e-9 for g in gains.values())
    return Verdict(gains, dict(train_seconds), missing, affordable, wins and affordable)


def quiet_seconds(cpu_seconds: float, threads: int) -> float:
    """Wall time on an idle machine, estimated from the process's CPU time.

    On a shared machine the wall clock also counts the time spent waiting for a
    core; the CPU time does not (it still grows a little with cache contention,
    so the estimate errs long).
    """
    return cpu_seconds / max(1, threads)


def full_budget_seconds(seconds: float, pairs: int, rows: int, pairs_per_row: int = 20) -> float:
    """Training time of SetFit's full budget, scaled from a run over ``pairs`` pairs."""
    return seconds / max(1, pairs) * rows * pairs_per_row


def per_class(labels: list[str], rows: Index, n: int | None, seed: int) -> Index:
    """At most ``n`` of ``rows`` per label (a random, sorted choice; None keeps all)."""
    if n is None:
        return rows
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for row in rows:
        by_label.setdefault(labels[row], []).append(int(row))
    kept = [r for group in by_label.values() for r in rng.permutation(group)[:n]]
    return np.sort(np.asarray(kept, dtype=np.intp))
