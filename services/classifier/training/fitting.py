"""Fitting what the model serves: the TF-IDF vocabulary, the embedding mean, the heads.

Serving only applies the fitted state (``model/features.py``); the fitting lives
here so that the service never imports the training code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from services.classifier.model.features import (
    FeatureConfig,
    FeatureMode,
    FeatureSpace,
    HeadConfig,
    Matrix,
    center,
    combine,
)


def make_tfidf(config: FeatureConfig, n_docs: int) -> FeatureUnion:
    # On tiny corpora min_df=2 could leave an empty vocabulary; 1 is the safe floor.
    min_df = config.min_df if n_docs >= 20 else 1
    common: dict[str, Any] = {
        "sublinear_tf": True,
        "min_df": min_df,
        "max_features": config.max_features,
        "dtype": np.float32,
        "strip_accents": None,
        "lowercase": True,
    }
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=config.word_ngrams, **common)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=config.char_ngrams, **common)),
        ]
    )


def fit_features(
    config: FeatureConfig, texts: list[str], embeddings: npt.NDArray[np.float32]
) -> tuple[FeatureSpace, Matrix]:
    """The fitted feature space for ``texts`` and the head input of those texts."""
    tfidf, part = None, None
    if config.uses_tfidf:
        tfidf = make_tfidf(config, len(texts))
        part = tfidf.fit_transform(texts)
    mean = None
    if config.uses_embeddings and config.center_embeddings:
        mean = embeddings.mean(axis=0).astype(np.float32)
    return FeatureSpace(config, tfidf, mean), combine(config, part, center(embeddings, mean))


def shared_mode(modes: list[str]) -> FeatureMode:
    """The fitted state several heads need: TF-IDF, embedding centring, or both."""
    if all(m == "tfidf" for m in modes):
        return "tfidf"
    if all(m == "embedding" for m in modes):
        return "embedding"
    return "concat"


def make_head(config: HeadConfig, labels: list[str], seed: int) -> Any:
    """A calibrated, class-balanced logistic regression for ``labels``."""
    base = LogisticRegression(
        C=config.c, max_iter=config.max_iter, class_weight=config.class_weight, random_state=seed
    )
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    folds = min(config.calibration_folds, int(counts.min()))
    if config.calibration == "none" or folds < 2:
        return base
    # ensemble=False: one classifier on all rows at prediction time (fast), and the
    # calibrator is fitted on out-of-fold predictions (honest).
    return CalibratedClassifierCV(base, method=config.calibration, cv=folds, ensemble=False)


def fit_head(config: HeadConfig, x: Matrix, labels: list[str], seed: int) -> Any:
    head = make_head(config, labels, seed)
    head.fit(x, np.asarray(labels))
    return head
