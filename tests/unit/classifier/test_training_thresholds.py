"""Coverage curve and confidence-gate thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from services.classifier.model.gate import top_two
from services.classifier.training import metrics as met
from services.classifier.training import thresholds as thr


def test_lowest_threshold_reaches_target_precision() -> None:
    conf = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, True, True, False, False])
    # precision of {>=0.7} is 4/4, of {>=0.6} is 4/5 = 0.8
    assert thr.lowest_threshold(conf, correct, 0.9) == pytest.approx(0.7)
    assert thr.lowest_threshold(conf, correct, 0.8) == pytest.approx(0.6)
    assert thr.lowest_threshold(conf, correct, 0.6) == pytest.approx(0.5)


def test_lowest_threshold_unreachable_and_ties() -> None:
    assert thr.lowest_threshold(np.array([0.9, 0.8]), np.array([False, False]), 0.9) is None
    assert thr.lowest_threshold(np.array([]), np.array([], dtype=bool), 0.9) is None
    # Tied confidences are kept or dropped together: cutting inside the tie is not allowed.
    conf = np.array([0.9, 0.7, 0.7])
    correct = np.array([True, True, False])
    assert thr.lowest_threshold(conf, correct, 0.9) == pytest.approx(0.9)


def test_class_thresholds_fallback_and_unreachable() -> None:
    predicted = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 2)
    conf = np.concatenate([np.linspace(0.99, 0.5, 10), np.linspace(0.9, 0.4, 10), [0.8, 0.7]])
    correct = np.array([True] * 8 + [False] * 2 + [False] * 10 + [True, True])
    out = thr.class_thresholds(["a", "b", "c"], predicted, conf, correct, 0.9, min_support=5)
    assert out["a"]["source"] == "class"
    assert out["a"]["threshold"] == pytest.approx(conf[7])
    assert out["b"] == {"threshold": 1.0, "source": "unreachable", "support": 10}
    assert out["c"]["source"] == "global" and out["c"]["support"] == 2


def test_margin_threshold() -> None:
    margin = np.linspace(0.0, 0.9, 20)
    correct = np.array([False] * 6 + [True] * 14)  # the 6 closest calls were wrong
    value = thr.margin_threshold(margin, correct)
    assert thr.DEFAULT_MARGIN <= value <= thr.MAX_MARGIN
    assert value >= margin[5]
    assert thr.margin_threshold(margin[:5], correct[:5]) == thr.DEFAULT_MARGIN
    assert thr.margin_threshold(margin, np.ones(20, dtype=bool)) == thr.DEFAULT_MARGIN


def test_coverage_curve_is_sorted_by_confidence() -> None:
    conf = np.array([0.9, 0.1, 0.8, 0.2])
    correct = np.array([True, False, True, True])
    curve = met.coverage_curve(conf, correct, points=4)
    assert [p["coverage"] for p in curve] == [0.25, 0.5, 0.75, 1.0]
    assert [p["accuracy"] for p in curve] == [1.0, 1.0, 1.0, 0.75]
    assert curve[-1]["threshold"] == pytest.approx(0.1)
    assert met.coverage_curve(np.array([]), np.array([], dtype=bool)) == []


def test_top_two_and_gate_summary() -> None:
    proba = np.array([[0.6, 0.3, 0.1], [0.45, 0.1, 0.45]])
    top, best, margin = top_two(proba)
    assert top.tolist() == [0, 0]
    assert best == pytest.approx([0.6, 0.45])
    assert margin == pytest.approx([0.3, 0.0])
    summary = thr.gate_summary(
        np.array(["a", "a"]), best, margin, np.array([True, False]), {"a": 0.5}, 0.05
    )
    assert summary == {"review_rate": 0.5, "accepted_accuracy": 1.0, "accepted": 1}
