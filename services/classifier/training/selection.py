"""``triage train`` chooses each head's recipe by cross-validation on the training rows.

Candidates: TF-IDF alone, the embedding alone, both (``FEATURE_MODES``), each with
a small grid of C; for urgency, the best of those also with the cue-lexicon
features, and every candidate decided by argmax or by the ordinal median
(``model/ordinal.py``: no refit, the same probabilities decided differently).
The score is the macro-F1 of out-of-fold predictions (stratified folds).

Kept affordable on 2 cores: the embeddings are computed once, before; the TF-IDF
vocabulary and the embedding mean are fitted once on the selection rows (no
labels involved, so this leaks nothing a fold could use); only the logistic
heads are refitted per fold, uncalibrated (temperature scaling never changes the
argmax); and past ``max_rows`` rows a stratified sample of them is used.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from services.classifier.model.features import (
    FeatureConfig,
    FeatureMode,
    HeadRecipe,
    Matrix,
    with_cues,
)
from services.classifier.model.ordinal import decide, ordinal_order
from services.classifier.training.fitting import fit_features

log = logging.getLogger(__name__)
Floats = npt.NDArray[np.float32]
GRID_C = (1.0, 10.0, 100.0)
FOLDS = 3
MAX_ROWS = 3000
BASELINE_MODE = "tfidf"
# Simplest first: on a tie the first listed wins.
MODES: tuple[FeatureMode, ...] = ("tfidf", "embedding", "concat")


@dataclass(frozen=True)
class Trial:
    recipe: HeadRecipe
    folds: tuple[float, ...]  # macro-F1 per fold

    @property
    def mean(self) -> float:
        return float(np.mean(self.folds))

    @property
    def std(self) -> float:
        return float(np.std(self.folds, ddof=1)) if len(self.folds) > 1 else 0.0

    def row(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.name,
            **asdict(self.recipe),
            "macro_f1": self.mean,
            "std": self.std,
        }


@dataclass(frozen=True)
class Selection:
    head: str
    best: HeadRecipe
    baseline: HeadRecipe  # the best TF-IDF-only recipe, the guard's reference
    noise: float  # std over folds of (best - baseline) macro-F1
    trials: list[Trial]
    rows: int
    folds: int

    def report(self) -> dict[str, Any]:
        return {
            "best": self.best.name,
            "baseline": self.baseline.name,
            "noise": self.noise,
            "rows": self.rows,
            "folds": self.folds,
            "table": [t.row() for t in sorted(self.trials, key=lambda t: -t.mean)],
        }


def best_trial(trials: list[Trial], mode: str | None = None) -> Trial:
    """The highest mean macro-F1 (first listed on ties: simpler recipes are listed first)."""
    pool = [t for t in trials if mode is None or t.recipe.mode == mode]
    return max(pool, key=lambda t: t.mean)


def paired_noise(a: Trial, b: Trial) -> float:
    """Std over folds of the per-fold difference: how much a gap between two recipes
    moves from one sample of rows to another."""
    diff = np.asarray(a.folds) - np.asarray(b.folds)
    return float(np.std(diff, ddof=1)) if len(diff) > 1 else 0.0


def sample_rows(labels: list[str], max_rows: int, seed: int) -> npt.NDArray[np.intp]:
    """All rows, or a stratified sample of ``max_rows`` of them."""
    index = np.arange(len(labels))
    if len(labels) <= max_rows:
        return index
    try:
        kept, _ = train_test_split(index, train_size=max_rows, stratify=labels, random_state=seed)
    except ValueError:  # a label with one row cannot be stratified: plain sample
        kept = np.random.default_rng(seed).choice(index, max_rows, replace=False)
    return np.sort(kept)


def _fold_scores(
    x: Matrix, y: npt.NDArray[np.str_], c: float, folds: StratifiedKFold, seed: int
) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], list[str]]]:
    """(test rows, out-of-fold probabilities, classes) per fold."""
    out = []
    for train, test in folds.split(np.zeros(len(y)), y):
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)
        model.fit(x[train], y[train])
        out.append((test, model.predict_proba(x[test]), [str(k) for k in model.classes_]))
    return out


def _trials(
    recipe: HeadRecipe, x: Matrix, y: npt.NDArray[np.str_], folds: StratifiedKFold, seed: int
) -> list[Trial]:
    """One trial per decision rule the labels allow (ordinal only for ordered levels)."""
    runs = _fold_scores(x, y, recipe.c, folds, seed)
    decisions = ["argmax"] + (["ordinal"] if ordinal_order(runs[0][2]) is not None else [])
    trials = []
    for decision in decisions:
        scores = []
        for test, proba, classes in runs:
            predicted = np.asarray(classes)[decide(proba, classes, decision)]
            scores.append(float(f1_score(y[test], predicted, average="macro", zero_division=0)))
        trials.append(Trial(replace(recipe, decision=decision), tuple(scores)))
    return trials


def select_head(
    head: str,
    texts: list[str],
    embeddings: Floats,
    labels: list[str],
    seed: int,
    cues: Floats | None = None,
    features: FeatureConfig | None = None,
    max_rows: int = MAX_ROWS,
) -> Selection | None:
    """The best recipe for one head, or None when the labels are too few to fold."""
    rows = sample_rows(labels, max_rows, seed)
    y = np.asarray(labels, dtype=np.str_)[rows]
    n_folds = min(FOLDS, int(np.unique(y, return_counts=True)[1].min()))
    if n_folds < 2:
        return None
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    sub_texts, sub_emb = [texts[i] for i in rows], embeddings[rows]
    space, _ = fit_features(replace(features or FeatureConfig(), mode="concat"), sub_texts, sub_emb)
    matrices = space.head_inputs(sub_texts, sub_emb, [HeadRecipe(m) for m in MODES])
    trials: list[Trial] = []
    for mode, x in zip(MODES, matrices, strict=True):
        for c in GRID_C:
            trials += _trials(HeadRecipe(mode, c), x, y, folds, seed)
    if cues is not None:
        top = best_trial(trials).recipe
        x = with_cues(matrices[MODES.index(top.mode)], cues[rows])
        trials += _trials(replace(top, cues=True, decision="argmax"), x, y, folds, seed)
    best, baseline = best_trial(trials), best_trial(trials, BASELINE_MODE)
    log.info(
        "%s head: best %s (macro-F1 %.3f), TF-IDF alone %s (%.3f)",
        head,
        best.recipe.name,
        best.mean,
        baseline.recipe.name,
        baseline.mean,
    )
    return Selection(
        head, best.recipe, baseline.recipe, paired_noise(best, baseline), trials, len(rows), n_folds
    )
