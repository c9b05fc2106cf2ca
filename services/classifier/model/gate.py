"""The confidence gate as serving applies it: which predictions go to human review.

A prediction is reviewed when its top type probability is below the threshold of
the predicted type, or when the two best types are too close. The thresholds and
the margin are computed at training time (``training/thresholds.py``) and stored
in the manifest's ``gate``; ``TriageModel.predict`` applies them.
"""

from __future__ import annotations

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
