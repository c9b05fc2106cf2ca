"""Calibrating "none of the known types" (``model/gate.py`` ``UnknownRule``) at training.

Two signals, both estimated on held-out rows:

* an explicit label that means "none of them" in the data (``oos`` in CLINC150,
  ``unknown``): the head learns it like any type, and predicting it is unknown;
* the top type probability: below the ``rate`` quantile of the held-out top
  probabilities of rows of known types, the request looks like none of them.
  ``rate`` is the share of known-type requests sent to review for it (5% by
  default): an administration trades review work for catching new kinds of requests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from services.classifier.model.gate import UnknownRule

UNKNOWN_LABELS = frozenset({"oos", "unknown", "out_of_scope"})
DEFAULT_RATE = 0.05


def unknown_labels(labels: list[str]) -> tuple[str, ...]:
    """The labels of the data that mean "none of the known types"."""
    return tuple(sorted({label for label in labels if label.lower() in UNKNOWN_LABELS}))


def calibrate(
    y_true: list[str],
    confidence: npt.NDArray[np.floating[Any]],
    labels: tuple[str, ...],
    rate: float = DEFAULT_RATE,
) -> UnknownRule:
    """The rule whose threshold flags ``rate`` of the held-out known-type rows."""
    known = ~np.isin(np.asarray(y_true), np.asarray(labels, dtype=np.str_))
    if rate <= 0 or not known.any():
        return UnknownRule(0.0, labels)
    return UnknownRule(float(np.quantile(confidence[known], rate)), labels)


def scores(
    y_true: list[str], predicted: list[str], flagged: npt.NDArray[np.bool_], labels: tuple[str, ...]
) -> dict[str, float]:
    """Overall accuracy (unknown rows right when flagged), in-scope accuracy (right
    and not flagged) and out-of-scope recall, as reported on CLINC150."""
    truth = np.asarray(y_true)
    is_unknown = np.isin(truth, np.asarray(labels, dtype=np.str_))
    right_type = (truth == np.asarray(predicted)) & ~flagged
    correct = np.where(is_unknown, flagged, right_type)
    out = {
        "accuracy": float(correct.mean()) if len(truth) else 0.0,
        "in_scope_accuracy": float(right_type[~is_unknown].mean()) if (~is_unknown).any() else 0.0,
        "in_scope_flagged": float(flagged[~is_unknown].mean()) if (~is_unknown).any() else 0.0,
    }
    if is_unknown.any():
        out["oos_recall"] = float(flagged[is_unknown].mean())
    return out


def gate_block(
    rule: UnknownRule,
    rate: float,
    y_true: list[str],
    predicted: list[str],
    confidence: npt.NDArray[np.floating[Any]],
) -> dict[str, Any]:
    """The manifest's ``gate.unknown``: the rule and what it did on the held-out rows."""
    flagged = rule.flags(np.asarray(predicted, dtype=np.str_), confidence)
    return {
        "method": "top_probability_quantile",
        "rate": rate,
        "threshold": rule.threshold,
        "labels": list(rule.labels),
        "validation": scores(y_true, predicted, flagged, rule.labels),
    }
