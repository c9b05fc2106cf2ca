"""The confidence gate as serving applies it: which predictions go to human review.

A prediction is reviewed when its top type probability is below the threshold of
the predicted type, or when the two best types are too close. The thresholds and
the margin are computed at training time (``training/thresholds.py``) and stored
in the manifest's ``gate``; ``TriageModel.predict`` applies them, and the
``UnknownRule`` below (a type outside the known ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]

REASON_LOW_CONFIDENCE = "below_class_threshold"
REASON_CLOSE_CALL = "top_two_close"


def top_two(proba: FloatArray) -> tuple[npt.NDArray[np.intp], FloatArray, FloatArray]:
    """Argmax index, top probability and margin to the second best, per row."""
    if proba.shape[1] == 1:
        top = np.zeros(len(proba), dtype=np.intp)
        return top, proba[:, 0], proba[:, 0]
    part = np.partition(proba, -2, axis=1)
    best, second = part[:, -1], part[:, -2]
    return np.argmax(proba, axis=1), best, best - second


# The request belongs to none of the types the model knows (or to the data's explicit
# "none of them" label, such as CLINC's `oos`): a person must say where it goes.
REASON_UNKNOWN_TYPE = "unknown_type"


@dataclass(frozen=True)
class UnknownRule:
    """When a prediction is "none of the known types".

    ``threshold``: a top type probability below it (calibrated at training time on
    held-out rows of known types, ``training/unknown.py``); ``labels``: training
    labels that themselves mean "none of them". The default rule flags nothing,
    which is what a model trained before this rule existed gets.
    """

    threshold: float = 0.0
    labels: tuple[str, ...] = ()

    @classmethod
    def from_gate(cls, gate: dict[str, Any]) -> UnknownRule:
        block = gate.get("unknown") or {}
        return cls(float(block.get("threshold", 0.0)), tuple(block.get("labels", ())))

    def flags(
        self, predicted: npt.NDArray[np.str_], confidence: FloatArray
    ) -> npt.NDArray[np.bool_]:
        explicit = np.isin(predicted, np.asarray(self.labels, dtype=np.str_))
        return np.asarray(explicit | (confidence < self.threshold), dtype=np.bool_)
