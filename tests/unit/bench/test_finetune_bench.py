"""The pure parts of `make bench-finetune`: pairs, folds, the verdict and the report."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from benchmarks.models.finetune_pairs import (
    decide,
    full_budget_seconds,
    language_folds,
    per_class,
    quiet_seconds,
    sample_pairs,
)
from benchmarks.models.finetune_report import SECTION, markdown

LABELS = ["a"] * 6 + ["b"] * 4 + ["c"] * 5


def test_pairs_match_their_targets_and_never_pair_a_row_with_itself() -> None:
    pairs = sample_pairs(LABELS, 4, seed=1)
    assert len(pairs) == 4 * len(LABELS)
    for p in pairs:
        assert p.left != p.right
        assert (LABELS[p.left] == LABELS[p.right]) == (p.target == 1.0)


def test_every_row_anchors_its_share_and_the_pairs_are_half_positive() -> None:
    pairs = sample_pairs(LABELS, 6, seed=2)
    assert set(Counter(p.left for p in pairs).values()) == {6}
    positives = sum(p.target for p in pairs)
    assert abs(positives - len(pairs) / 2) <= len(pairs) * 0.1


def test_the_cap_keeps_complete_rounds_first_and_stays_balanced() -> None:
    pairs = sample_pairs(LABELS, 20, seed=3, max_pairs=20)
    assert len(pairs) == 20
    assert set(Counter(p.left for p in pairs).values()) <= {1, 2}  # one round and a bit
    assert 8 <= sum(p.target for p in pairs) <= 12


def test_sampling_is_deterministic_for_a_seed() -> None:
    assert sample_pairs(LABELS, 3, seed=7) == sample_pairs(LABELS, 3, seed=7)
    assert sample_pairs(LABELS, 3, seed=7) != sample_pairs(LABELS, 3, seed=8)


def test_a_type_with_a_single_row_gets_no_positive_pair() -> None:
    labels = ["a", "b", "b", "b"]
    pairs = sample_pairs(labels, 4, seed=0)
    assert all(p.target == 0.0 for p in pairs if p.left == 0)
    assert all(p.right != p.left for p in pairs)


def test_pairs_need_two_types_and_a_budget() -> None:
    with pytest.raises(ValueError, match="two types"):
        sample_pairs(["a", "a"], 2, seed=0)
    with pytest.raises(ValueError, match="at least 1"):
        sample_pairs(LABELS, 0, seed=0)


def test_language_folds_hold_out_each_language_once() -> None:
    languages = ["fr", "nl", "en", "fr", "en"]
    folds = language_folds(languages)
    assert [f[0] for f in folds] == ["en", "fr", "nl"]
    for language, train, test in folds:
        assert {languages[i] for i in test} == {language}
        assert language not in {languages[i] for i in train}
        assert len(train) + len(test) == len(languages)


def test_fine_tuning_is_kept_only_with_a_point_on_every_benchmark_in_time() -> None:
    frozen = {"demo": 0.80, "banking77": 0.90}
    fast = {"demo": 600.0, "banking77": 900.0}
    assert decide(frozen, {"demo": 0.81, "banking77": 0.915}, fast).keep
    one_short = decide(frozen, {"demo": 0.85, "banking77": 0.905}, fast)
    assert not one_short.keep and one_short.affordable
    assert one_short.gains["demo"] == pytest.approx(0.05)
    slow = decide(frozen, {"demo": 0.85, "banking77": 0.95}, fast, max_seconds=700)
    assert not slow.keep and not slow.affordable


def test_a_benchmark_not_measured_is_not_won() -> None:
    verdict = decide({"demo": 0.8}, {"demo": 0.9}, {"demo": 60.0})
    assert verdict.missing == ["banking77"] and not verdict.keep


def test_time_estimates_scale_cpu_time_to_threads_and_the_full_budget() -> None:
    assert quiet_seconds(120.0, 2) == 60.0
    assert full_budget_seconds(60.0, pairs=300, rows=1000) == pytest.approx(4000.0)


def _fold(train_s: float) -> dict[str, Any]:
    scores = {"type": {"accuracy": 0.9, "macro_f1": 0.88}}
    return {
        "train_rows": 100,
        "test_rows": 50,
        "training": {
            "pairs": 200,
            "train_s": train_s,
            "train_cpu_s": 240.0,
            "encode_s": 5.0,
            "first_loss": 0.3,
            "last_loss": 0.1,
            "load_average_1m_before": 2.0,
            "load_average_1m_after": 3.0,
        },
        "frozen": {"concat": scores},
        "tuned": {"concat": scores},
    }


def test_the_report_states_the_decision_and_the_measured_times() -> None:
    fold = _fold(123.0)
    task = {
        "recipe": {"lr": 2e-5, "warmup": 0.1, "batch_size": 16, "max_seq_length": 128},
        "folds": {"80/20": fold},
        "frozen": fold["frozen"],
        "tuned": fold["tuned"],
        "train_s": 123.0,
    }
    results = {
        "machine": {"date": "2026-12-03 16:00 UTC", "cpus": 2, "cpu": "EPYC", "threads": 2},
        "tasks": {"banking77": task},
        "max_train_s": 3600.0,
        "verdict": {
            "gains": {"banking77": 0.0},
            "train_seconds": {"banking77": 123.0},
            "missing": ["demo"],
            "affordable": True,
            "keep": False,
        },
    }
    text = markdown(results)
    assert text.startswith(SECTION)
    # 240 CPU s on 2 threads: 120 s idle; 20 pairs for each of 100 rows: 10x that.
    assert "| 200 (2.00) | 123 | 240 | 120 | 20 |" in text
    assert "not measured on demo corpus" in text
    assert "scored on 50 rows" in text and "all 100 training rows would take about 0.3 h" in text
    assert "**Decision: not kept**" in text and "+0.0 pt" in text


def test_per_class_samples_keep_every_label_and_at_most_n_each() -> None:
    rows = np.arange(len(LABELS), dtype=np.intp)
    picked = per_class(LABELS, rows, 3, seed=0)
    assert Counter(LABELS[i] for i in picked) == {"a": 3, "b": 3, "c": 3}
    assert list(picked) == sorted(picked)
    assert per_class(LABELS, rows, None, seed=0) is rows
