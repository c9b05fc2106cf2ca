"""The cue lexicon's findings as head features: one column per cue level.

The lexicon (``cues.py``) raises the urgency after the model; as features it also
lets the urgency head learn how much a cue says on this administration's data
(a "high" cue that usually goes with "critical" cases, for instance).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from services.classifier.cues import LEVELS, CueMatch


class Finder(Protocol):
    def find(self, text: str) -> list[CueMatch]: ...


def cue_levels(lexicon: Finder, texts: list[str]) -> npt.NDArray[np.float32]:
    """(rows, len(LEVELS)): 1 where the text holds a cue of that level."""
    out = np.zeros((len(texts), len(LEVELS)), dtype=np.float32)
    column = {level: j for j, level in enumerate(LEVELS)}
    for i, text in enumerate(texts):
        for match in lexicon.find(text):
            out[i, column[match.level]] = 1.0
    return out
