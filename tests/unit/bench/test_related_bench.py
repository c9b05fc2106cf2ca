"""The related-cases benchmark's pairs, threshold rule and report (no embedding)."""

from __future__ import annotations

import random

import numpy as np

from benchmarks.related.pairs import Text, build, forward, resubmit
from benchmarks.related.report import SECTION, markdown
from benchmarks.related.run import choose, sweep


def test_pairs_from_the_demo_corpus_alone_are_seeded_and_labelled() -> None:
    pairs = build(None, scale=0.1)
    assert pairs == build(None, scale=0.1)
    families = {p.family for p in pairs}
    assert families == {"resubmission", "forwarded", "same_type"}
    assert all(p.duplicate == (p.family != "same_type") for p in pairs)
    assert all(p.a != p.b for p in pairs)


def test_variants_keep_the_request_and_change_its_form() -> None:
    rng = random.Random(1)
    item = Text("Ma facture de gaz est de 640 euros. Je ne peux pas payer. Aidez-moi.", "x", "fr")
    for _ in range(20):
        assert resubmit(item, rng) != item.text
    forwarded = forward(item, rng)
    assert "Forwarded message" in forwarded and "Pour suite utile" in forwarded


def test_threshold_is_the_lowest_with_enough_precision() -> None:
    scores = np.array([0.99, 0.97, 0.93, 0.96, 0.90, 0.85])
    truth = np.array([True, True, True, False, False, False])
    rows = sweep(scores, truth)
    chosen = choose(rows)
    assert chosen["threshold"] == 0.965 and chosen["precision"] == 1.0
    assert abs(chosen["recall"] - 2 / 3) < 1e-9


def test_report_renders_its_section() -> None:
    row = {"threshold": 0.95, "precision": 0.96, "recall": 0.9}
    family = {"pairs": 10, "above": 0.9, "median_cosine": 0.97, "p05_cosine": 0.9,
              "p95_cosine": 0.99}  # fmt: skip
    result = {
        "machine": "test CPU", "pairs": 20, "duplicates": 10, "embedder": "e5",
        "embed_texts_per_s": 12.5, "min_precision": 0.95, "chosen": row,
        "without_other_words": row, "sweep": [row], "families": {"forwarded": family},
        "corpus": {"requests": 100, "mean_suggestions": 0.01, "share_with_any": 0.01},
        "lookup": [{"items": 100_000, "p50_ms": 9.0, "p99_ms": 30.0, "max_ms": 40.0,
                    "cpu_p50_ms": 8.0, "cpu_p99_ms": 12.0,
                    "memory_mb": 154.0, "build_s": 1.0}],
    }  # fmt: skip
    text = markdown(result)
    assert (
        text.startswith(SECTION)
        and "**0.950**" in text
        and "| 100,000 | 8.0 ms | 12.0 ms | 9.0 ms" in text
    )
