"""Each head's recipe: chosen by cross-validation, then checked on held-out rows.

``selection.py`` ranks the recipes on the training split. The held-out split,
never seen by the ranking, then guards the choice: a head whose chosen recipe
scores below the best TF-IDF-only recipe by more than noise falls back to that
TF-IDF recipe. Noise is the standard deviation over the cross-validation folds
of the per-fold difference between the two recipes (how much their gap moves
from one sample of rows to another).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import f1_score

from services.classifier.model.features import ModelConfig
from services.classifier.model.ordinal import decide
from services.classifier.training.heads import FittedHeads, fit_heads
from services.classifier.training.selection import Selection, select_head

log = logging.getLogger(__name__)
Floats = npt.NDArray[np.float32]
Index = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Rows:
    """The masked texts, their embeddings and labels, with the split."""

    texts: list[str]
    emb: Floats
    labels: dict[str, list[str]]  # head -> labels ("type", and "urgency" when labelled)
    cues: Floats | None  # cue-level columns of every text (urgency), or None
    train: Index
    val: Index

    def fit(self, config: ModelConfig, seed: int) -> FittedHeads:
        rows = self.train
        urgencies = self.labels.get("urgency")
        return fit_heads(
            config,
            [self.texts[i] for i in rows],
            self.emb[rows],
            [self.labels["type"][i] for i in rows],
            None if urgencies is None else [urgencies[i] for i in rows],
            seed,
            None if self.cues is None else self.cues[rows],
        )

    def val_scores(self, heads: FittedHeads) -> dict[str, float]:
        """Held-out macro-F1 per head, labels decided as the head decides them."""
        probas = heads.predict_proba(
            [self.texts[i] for i in self.val],
            self.emb[self.val],
            None if self.cues is None else self.cues[self.val],
        )
        models = (heads.type_head, heads.urgency_head)
        out = {}
        names = rows_heads(heads)
        for head, model, proba, recipe in zip(names, models, probas, heads.recipes, strict=False):
            if proba is None or model is None:
                continue
            classes = [str(c) for c in model.classes_]
            predicted = np.asarray(classes)[decide(proba, classes, recipe.decision)]
            truth = [self.labels[head][i] for i in self.val]
            out[head] = float(f1_score(truth, predicted, average="macro", zero_division=0))
        return out


def rows_heads(heads: FittedHeads) -> list[str]:
    return ["type"] + (["urgency"] if heads.urgency_head is not None else [])


def guard(chosen: float, baseline: float, noise: float) -> bool:
    """Keep the chosen recipe unless it loses to TF-IDF alone by more than noise."""
    return chosen >= baseline - noise


def _select(rows: Rows, config: ModelConfig, seed: int, max_rows: int) -> dict[str, Selection]:
    out = {}
    train = rows.train
    for head, labels in rows.labels.items():
        cues = rows.cues[train] if head == "urgency" and rows.cues is not None else None
        texts = [rows.texts[i] for i in train]
        y = [labels[i] for i in train]
        found = select_head(head, texts, rows.emb[train], y, seed, cues, config.features, max_rows)
        if found is not None:
            out[head] = found
    return out


def choose(
    rows: Rows, config: ModelConfig, seed: int, max_rows: int
) -> tuple[ModelConfig, FittedHeads, dict[str, Any]]:
    """(final config, its heads fitted on the training split, the report)."""
    start = time.perf_counter()
    selections = _select(rows, config, seed, max_rows)
    chosen = replace(config, heads={h: s.best for h, s in selections.items()})
    heads = rows.fit(chosen, seed)
    report: dict[str, Any] = {"heads": {h: s.report() for h, s in selections.items()}}
    if any(s.best != s.baseline for s in selections.values()):
        baseline_cfg = replace(config, heads={h: s.baseline for h, s in selections.items()})
        got, base = rows.val_scores(heads), rows.val_scores(rows.fit(baseline_cfg, seed))
        kept = {}
        for head, s in selections.items():
            keep = guard(got[head], base[head], s.noise)
            kept[head] = s.best if keep else s.baseline
            report["heads"][head]["guard"] = {
                "held_out_macro_f1": got[head],
                "tfidf_held_out_macro_f1": base[head],
                "kept": keep,
            }
            if not keep:
                log.warning("%s head: %s lost to TF-IDF alone on held-out rows; kept TF-IDF",
                            head, s.best.name)  # fmt: skip
        if kept != chosen.heads:
            chosen = replace(config, heads=kept)
            heads = rows.fit(chosen, seed)
    report["seconds"] = time.perf_counter() - start
    return chosen, heads, report
