"""Metrics of one head (type or urgency) from true labels and probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.metrics import precision_recall_fscore_support as prfs

from services.classifier.model.gate import top_two
from services.classifier.model.ordinal import decide

RELIABILITY_BINS = 10


def coverage_curve(
    confidence: npt.NDArray[np.floating[Any]], correct: npt.NDArray[np.bool_], points: int = 20
) -> list[dict[str, float]]:
    """Accuracy of the most confident fraction, for coverage 1/points .. 1."""
    if len(confidence) == 0:
        return []
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    n = len(order)
    curve = []
    for step in range(1, points + 1):
        kept = max(1, round(n * step / points))
        curve.append(
            {
                "coverage": kept / n,
                "accuracy": float(hits[kept - 1] / kept),
                "threshold": float(confidence[order[kept - 1]]),
            }
        )
    return curve


def reliability(
    confidence: npt.NDArray[np.floating[Any]], correct: npt.NDArray[np.bool_]
) -> tuple[list[dict[str, float]], float]:
    """Reliability-diagram bins and the expected calibration error (ECE)."""
    edges = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, RELIABILITY_BINS - 1)
    bins, ece, n = [], 0.0, max(1, len(confidence))
    for b in range(RELIABILITY_BINS):
        mask = index == b
        count = int(mask.sum())
        if count == 0:
            continue
        conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
        ece += count / n * abs(conf - acc)
        bins.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "count": count,
                "confidence": conf,
                "accuracy": acc,
            }
        )
    return bins, float(ece)


def summary(y_true: list[str], y_pred: list[str]) -> dict[str, float]:
    """The two headline numbers (macro-F1 over the labels seen in truth or prediction)."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    }


def head_metrics(
    y_true: list[str],
    proba: npt.NDArray[np.floating[Any]],
    classes: list[str],
    decision: str = "argmax",
) -> dict[str, Any]:
    """Everything ``triage evaluate`` reports about one head (``decision``: how the
    head's label is chosen from its probabilities, ``model/ordinal.py``)."""
    top, confidence, _ = top_two(proba)
    if decision != "argmax":
        top = decide(proba, classes, decision)
        confidence = proba[np.arange(len(proba)), top]
    y_pred = [classes[i] for i in top]
    correct = np.asarray(y_true) == np.asarray(y_pred)
    labels = sorted(set(classes) | set(y_true))
    precision, recall, f1, support = prfs(y_true, y_pred, labels=labels, zero_division=0)
    bins, ece = reliability(confidence, correct)
    return {
        **summary(y_true, y_pred),
        "rows": len(y_true),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
        "ece": ece,
        "reliability": bins,
        "coverage_curve": coverage_curve(confidence, correct),
    }
