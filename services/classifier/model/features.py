"""Feature space and head configuration: TF-IDF (word + char n-grams), embeddings, or both.

Measured on real labelled data (docs/benchmarks.md), concatenating TF-IDF with
the sentence embeddings beats either alone by 1-2.5 points within a language,
while the embeddings carry the cross-lingual signal; so "concat" is the default.
The TF-IDF vocabulary is fitted on PII-masked text with ``min_df=2``: a word seen
in a single case (typically a name) never enters the artifact.

Serving only applies the fitted state; fitting it is ``training/fitting.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import sparse

from services.classifier.embedding.base import normalise_rows

FeatureMode = Literal["concat", "embedding", "tfidf"]
FEATURE_MODES: tuple[str, ...] = ("concat", "embedding", "tfidf")
# A scipy CSR matrix or a dense float32 array (scipy ships no type hints).
Matrix: TypeAlias = Any


@dataclass(frozen=True)
class FeatureConfig:
    mode: FeatureMode = "concat"
    # Scale of the (unit-norm) embedding block next to the two unit-norm TF-IDF blocks.
    embedding_weight: float = 1.0
    # Subtract the training mean and renormalise. e5 vectors crowd into a narrow cone
    # (any two texts have cosine ~0.8), so next to TF-IDF their signal is too weak for
    # a regularised head; centred, e5 + TF-IDF gained 2-8 points on the demo corpus.
    center_embeddings: bool = True
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 2
    max_features: int = 200_000

    @property
    def uses_tfidf(self) -> bool:
        return self.mode in ("concat", "tfidf")

    @property
    def uses_embeddings(self) -> bool:
        return self.mode in ("concat", "embedding")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(
            mode=data["mode"],
            embedding_weight=float(data["embedding_weight"]),
            center_embeddings=bool(data.get("center_embeddings", False)),
            word_ngrams=tuple(data["word_ngrams"]),  # type: ignore[arg-type]
            char_ngrams=tuple(data["char_ngrams"]),  # type: ignore[arg-type]
            min_df=int(data["min_df"]),
            max_features=int(data["max_features"]),
        )


@dataclass(frozen=True)
class HeadConfig:
    # C is the inverse regularisation strength of the logistic regression.
    c: float = 10.0
    # Temperature scaling keeps the argmax and fixes over/under-confidence with a
    # single parameter, which a few hundred cases can estimate reliably.
    calibration: Literal["temperature", "sigmoid", "isotonic", "none"] = "temperature"
    calibration_folds: int = 3
    max_iter: int = 2000
    class_weight: str | None = "balanced"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadConfig:
        return cls(**data)


@dataclass(frozen=True)
class ModelConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    head: HeadConfig = field(default_factory=HeadConfig)

    def to_dict(self) -> dict[str, Any]:
        return {"features": self.features.to_dict(), "head": self.head.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(
            features=FeatureConfig.from_dict(data["features"]),
            head=HeadConfig.from_dict(data["head"]),
        )


def combine(
    config: FeatureConfig, tfidf_part: sparse.spmatrix | None, embeddings: npt.NDArray[np.float32]
) -> Matrix:
    """The head input for ``config.mode`` from the TF-IDF block and the embeddings."""
    if config.mode == "embedding":
        return embeddings.astype(np.float32, copy=False)
    if tfidf_part is None:
        raise ValueError("TF-IDF features are required for mode " + config.mode)
    if config.mode == "tfidf":
        return sparse.csr_matrix(tfidf_part)
    dense = sparse.csr_matrix(embeddings.astype(np.float32, copy=False) * config.embedding_weight)
    return sparse.hstack([tfidf_part, dense], format="csr", dtype=np.float32)


def center(
    embeddings: npt.NDArray[np.float32], mean: npt.NDArray[np.float32] | None
) -> npt.NDArray[np.float32]:
    """``embeddings - mean``, rows renormalised to unit length (identity if mean is None)."""
    if mean is None:
        return embeddings
    return normalise_rows(embeddings - mean)


class FeatureSpace:
    """Applies the fitted TF-IDF part and the embedding centring.

    The embeddings themselves come from the embedder; ``tfidf`` (a fitted sklearn
    FeatureUnion) and ``embedding_mean`` are the fitted state, stored in the artifact.
    """

    def __init__(
        self,
        config: FeatureConfig,
        tfidf: Any | None = None,
        embedding_mean: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self.config = config
        self.tfidf = tfidf
        self.embedding_mean = embedding_mean

    def transform(self, texts: list[str], embeddings: npt.NDArray[np.float32]) -> Matrix:
        part = None
        if self.config.uses_tfidf:
            if self.tfidf is None:
                raise ValueError("the TF-IDF vectoriser is not fitted")
            part = self.tfidf.transform(texts)
        centred = self.config.uses_embeddings and self.config.center_embeddings
        if centred and self.embedding_mean is None:
            raise ValueError("the embedding mean is not fitted")
        return combine(self.config, part, center(embeddings, self.embedding_mean))
