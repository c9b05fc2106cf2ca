"""Ordinal decision for urgency: the median level of the predicted distribution.

Urgency levels are ordered (low < normal/medium < high < critical). Taking the
argmax ignores that order: with 0.35 critical, 0.30 high, 0.35 normal the argmax
is a coin flip between the two ends. The median level (the first level, from
the least urgent, where the cumulative probability reaches one half) is the
decision that minimises the expected distance in levels, so a prediction spread
over neighbouring levels lands in the middle instead of jumping to an end.
``triage train`` keeps it for a head only when cross-validation says it helps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# Rank of every urgency word the data may use (tickets use "medium" for "normal").
RANKS = {"low": 0, "normal": 1, "medium": 1, "high": 2, "critical": 3}


def ordinal_order(labels: list[str]) -> list[int] | None:
    """Column indices of ``labels`` from least to most urgent, or None when unordered."""
    if len(labels) < 2 or any(label not in RANKS for label in labels):
        return None
    ranks = [RANKS[label] for label in labels]
    if len(set(ranks)) != len(ranks):
        return None
    return sorted(range(len(labels)), key=lambda i: ranks[i])


def median_choice(proba: npt.NDArray[np.floating[Any]], labels: list[str]) -> npt.NDArray[np.intp]:
    """Per row, the column of the median level (argmax when the labels are unordered)."""
    order = ordinal_order(labels)
    if order is None:
        return np.asarray(np.argmax(proba, axis=1), dtype=np.intp)
    cumulative = np.cumsum(proba[:, order], axis=1)
    # The small tolerance keeps an exact 0.5 from depending on float rounding.
    first = np.argmax(cumulative >= 0.5 - 1e-9, axis=1)
    return np.asarray(np.asarray(order)[first], dtype=np.intp)


def decide(
    proba: npt.NDArray[np.floating[Any]], labels: list[str], decision: str
) -> npt.NDArray[np.intp]:
    """The chosen column per row for a head's ``decision`` ("argmax" or "ordinal")."""
    if decision == "ordinal":
        return median_choice(proba, labels)
    return np.asarray(np.argmax(proba, axis=1), dtype=np.intp)
