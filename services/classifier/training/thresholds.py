"""The confidence-gate thresholds, computed at training time from held-out predictions.

The gate (applied when serving: ``model/gate.py``) sends a prediction to human
review when its top probability is below the threshold of the predicted class,
or when the two best types are too close. Thresholds come from held-out
predictions: for each class, the lowest confidence at which the predictions of
that class kept at or above it reach the target precision. Classes with too few
held-out predictions use the threshold computed over all classes, so a rare
class is never gated on two data points.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]
BoolArray = npt.NDArray[np.bool_]

MIN_CLASS_SUPPORT = 8
DEFAULT_MARGIN = 0.05
MAX_MARGIN = 0.3


def lowest_threshold(confidence: FloatArray, correct: BoolArray, target: float) -> float | None:
    """The lowest t such that precision among {confidence >= t} is >= target, or None."""
    if len(confidence) == 0:
        return None
    order = np.argsort(-confidence, kind="stable")
    conf, hits = confidence[order], np.cumsum(correct[order])
    precision = hits / np.arange(1, len(order) + 1)
    # Only cut between distinct confidence values: ties are kept or dropped together.
    last_of_value = np.append(conf[1:] != conf[:-1], True)
    ok = np.flatnonzero((precision >= target) & last_of_value)
    if len(ok) == 0:
        return None
    return float(conf[ok[-1]])


def class_thresholds(
    labels: list[str],
    predicted: npt.NDArray[np.str_],
    confidence: FloatArray,
    correct: BoolArray,
    target: float,
    min_support: int = MIN_CLASS_SUPPORT,
) -> dict[str, dict[str, Any]]:
    """Per predicted class: threshold, how it was obtained, and its held-out support."""
    global_t = lowest_threshold(confidence, correct, target)
    fallback = 1.0 if global_t is None else global_t
    result: dict[str, dict[str, Any]] = {}
    for label in labels:
        mask = predicted == label
        support = int(mask.sum())
        if support < min_support:
            result[label] = {"threshold": fallback, "source": "global", "support": support}
            continue
        t = lowest_threshold(confidence[mask], correct[mask], target)
        # Unreachable target: review every prediction of this class.
        source = "class" if t is not None else "unreachable"
        result[label] = {"threshold": 1.0 if t is None else t, "source": source, "support": support}
    return result


def margin_threshold(margin: FloatArray, correct: BoolArray, min_rows: int = 10) -> float:
    """The margin (top1 - top2) below which held-out predictions were a coin flip.

    It is the largest m (capped at MAX_MARGIN) such that predictions with a margin
    below m were right at most half of the time; DEFAULT_MARGIN when the held-out
    set is too small to say.
    """
    if len(margin) < min_rows:
        return DEFAULT_MARGIN
    order = np.argsort(margin, kind="stable")
    m, hits = margin[order], np.cumsum(correct[order])
    accuracy = hits / np.arange(1, len(order) + 1)
    coin_flip = np.flatnonzero((accuracy <= 0.5) & (np.arange(1, len(order) + 1) >= 3))
    if len(coin_flip) == 0:
        return DEFAULT_MARGIN
    cut = float(m[coin_flip[-1]])
    return float(min(MAX_MARGIN, max(DEFAULT_MARGIN, cut)))


def gate_summary(
    predicted: npt.NDArray[np.str_],
    confidence: FloatArray,
    margin: FloatArray,
    correct: BoolArray,
    thresholds: dict[str, float],
    margin_min: float,
) -> dict[str, float]:
    """Share sent to review and accuracy of what the gate lets through."""
    limits = np.array([thresholds.get(str(p), 1.0) for p in predicted], dtype=np.float64)
    review = (confidence < limits) | (margin < margin_min)
    accepted = ~review
    return {
        "review_rate": float(review.mean()) if len(review) else 0.0,
        "accepted_accuracy": float(correct[accepted].mean()) if accepted.any() else 0.0,
        "accepted": int(accepted.sum()),
    }
