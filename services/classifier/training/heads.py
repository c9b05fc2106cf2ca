"""The heads of a model fitted together: one feature space, one recipe per head.

Each head (type, urgency) reads its own recipe (``ModelConfig.recipe``); the
feature space holds what any of them needs (TF-IDF vocabulary, embedding mean),
fitted once, so serving computes TF-IDF and the centring once for both heads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from services.classifier.model.features import FeatureSpace, HeadRecipe, ModelConfig
from services.classifier.training.fitting import fit_features, fit_head, shared_mode

Floats = npt.NDArray[np.float32]
Proba = npt.NDArray[np.float64]


@dataclass
class FittedHeads:
    config: ModelConfig
    features: FeatureSpace
    type_head: Any
    urgency_head: Any | None

    @property
    def recipes(self) -> list[HeadRecipe]:
        heads = ["type"] + (["urgency"] if self.urgency_head is not None else [])
        return [self.config.recipe(h) for h in heads]

    def predict_proba(
        self, texts: list[str], embeddings: Floats, cues: Floats | None = None
    ) -> tuple[Proba, Proba | None]:
        inputs = self.features.head_inputs(texts, embeddings, self.recipes, cues)
        urgency = self.urgency_head.predict_proba(inputs[1]) if self.urgency_head else None
        return self.type_head.predict_proba(inputs[0]), urgency


def fit_heads(
    config: ModelConfig,
    texts: list[str],
    embeddings: Floats,
    types: list[str],
    urgencies: list[str] | None,
    seed: int,
    cues: Floats | None = None,
) -> FittedHeads:
    """Both heads on ``texts``; ``cues``: cue-level columns (needed by a recipe with cues)."""
    recipes = [config.recipe("type")] + ([config.recipe("urgency")] if urgencies else [])
    if any(r.cues for r in recipes) and cues is None:
        raise ValueError("a head reads cue features: pass the cue levels of the texts")
    shared = replace(config.features, mode=shared_mode([r.mode for r in recipes]))
    features, _ = fit_features(shared, texts, embeddings)
    inputs = features.head_inputs(texts, embeddings, recipes, cues)
    type_head = fit_head(replace(config.head, c=recipes[0].c), inputs[0], types, seed)
    urgency_head = None
    if urgencies:
        urgency_head = fit_head(replace(config.head, c=recipes[1].c), inputs[1], urgencies, seed)
    return FittedHeads(replace(config, features=shared), features, type_head, urgency_head)
